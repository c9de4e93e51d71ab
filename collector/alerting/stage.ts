// The alerting stage: reads the WAL as records become durable, feeds the
// evaluator, records incidents (muted ones too, for the SLA report), writes
// `alert` points back through the WAL for Grafana, and drives the notifier.

import type { Logger } from 'pino'
import { WalConsumer, type Position, type Wal, type WalReader, type WalRecord } from '../state/wal/index.js'
import { encodeEntry, recordEntry } from '../state/entry.js'
import type { Evaluator, Series, Transition } from './evaluator.js'
import { render, type Rule } from './rules.js'
import type { AlertStore } from './store.js'
import { FencedError } from './store-api.js'
import { backoffDelay } from '../../common/backoff.js'
import { mutedBy } from './silences.js'
import type { BusinessCalendar } from '../../common/calendar.js'
import type { Notifier } from './notify/notifier.js'
import { systemsOf, type SystemConfig } from '../config/systems.js'

/** a firing mail quotes this many of a log rule's matched lines */
const MAIL_LINES = 5

export interface StageOptions {
  wal: Wal
  reader: WalReader
  store: AlertStore
  evaluator: Evaluator
  notifier: Notifier
  calendar: BusinessCalendar
  logger: Logger
  tickMs?: number
  now: () => number
  onTransition?: (t: Transition) => void
  /** where the first lines (MAIL_LINES) of log-rule incidents are kept for the mails */
  lines?: Map<number, string[]>
  /** business systems (config systems:): an incident records the ones its alert belongs to */
  systems?: readonly SystemConfig[]
  /** alerts on one system within this of a 障害's first detection join it (0: never) */
  mergeWindowMs?: number
  /** cluster: the lease that fences an agent's writes (agent:<id>); unset: nothing is fenced */
  fenceOf?: (agent: string) => string | undefined
  /** cluster: a write refused because this node does not (yet) hold the agent's lease */
  onFenced?: (lease: string) => void
  /** dependsOn names what suppresses a new incident because its parent is down ("parent:<name>") */
  dependsOn?: (host: string, labels: Record<string, string>) => Promise<string | undefined>
  /** least time between two cursor commits while the records read change no stored state (default 1 s) */
  commitEveryMs?: number
}

export class AlertingStage {
  private stopped = false
  private readonly consumer: WalConsumer
  private loop: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private readonly now: () => number
  private readonly dirty = new Set<string>()
  /** the agent of each dirty series, so a removal is fenced like a change */
  private readonly agentOf = new Map<string, string>()
  /** agents whose refused (fenced) writes were logged, once until they are adopted again */
  private readonly warned = new Set<string>()
  /** cluster: agents whose series state was loaded here since their lease was taken (only these are written) */
  private readonly adopted = new Set<string>()
  /** cluster: how many times each agent's series state was loaded; a write computed from the memory before the last load is stale */
  private readonly loads = new Map<string, number>()
  /** log lines of firing log-rule series, by incident id, for the mails */
  readonly lines: Map<number, string[]>

  constructor (private readonly o: StageOptions) {
    this.now = o.now
    this.lines = o.lines ?? new Map()
    this.consumer = new WalConsumer(o.wal, o.reader)
  }

  /** load restores the series state (pending `for` timers, firing series) from the store, all or one agent's; call it before start. */
  async load (agent?: string): Promise<void> {
    this.o.evaluator.restore(await this.o.store.loadSeries(agent))
  }

  start (): void {
    this.loop = this.run().catch(err => this.o.logger.fatal({ err }, 'alerting stage stopped on an unexpected error'))
    this.timer = setInterval(() => { this.tickSafe() }, this.o.tickMs ?? 1000)
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.consumer.stop()
    if (this.timer !== undefined) clearInterval(this.timer)
    if (this.soon !== undefined) clearImmediate(this.soon)
    await this.loop
    await this.persist().catch(err => this.o.logger.error({ err }, 'alerting: series state not saved at stop; pending timers start again'))
    await this.commitOwed().catch(err => this.o.logger.error({ err }, 'alerting: cursor not saved at stop; the last records are evaluated again at start'))
  }

  private async run (): Promise<void> {
    await this.consumer.run({ idleMs: 500, records: async recs => await this.take(recs), idle: async () => { await this.commitOwed() } })
  }

  private async take (recs: WalRecord[]): Promise<void> {
    this.taking = true
    try {
      await this.takeNow(recs)
    } finally {
      this.taking = false
    }
  }

  private async takeNow (recs: WalRecord[]): Promise<void> {
    const now = this.now()
    for (const rec of recs) {
      const e = recordEntry(rec)
      // A batch resent after a failover was seen by the collector that acked it first: storage only.
      if (e.resend === true) continue
      const tr = this.o.evaluator.observePoints(e.p, now)
      if (e.c !== undefined) this.o.evaluator.observeCols(e.c, now, tr)
      await this.apply(by(e.a, tr))
      if (e.e !== undefined && e.e.length > 0) await this.apply(by(e.a, this.o.evaluator.observeEvents(e.e, now)))
    }
    await this.persist()
    await this.commitAfter(recs[recs.length - 1]!.end)
  }

  /** the position read and handed on but not yet committed, and when the last commit began (performance.now()) */
  private owed: Position | undefined
  private lastCommit = -Infinity
  /** the store took a write (series state, an incident) since the last commit that covered every record handed on */
  private stateWritten = false
  /** a take() is under way: a commit now (from a tick) is behind records whose effects may be stored */
  private taking = false
  private committing: Promise<void> | undefined

  /**
   * commitAfter moves the cursor past records handed on. A commit is a file write, an fsync and a
   * rename: once per read it held ingest up through flow control (BENCHMARKS.md section 2, third
   * pass). While the records changed no stored state it waits (commitEveryMs, or until idle): a
   * replay after a crash then evaluates again only records that came after every stored state, as
   * if they had come after the restart. Once the store was written, the cursor follows at once, so
   * a replay never brings older points onto a newer stored state.
   */
  private async commitAfter (end: Position): Promise<void> {
    this.owed = end
    // A WAL past a quarter of its bound is kept by the slowest cursor: then this one follows every read,
    // or a small bound fills behind it and ingest is refused (E_WAL_FULL) while a second goes by.
    const pressed = this.o.wal.totalBytes * 4 > this.o.wal.maxTotalBytes
    if (this.stateWritten || pressed || performance.now() - this.lastCommit >= (this.o.commitEveryMs ?? 1000)) await this.commitOwed(true)
  }

  /**
   * commitOwed commits the owed position (one commit at a time; a later one waits for the one under way).
   * all: the position covers every record handed on (not a tick's commit while a take() is under way).
   */
  private async commitOwed (all = !this.taking): Promise<void> {
    while (this.committing !== undefined) await this.committing
    const pos = this.owed
    if (pos === undefined) return
    this.owed = undefined
    if (all) this.stateWritten = false
    this.lastCommit = performance.now()
    this.committing = this.o.reader.commit(pos).finally(() => { this.committing = undefined })
    try {
      await this.committing
    } catch (err) {
      this.owed ??= pos
      this.stateWritten = true
      throw err
    }
  }

  /** tick moves time on: `for` durations, absences, log windows, then plans and sends mail. */
  async tick (): Promise<void> {
    const now = this.now()
    await this.apply(this.o.evaluator.tick(now))
    await this.persist()
    // Stored state now reflects every record handed on: the cursor follows (see commitAfter).
    if (this.stateWritten) await this.commitOwed()
    await this.o.notifier.plan(now)
    await this.o.notifier.deliver(now)
  }

  private ticking = false
  private tickErrors = 0

  /** tickSafe runs a tick from a timer (one at a time): a store error is logged (the first, then every 60th) and the next tick tries again. */
  private tickSafe (): void {
    if (this.ticking) return
    this.ticking = true
    this.tick().then(() => { this.tickErrors = 0 }, err => {
      if (this.tickErrors++ % 60 === 0) this.o.logger.error({ err, failures: this.tickErrors }, 'alerting tick failed; the next tick tries again')
    }).finally(() => { this.ticking = false })
  }

  private failing = 0

  /** retrying runs a store write until it is taken: with the store down alerting waits, in order, and drops nothing. A fenced refusal or a stop ends it. */
  private async retrying (f: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await f()
        if (this.failing > 0) this.o.logger.warn({ failures: this.failing }, 'alerting: the store takes writes again')
        this.failing = 0
        return
      } catch (err) {
        if (err instanceof FencedError || this.stopped) throw err
        if (this.failing++ === 0) this.o.logger.error({ err }, 'alerting: the store refused a write; alerting waits and retries it (nothing is dropped)')
        await new Promise(resolve => setTimeout(resolve, backoffDelay({ minMs: 250, maxMs: 10_000 }, attempt)))
      }
    }
  }

  private soon: NodeJS.Immediate | undefined
  /** store writes in the order the evaluator made them (apply, persist) */
  private chain: Promise<void> = Promise.resolve()

  private serial (f: () => Promise<void>): Promise<void> {
    const run = this.chain.then(async () => { await this.retrying(f) })
    this.chain = run.catch(() => {})
    return run
  }

  /** apply records transitions (incidents opened and resolved) in the store, in order; it throws the store's error. */
  async apply (transitions: Transition[]): Promise<void> {
    if (transitions.length === 0) return
    // A firing or resolved alert is planned and sent now, not at the next tick (group_wait still applies).
    if (!this.stopped && this.soon === undefined && transitions.some(t => t.kind === 'firing' || t.kind === 'resolved')) {
      this.soon = setImmediate(() => {
        this.soon = undefined
        this.tickSafe()
      })
    }
    for (const t of transitions) {
      this.dirty.add(t.series.key)
      this.agentOf.set(t.series.key, t.series.agent ?? '')
      this.o.onTransition?.(t)
    }
    // Snapshots: the evaluator goes on changing its series while the write waits its turn.
    const groups = new Map<string, Transition[]>()
    for (const t of transitions) {
      if (t.kind !== 'firing' && t.kind !== 'resolved') continue
      const a = t.series.agent ?? ''
      groups.set(a, [...groups.get(a) ?? [], { ...t, series: structuredClone(t.series) }])
    }
    if (groups.size > 0) this.stateWritten = true
    // Read before any wait: a load between two agents' writes must still find the second one stale.
    const loads = new Map([...groups.keys()].map(a => [a, this.loads.get(a)]))
    for (const [agent, snap] of groups) {
      const load = loads.get(agent)
      await this.serial(async () => {
        await this.fenced(agent, load, async () => {
          await this.o.store.tx(async store => {
            for (const t of snap) {
              if (t.kind === 'firing') await this.fire(store, t)
              else await this.resolve(store, t)
            }
          }, this.txOptions(agent))
        })
      })
    }
  }

  private txOptions (agent: string): { fence?: string } {
    const fence = agent === '' ? undefined : this.o.fenceOf?.(agent)
    return fence === undefined ? {} : { fence }
  }

  /**
   * fenced runs an agent's write; refused (the agent moved to a peer) it is dropped here and logged once: the holder records it.
   * load: the agent's load count when the write was computed (from the evaluator's memory at that time).
   */
  private async fenced (agent: string, load: number | undefined, f: () => Promise<void>): Promise<void> {
    try {
      const lease = agent === '' ? undefined : this.o.fenceOf?.(agent)
      // Not adopted yet, or computed from the memory a load has since replaced: written after the load, the record (an
      // incident opened, a series row) and the memory would part ways (an open incident nothing resolves).
      if (lease !== undefined && (!this.adopted.has(agent) || load !== this.loads.get(agent))) {
        this.o.onFenced?.(lease)
        throw new FencedError(lease)
      }
      await f()
    } catch (err) {
      if (!(err instanceof FencedError)) throw err
      if (this.warned.has(agent)) return
      this.warned.add(agent)
      this.o.logger.warn({ agent, lease: err.lease }, 'alerting: write refused, this collector does not hold the agent (kanshi_alert_fenced_total); the collector that does records its alerts')
    }
  }

  /** adopt loads an agent's series state (pending `for` timers, firing series) from the store: its lease was just taken here. */
  async adopt (agent: string): Promise<number> {
    let n = 0
    this.adopted.delete(agent)
    await this.serial(async () => {
      const list = await this.o.store.loadSeries(agent)
      // The record replaces this node's memory of the agent: series it lacks start afresh from the next points.
      const recorded = new Set(list.map(s => s.key))
      for (const [k, s] of this.o.evaluator.series) if (s.agent === agent && !recorded.has(k)) this.o.evaluator.series.delete(k)
      this.o.evaluator.restore(list)
      this.loads.set(agent, (this.loads.get(agent) ?? 0) + 1)
      this.warned.delete(agent)
      this.adopted.add(agent)
      n = list.length
    })
    this.o.logger.info({ agent, series: n }, 'alerting: agent taken over here; its series state loaded')
    return n
  }

  private async fire (store: AlertStore, t: Transition): Promise<void> {
    const { series: s, rule } = t
    if (await store.openIncidentFor(s.key) !== undefined) return // already recorded (replay after a restart)
    const windows = await store.windows()
    const muted = mutedBy(windows, { ...s.labels, severity: rule.severity }, rule.name, t.at, this.o.calendar) ?? await this.o.dependsOn?.(s.labels['host'] ?? '', s.labels)
    const summary = summaryOf(rule, withText(s), s.value, 'ja')
    const labels = { ...s.labels, ...rule.labels }
    const systems = systemsOf(this.o.systems ?? [], labels['host'] ?? '', labels, labels['service'])
    const detectedAt = s.since || t.at
    const into = await store.book.mergeTarget(systems, detectedAt, this.o.mergeWindowMs ?? 0, muted ?? null)
    const id = await store.openIncident({
      rule: rule.name, severity: rule.severity, host: s.labels['host'] ?? '', labels,
      summary, summary_en: summaryOf(rule, withText(s), s.value, 'en'),
      description: summaryOf(rule, withText(s), s.value, 'ja', 'description'), description_en: summaryOf(rule, withText(s), s.value, 'en', 'description'),
      value: s.value, threshold: Number.isNaN(rule.threshold) ? (Number.isNaN(rule.limit) ? null : rule.limit) : rule.threshold,
      detected_at: detectedAt, suppressed_by: muted ?? null, series_key: s.key, systems, merged_into: into?.id ?? null, matched_lines: s.lines
    })
    // The mail quotes the first few; the 障害報告書 reads the stored ones.
    if (s.lines.length > 0) this.lines.set(id, s.lines.slice(0, MAIL_LINES))
    this.o.logger.warn({ incident: id, rule: rule.name, host: s.labels['host'], value: s.value, muted, systems, mergedInto: into?.id }, muted === undefined ? 'alert firing' : `alert firing (muted by ${muted})`)
    this.writePoint(rule, s.labels, 'firing', s.value, t.at, summary)
  }

  private async resolve (store: AlertStore, t: Transition): Promise<void> {
    const inc = await store.openIncidentFor(t.series.key)
    if (inc === undefined) return
    await store.resolveIncident(inc.id, t.at, t.reason ?? null, t.series.value)
    this.lines.delete(inc.id)
    this.o.logger.info({ incident: inc.id, rule: t.rule.name, host: inc.host, reason: t.reason }, 'alert resolved')
    this.writePoint(t.rule, t.series.labels, 'resolved', t.series.value, t.at, inc.summary, Math.round((t.at - inc.detected_at) / 1000))
  }

  /** writePoint records the change as an `alert` point through the WAL, so it reaches InfluxDB like any data. */
  private writePoint (rule: Rule, labels: Record<string, string>, state: 'firing' | 'resolved', value: number, t: number, summary: string, durationS?: number): void {
    const threshold = Number.isNaN(rule.threshold) ? rule.limit : rule.threshold
    // active: 1 while firing, 0 once resolved, so "last(active) per rule and host" lists what is firing now
    const f: Record<string, number | string> = { summary, active: state === 'firing' ? 1 : 0 }
    if (durationS !== undefined) f['duration_s'] = durationS
    if (Number.isFinite(value)) f['value'] = value
    if (Number.isFinite(threshold)) f['threshold'] = threshold
    const tags = { host: labels['host'] ?? '', role: labels['role'] ?? '', site: labels['site'] ?? '', rule: rule.name, severity: rule.severity, state }
    this.o.wal.append(encodeEntry({ a: '', s: 0, r: t, p: [{ m: 'alert', t, tags, f }] })).catch(err => {
      this.o.logger.error({ err }, 'could not record the alert point')
    })
  }

  private async persist (): Promise<void> {
    if (this.dirty.size === 0) return
    // By agent: each agent's series are written fenced by its lease (cluster).
    const groups = new Map<string, { keep: Series[], removed: string[] }>()
    for (const k of this.dirty) {
      const s = this.o.evaluator.series.get(k)
      const agent = s?.agent ?? this.agentOf.get(k) ?? ''
      const g = groups.get(agent) ?? { keep: [], removed: [] }
      groups.set(agent, g)
      // Copies: the evaluator goes on changing its series while the write waits its turn.
      if (s === undefined) g.removed.push(k)
      else g.keep.push(structuredClone(s))
    }
    this.dirty.clear()
    this.agentOf.clear()
    this.stateWritten = true
    const loads = new Map([...groups.keys()].map(a => [a, this.loads.get(a)]))
    for (const [agent, g] of groups) {
      const load = loads.get(agent)
      await this.serial(async () => {
        await this.fenced(agent, load, async () => {
          await this.o.store.tx(async store => { await store.saveSeries(g.keep, g.removed, agent === '' ? undefined : agent) }, this.txOptions(agent))
        })
      }).catch(err => {
        for (const k of [...g.keep.map(s => s.key), ...g.removed]) { this.dirty.add(k); this.agentOf.set(k, agent) }
        throw err
      })
    }
  }
}

/** by marks transitions with the agent whose data made them ('' for the collector's own points). */
function by (agent: string, ts: Transition[]): Transition[] {
  for (const t of ts) t.series.agent = agent
  return ts
}

/** withText adds the point's message (a plugin's output) to the labels a summary can name: {{message}}. */
function withText (s: { labels: Record<string, string>, text?: string }): Record<string, string> {
  return s.text === undefined ? s.labels : { message: s.text, ...s.labels }
}

/** summaryOf renders a rule's summary for a series in a locale. */
function summaryOf (rule: Rule, labels: Record<string, string>, value: number, locale: 'ja' | 'en', which: 'summary' | 'description' = 'summary'): string {
  const v = Number.isFinite(value) ? (Number.isInteger(value) ? value : Math.round(value * 100) / 100) : '-'
  return render(rule[which][locale], {
    ...labels, value: v, threshold: Number.isNaN(rule.threshold) ? undefined : rule.threshold, op: rule.op,
    metric: `${rule.measurement}.${rule.field}`, limit: Number.isNaN(rule.limit) ? undefined : rule.limit,
    horizon: rule.horizonMs > 0 ? `${Math.round(rule.horizonMs / 86_400_000)}d` : undefined, rule: rule.name
  })
}
