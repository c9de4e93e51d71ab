// The job tracker: learns runs of the configured jobs from the WAL (the agent's
// `service` points with check=job: a start with running=1, an end with
// exit_code), and on its clock writes `job` points (missed, overrun) back
// through the WAL at the deadline and past maxDuration, so the default rules
// job_missed / job_overrun raise and resolve them through the incident chain.

import type { Logger } from 'pino'
import type { Point } from '../../protocol/messages.js'
import { WalConsumer, type Wal, type WalReader, type WalRecord } from '../state/wal/index.js'
import { encodeEntry, recordEntry } from '../state/entry.js'
import { fromColumns } from '../../protocol/columns.js'
import type { BusinessCalendar, LocalTime } from '../../common/calendar.js'
import type { ScheduleSpec } from '../calendar/schedules.js'
import type { JobConfig } from './config.js'
import { dueTimes, jobDays, runFor } from './expected.js'
import { JobStore } from './store.js'

export interface JobTrackerOptions {
  wal: Wal
  reader: WalReader
  dataDir: string
  jobs: readonly JobConfig[]
  calendar: BusinessCalendar
  schedules?: readonly ScheduleSpec[]
  /** role and site of each agent, for the tags of the job points */
  agents: ReadonlyArray<{ id: string, role: string, site: string }>
  now: () => number
  logger: Logger
  tickMs?: number
}

const DAY = 86_400_000

/** formatDuration writes ms as the config would: 3h, 90m, 45s. */
export function formatDuration (ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0) return `${ms / 60_000}m`
  return `${Math.round(ms / 1000)}s`
}

export class JobTracker {
  readonly store: JobStore
  private readonly consumer: WalConsumer
  private readonly days = new Map<JobConfig, (l: LocalTime) => boolean>()
  private readonly byKey = new Map<string, JobConfig>()
  private loop: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  /** one step at a time: WAL records and clock ticks both change state and write points */
  private chain: Promise<void> = Promise.resolve()

  constructor (private readonly o: JobTrackerOptions) {
    this.store = new JobStore(o.dataDir)
    this.consumer = new WalConsumer(o.wal, o.reader)
    for (const j of o.jobs) {
      this.days.set(j, jobDays(j.schedule, o.calendar, o.schedules))
      this.byKey.set(`${j.host}\u0000${j.name}`, j)
      this.store.state(j.name, j.host, o.now())
    }
  }

  start (): void {
    this.loop = this.consumer.run({ idleMs: 500, records: async recs => await this.serial(async () => await this.take(recs)) })
      .catch(err => this.o.logger.fatal({ err }, 'job tracker stopped on an unexpected error'))
    this.timer = setInterval(() => { void this.tick() }, this.o.tickMs ?? 1000)
  }

  async stop (): Promise<void> {
    this.consumer.stop()
    if (this.timer !== undefined) clearInterval(this.timer)
    await this.loop
    await this.chain
    this.store.close()
  }

  /** tick records the runs that fell due and writes the flags that changed. */
  async tick (): Promise<void> {
    await this.serial(async () => await this.evaluate(this.o.now()))
  }

  private async serial (fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(fn)
    this.chain = next.catch(err => this.o.logger.error({ err }, 'job tracker step failed'))
    await next
  }

  private dues (j: JobConfig, from: number, to: number): number[] {
    return dueTimes(j, this.days.get(j)!, this.o.calendar.timezone, from, to)
  }

  private async take (recs: WalRecord[]): Promise<void> {
    for (const rec of recs) {
      const e = recordEntry(rec)
      for (const p of e.p) if (p.m === 'service' && p.tags?.['check'] === 'job') this.observe(p)
      // Columns (protocol 3): only a job's series become points.
      if (e.c !== undefined) for (const c of e.c) if (c.m === 'service' && c.tags?.['check'] === 'job') for (const p of fromColumns([c])) this.observe(p)
    }
    // The runs are recorded; a failure to write the job point (a full WAL) is retried by the next tick.
    await this.evaluate(this.o.now()).catch(err => this.o.logger.error({ err }, 'could not write the job state; retrying on the next tick'))
    await this.o.reader.commit(recs[recs.length - 1]!.end)
  }

  /** observe takes one run report: a start (running=1) or an end (exit_code). */
  private observe (p: Point): void {
    const j = this.byKey.get(`${p.tags?.['host'] ?? ''}\u0000${p.tags?.['service'] ?? ''}`)
    if (j === undefined) return
    const now = this.o.now()
    const s = this.store.state(j.name, j.host, now)
    const startedMs = typeof p.f['started_ms'] === 'number' ? p.f['started_ms'] : undefined
    const exit = p.f['exit_code']
    if (typeof exit !== 'number') {
      if (p.f['running'] === 1) { s.running_since = startedMs ?? p.t; this.store.setState(s) }
      return
    }
    const started = startedMs ?? p.t - Number(p.f['duration_s'] ?? 0) * 1000
    if (s.running_since !== null && s.running_since <= started) s.running_since = null
    this.store.setState(s)
    const due = runFor(started, this.dues(j, started - 8 * DAY, started + 8 * DAY), d => this.store.succeeded(j.name, j.host, d))
    if (due !== undefined) this.store.finish(j.name, j.host, due, started, p.t, exit)
  }

  private cleared = false

  /** clear writes missed=0 overrun=0 under a series' old tags, so an alert on it resolves. */
  private async clear (tagsJson: string, t: number): Promise<void> {
    const tags = JSON.parse(tagsJson) as Record<string, string>
    await this.o.wal.append(encodeEntry({ a: '', s: 0, r: t, p: [{ m: 'job', t, tags, f: { missed: 0, overrun: 0 } }] }))
  }

  private async evaluate (now: number): Promise<void> {
    if (!this.cleared) {
      // Jobs removed from the config: what they left firing resolves.
      for (const s of this.store.states()) {
        if (this.byKey.has(`${s.host}\u0000${s.job}`)) continue
        if (s.tags !== null && s.missed + s.overrun > 0) await this.clear(s.tags, now)
        this.store.forget(s.job, s.host)
      }
      this.cleared = true
    }
    for (const j of this.o.jobs) {
      const s = this.store.state(j.name, j.host, now)
      const tags = JSON.stringify(this.tagsOf(j))
      if (s.tags !== null && s.tags !== tags) {
        // The deadline or maxDuration changed: the old series resolves, the new one starts from the current state.
        if (s.missed + s.overrun > 0) await this.clear(s.tags, now)
        s.missed = 0
        s.overrun = 0
        s.tags = null
        // Runs that succeeded early for a due time not yet judged (after the last evaluation) count against the new deadline.
        for (const r of this.store.takeFuture(j.name, j.host, s.planned_to)) {
          const due = runFor(r.started_at ?? r.due_at, this.dues(j, now - 8 * DAY, now + 8 * DAY), d => this.store.succeeded(j.name, j.host, d))
          if (due !== undefined) this.store.finish(j.name, j.host, due, r.started_at ?? r.due_at, r.finished_at ?? now, r.exit_code ?? 0)
        }
      }
      if (now > s.planned_to) {
        // Jobs down for longer than 40 days are planned from 40 days back: enough for the monthly report.
        this.store.expect(j.name, j.host, this.dues(j, Math.max(s.planned_to, now - 40 * DAY), now))
        s.planned_to = now
      }
      const latest = this.store.latestDue(j.name, j.host, now)
      const missed = latest !== undefined && latest.ok === 0 ? 1 : 0
      const overrun = j.maxDuration !== undefined && s.running_since !== null && now - s.running_since > j.maxDuration ? 1 : 0
      if (missed !== s.missed || overrun !== s.overrun) {
        await this.write(j, now, missed, overrun, latest?.due_at, s.running_since)
        this.o.logger[missed + overrun > 0 ? 'warn' : 'info']({ job: j.name, host: j.host, missed, overrun }, 'job state changed')
        s.missed = missed
        s.overrun = overrun
      }
      s.tags = tags
      this.store.setState(s)
    }
  }

  /** write appends the job's state as a `job` point: durable before the flags are recorded. */
  private tagsOf (j: JobConfig): Record<string, string> {
    const a = this.o.agents.find(x => x.id === j.host)
    const tags: Record<string, string> = { host: j.host, role: a?.role ?? '', site: a?.site ?? '', job: j.name, deadline: j.deadline }
    if (j.maxDuration !== undefined) tags['max_duration'] = formatDuration(j.maxDuration)
    return tags
  }

  private async write (j: JobConfig, t: number, missed: number, overrun: number, due: number | undefined, running: number | null): Promise<void> {
    const tags = this.tagsOf(j)
    const f: Record<string, number> = { missed, overrun }
    if (due !== undefined) f['due_ms'] = due
    if (running !== null) f['running_s'] = Math.round((t - running) / 1000)
    await this.o.wal.append(encodeEntry({ a: '', s: 0, r: t, p: [{ m: 'job', t, tags, f }] }))
  }
}
