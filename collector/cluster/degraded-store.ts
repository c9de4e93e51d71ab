// DegradingAlertStore: the cluster's alert store (PostgreSQL) with a local SQLite behind it.
// While PostgreSQL answers every call goes there and a warm copy is kept locally. When it stops
// answering, calls throw as before (the alerting stage retries) until it has been unreachable
// for cluster.degradedAfter; then evaluation and mail run on the local store: critical mails
// go out marked 縮退運転 / DEGRADED, others are held. When it answers again the local journal
// is reconciled into it (degraded-reconcile.ts) and calls go back to PostgreSQL.

import { AsyncLocalStorage } from 'node:async_hooks'
import type { Logger } from 'pino'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { AuditLog } from '../audit/log.js'
import type { Locale } from '../alerting/mail.js'
import { FencedError, type AlertStore, type IncidentBookApi, type NewMail, type TxOptions } from '../alerting/store-api.js'
import { LocalAlerting } from './degraded-local.js'
import { routedBook } from './degraded-book.js'
import { reconcile } from './degraded-reconcile.js'
import { localeOfMail, markDegraded, type DegradedStatus, type ReconcileResult } from './degraded-status.js'
import { pgMessage, type Pool } from './pg.js'

export interface DegradingOptions {
  /** the cluster's store (PgAlertStore) */
  pg: AlertStore
  /** its pool: reconciliation's own transactions and the probe */
  pool: Pool
  node: string
  /** the data dir: the local store lives in <dataDir>/alerting-local/ */
  dataDir: string
  audit?: AuditLog
  /** cluster.degradedAfter: how long PostgreSQL must be unreachable before alerting runs locally */
  degradedAfterMs: number
  /** how often an unreachable PostgreSQL is tried again (default 1 s) */
  probeMs?: number
  /** how often the warm copy is refreshed while PostgreSQL answers (default 5 s) */
  refreshMs?: number
  now?: () => number
  logger: Logger
  registry?: Registry
  /** a receiver's locale (the mark's language); unknown: the mail's own */
  localeOf?: (receiver: string) => Locale | undefined
  /** PostgreSQL could not be reached at start (the reason): degraded mode begins at once */
  startDegraded?: string
  /** runs before each reconciliation, once PostgreSQL answers (the schema, this node's agent leases); a throw keeps the journal */
  beforeReconcile?: () => Promise<void>
}

/** unreachable: PostgreSQL did not answer (connection, timeout, shutdown) as opposed to refusing a statement. */
export function unreachable (err: unknown): boolean {
  if (err instanceof FencedError) return false
  const e = err as { code?: unknown, message?: unknown }
  const code = typeof e.code === 'string' ? e.code : ''
  if (/^(08|57P0[123]|53300)/.test(code)) return true
  if (/^[0-9A-Z]{5}$/.test(code)) return false
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error|not queryable|Client was closed|ECONNREFUSED/i.test(String(e.message ?? ''))
}

type Mode = 'pg' | 'degraded'
const CRITICAL_KINDS = new Set(['firing', 'repeat', 'escalation', 'resolved'])

export class DegradingAlertStore implements AlertStore {
  readonly backend = 'postgres' as const
  readonly book: IncidentBookApi
  readonly local: LocalAlerting
  private mode: Mode = 'pg'
  private since: number | null = null
  private failingSince: number | null = null
  private lastError: string | undefined
  private sentDegraded = 0
  private droppedTotal = 0
  private lastReconcile: ReconcileResult | null = null
  private probe: NodeJS.Timeout | undefined
  private refresher: NodeJS.Timeout | undefined
  private refreshSoon: NodeJS.Timeout | undefined
  private reconciling: Promise<void> | undefined
  private closed = false
  private reconcileError: string | undefined
  private readonly warnedDrop = new Set<string>()
  /** work that must reach PostgreSQL itself (config maintenance windows), run after reconciliation */
  private afterReconcile: Array<() => Promise<void>> = []
  /** inside one of our transactions: which store it runs on, and the lease that fenced it */
  private readonly ctx = new AsyncLocalStorage<{ on: 'pg' | 'local', fence: string | null }>()
  private readonly now: () => number
  private readonly dropped: Counter | undefined

  constructor (private readonly o: DegradingOptions) {
    this.now = o.now ?? Date.now
    this.local = new LocalAlerting(o.dataDir, o.node, o.audit)
    // A restart in degraded mode: the journal is still here, reconciled once PostgreSQL answers.
    const since = this.local.getState('since')
    if (since !== undefined || this.local.pending()) {
      this.mode = 'degraded'
      this.since = since === undefined ? this.now() : Number(since)
      this.armProbe()
    }
    // Started with PostgreSQL unreachable: degraded at once (no warm copy may exist; how long the database has been gone is unknown).
    if (o.startDegraded !== undefined && this.mode === 'pg') {
      this.mode = 'degraded'
      this.since = this.failingSince = this.now()
      this.lastError = o.startDegraded
      this.local.setState('since', String(this.since))
      this.o.logger.error({ err: o.startDegraded, warmCopy: this.local.hasCopy() }, 'alerting: PostgreSQL unreachable at start: degraded mode (縮退運転) from the start; this collector evaluates alone, mails critical alerts marked [縮退運転], holds the rest, and reconciles when the database answers')
      this.armProbe()
    }
    this.book = routedBook({ pg: () => this.o.pg.book, local: () => this.local.store.book, call: async (p, l) => await this.call(p, l), refuse: what => this.refuse(what), touch: (ids, f) => { this.touch(ids, f) } })
    const r = o.registry
    if (r !== undefined) {
      const g = new Gauge({ name: 'kanshi_alerting_degraded', help: '1 while alerting runs degraded (縮退運転): PostgreSQL unreachable, critical alerts mailed by this collector alone', registers: [r], collect: () => { g.set(this.mode === 'degraded' ? 1 : 0) } })
      const h = new Gauge({ name: 'kanshi_alerting_degraded_held_mails', help: 'non-critical mails held while degraded, sent after reconciliation', registers: [r], collect: () => { h.set(this.local.heldCount()) } })
      this.dropped = new Counter({ name: 'kanshi_alerting_reconcile_dropped_total', help: 'local changes not written at reconciliation: their agent is held by another collector', registers: [r] })
    }
    this.refresher = setInterval(() => { this.refresh() }, o.refreshMs ?? 5000)
    this.refresher.unref()
    if (this.mode === 'pg') this.refresh()
  }

  get degraded (): boolean { return this.mode === 'degraded' }

  /** whenShared: degraded, f runs again on PostgreSQL after reconciliation (what it wrote went to the local store); else nothing. */
  whenShared (f: () => Promise<void>): void {
    if (this.mode === 'degraded') this.afterReconcile.push(f)
  }

  status (): DegradedStatus {
    return {
      degraded: this.mode === 'degraded',
      since: this.since,
      unreachableSince: this.failingSince,
      held: this.local.heldCount(),
      sentDegraded: this.sentDegraded,
      dropped: this.droppedTotal,
      lastReconcile: this.lastReconcile
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.refresher)
    clearTimeout(this.probe)
    clearTimeout(this.refreshSoon)
    await this.reconciling?.catch(() => {})
    await this.local.close()
    await this.o.pg.close()
  }

  // ---- routing ----
  /** call runs one operation on PostgreSQL or, degraded, on the local store (re-checking the mode under the local lock). */
  private async call<T> (onPg: (s: AlertStore) => Promise<T>, onLocal: (s: AlertStore, fence: string | null) => Promise<T>): Promise<T> {
    const c = this.ctx.getStore()
    if (c?.on === 'pg') return await onPg(this.o.pg)
    if (c?.on === 'local') return await onLocal(this.local.store, c.fence)
    if (this.mode === 'pg') return await this.onPg(async () => await onPg(this.o.pg))
    return await this.local.store.tx(async () => {
      if (this.mode === 'pg') return await this.onPg(async () => await onPg(this.o.pg))
      return await this.ctx.run({ on: 'local', fence: null }, async () => await onLocal(this.local.store, null))
    })
  }

  /** onPg runs f against PostgreSQL, noting whether it answered. */
  private async onPg<T> (f: () => Promise<T>): Promise<T> {
    try {
      const r = await f()
      this.answered()
      return r
    } catch (err) {
      this.failed(err)
      throw err
    }
  }

  async tx<T> (fn: (t: AlertStore) => Promise<T>, opts?: TxOptions): Promise<T> {
    const c = this.ctx.getStore()
    if (c !== undefined) return await fn(this) // joined: the outer transaction's store
    const onPg = async (): Promise<T> => {
      const r = await this.onPg(async () => await this.o.pg.tx(async () => await this.ctx.run({ on: 'pg', fence: null }, async () => await fn(this)), opts))
      this.soon()
      return r
    }
    if (this.mode === 'pg') return await onPg()
    return await this.local.store.tx(async () => {
      if (this.mode === 'pg') return await onPg()
      // Alone: no lease can be checked; the fence is kept with each change for reconciliation.
      return await this.ctx.run({ on: 'local', fence: opts?.fence ?? null }, async () => await fn(this))
    })
  }

  // ---- health of the PostgreSQL side ----
  private answered (): void {
    if (this.failingSince !== null && this.mode === 'pg') this.o.logger.info('alerting: PostgreSQL answers again before degraded mode began')
    if (this.mode === 'pg') { this.failingSince = null; this.lastError = undefined }
  }

  private failed (err: unknown): void {
    if (!unreachable(err)) return
    this.lastError = pgMessage(err)
    if (this.failingSince === null) {
      this.failingSince = this.now()
      this.o.logger.warn({ err: this.lastError, degradedAfterMs: this.o.degradedAfterMs }, 'alerting: PostgreSQL unreachable; alerts wait (retried) until degraded mode begins')
    }
    this.armProbe()
    this.maybeDegrade()
  }

  private maybeDegrade (): void {
    if (this.mode !== 'pg' || this.failingSince === null || this.now() - this.failingSince < this.o.degradedAfterMs) return
    this.mode = 'degraded'
    this.since = this.now()
    this.local.setState('since', String(this.since))
    this.o.logger.error({ err: this.lastError, unreachableSince: this.failingSince }, 'alerting: degraded mode (縮退運転): PostgreSQL unreachable; this collector evaluates alone, mails critical alerts marked [縮退運転] and holds the rest until the database returns')
  }

  private armProbe (): void {
    if (this.probe !== undefined || this.closed) return
    this.probe = setTimeout(() => {
      this.probe = undefined
      this.tryAgain().catch(() => {}).finally(() => {
        if (this.mode === 'degraded' || this.failingSince !== null) this.armProbe()
      })
    }, this.o.probeMs ?? 1000)
    this.probe.unref()
  }

  /** tryAgain pings PostgreSQL; degraded and answered: reconcile. */
  private async tryAgain (): Promise<void> {
    try {
      await this.o.pool.query('SELECT 1')
    } catch (err) {
      this.failed(err)
      return
    }
    if (this.mode === 'pg') { this.answered(); return }
    await this.reconcileNow()
  }

  /** reconcileNow writes the journal to PostgreSQL under the local lock (no local write slips in) and goes back to it. */
  async reconcileNow (): Promise<ReconcileResult | undefined> {
    if (this.reconciling !== undefined) { await this.reconciling; return this.lastReconcile ?? undefined }
    let out: ReconcileResult | undefined
    this.reconciling = (async () => { await this.o.beforeReconcile?.() })().then(async () => await this.local.store.tx(async () => {
      if (this.mode !== 'degraded' && !this.local.pending()) return
      const r = await reconcile({
        pool: this.o.pool, node: this.o.node, local: this.local, scope: await this.local.store.scope(), now: this.now(),
        onDropped: (lease, n) => {
          this.dropped?.inc(n)
          if (this.warnedDrop.has(lease)) return
          this.warnedDrop.add(lease)
          this.o.logger.warn({ lease, changes: n }, 'alerting: reconciliation: another collector holds this agent now; what this collector recorded alone for it is dropped')
        }
      })
      this.local.clear()
      this.local.setState('since', null)
      this.reconcileError = undefined
      this.droppedTotal += r.dropped
      this.lastReconcile = r
      out = r
      const was = this.since
      this.mode = 'pg'
      this.since = null
      this.failingSince = null
      this.o.logger.warn({ ...r, degradedSince: was }, 'alerting: PostgreSQL back; degraded mode ended and reconciled')
    })).catch(err => {
      // Once per distinct reason: the probe tries again every second.
      const why = pgMessage(err)
      if (why !== this.reconcileError) this.o.logger.warn({ err: why }, 'alerting: reconciliation did not finish; the local journal is kept and tried again')
      this.reconcileError = why
      throw err
    }).finally(() => { this.reconciling = undefined })
    await this.reconciling
    if (out !== undefined) {
      this.refresh()
      for (const f of this.afterReconcile.splice(0)) f().catch(err => { this.o.logger.warn({ err: pgMessage(err) }, 'alerting: could not record the config\'s maintenance windows in PostgreSQL after reconciliation') })
    }
    return out
  }

  // ---- the warm copy ----
  /** soon refreshes the copy shortly after a change was committed in PostgreSQL. */
  private soon (): void {
    if (this.refreshSoon !== undefined) return
    this.refreshSoon = setTimeout(() => { this.refreshSoon = undefined; this.refresh() }, 200)
    this.refreshSoon.unref()
  }

  private refreshing = false
  private refresh (): void {
    if (this.mode !== 'pg' || this.refreshing || this.closed) return
    this.refreshing = true
    void (async () => {
      try {
        const [open, windows] = await Promise.all([this.o.pg.firing(), this.o.pg.windows()])
        await this.local.store.tx(async () => { if (this.mode === 'pg' && !this.local.pending()) this.local.mirror(open, windows) })
        this.answered()
      } catch (err) {
        this.failed(err)
      } finally {
        this.refreshing = false
      }
    })()
  }

  // ---- degraded writes: journal what changed ----
  private touch (ids: readonly number[], fence: string | null): void { this.local.touch(ids, fence) }

  private refuse (what: string): never {
    throw new Error(`${what} is not possible while alerting runs degraded (縮退運転: PostgreSQL unreachable since ${new Date(this.since ?? this.now()).toISOString()}); try again when the database is back`)
  }

  scope: AlertStore['scope'] = async () => await this.call(async s => await s.scope(), async s => await s.scope())

  loadSeries: AlertStore['loadSeries'] = async agent => {
    // Journal not reconciled yet: the local series are the newest (an agent adopted as the database returns).
    if (this.mode === 'pg' && !this.local.pending()) return await this.call(async s => await s.loadSeries(agent), async s => await s.loadSeries(agent))
    const all = await this.local.store.loadSeries()
    return agent === undefined ? all : all.filter(x => x.agent === agent)
  }

  saveSeries: AlertStore['saveSeries'] = async (list, removed = [], agent) => {
    await this.call(async s => {
      await s.saveSeries(list, removed, agent)
      // The warm copy of this node's series: what evaluation restarts from if the database goes away.
      await this.local.store.saveSeries(list, removed).catch(() => {})
    }, async (s, f) => {
      await s.saveSeries(list, removed, agent)
      this.local.seriesWritten(list, removed, agent, f)
    })
  }

  openIncident: AlertStore['openIncident'] = async i => await this.call(async s => await s.openIncident(i), async (s, f) => {
    const id = await s.openIncident(i)
    this.touch([id], f)
    return id
  })

  openIncidentFor: AlertStore['openIncidentFor'] = async k => await this.call(async s => await s.openIncidentFor(k), async s => await s.openIncidentFor(k))
  resolveIncident: AlertStore['resolveIncident'] = async (id, at, r, v) => { await this.call(async s => { await s.resolveIncident(id, at, r, v) }, async (s, f) => { await s.resolveIncident(id, at, r, v); this.touch([id], f) }) }
  incident: AlertStore['incident'] = async id => await this.call(async s => await s.incident(id), async s => await s.incident(id))
  incidents: AlertStore['incidents'] = async (from, to) => await this.call(async s => await s.incidents(from, to), async s => await s.incidents(from, to))
  firing: AlertStore['firing'] = async () => await this.call(async s => await s.firing(), async s => await s.firing())
  dueResolved: AlertStore['dueResolved'] = async () => await this.call(async s => await s.dueResolved(), async s => await s.dueResolved())
  markQueued: AlertStore['markQueued'] = async (ids, at) => { await this.call(async s => { await s.markQueued(ids, at) }, async (s, f) => { await s.markQueued(ids, at); this.touch(ids, f) }) }
  markResolvedQueued: AlertStore['markResolvedQueued'] = async ids => { await this.call(async s => { await s.markResolvedQueued(ids) }, async (s, f) => { await s.markResolvedQueued(ids); this.touch(ids, f) }) }
  markEscalated: AlertStore['markEscalated'] = async (ids, at) => { await this.call(async s => { await s.markEscalated(ids, at) }, async (s, f) => { await s.markEscalated(ids, at); this.touch(ids, f) }) }
  suppress: AlertStore['suppress'] = async (id, by) => { await this.call(async s => { await s.suppress(id, by) }, async (s, f) => { await s.suppress(id, by); this.touch([id], f) }) }
  release: AlertStore['release'] = async id => { await this.call(async s => { await s.release(id) }, async (s, f) => { await s.release(id); this.touch([id], f) }) }
  lastResolvedAt: AlertStore['lastResolvedAt'] = async (h, r) => await this.call(async s => await s.lastResolvedAt(h, r), async s => await s.lastResolvedAt(h, r))
  setTexts: AlertStore['setTexts'] = async (id, t) => { await this.call(async s => { await s.setTexts(id, t) }, async (s, f) => { await s.setTexts(id, t); this.touch([id], f) }) }
  ack: AlertStore['ack'] = async (id, by, at) => await this.call(async s => await s.ack(id, by, at), async (s, f) => { const r = await s.ack(id, by, at); this.touch([id], f); return r })

  /** enqueue, degraded: a mail about a critical incident goes out marked 縮退運転; any other is held until reconciliation. */
  enqueue: AlertStore['enqueue'] = async m => await this.call(async s => await s.enqueue(m), async (s, f) => {
    if (await this.critical(s, m)) {
      const locale = localeOfMail(m.text, this.o.localeOf?.(m.receiver))
      this.sentDegraded++
      return await s.enqueue({ ...m, ...markDegraded(m, locale, this.o.node) })
    }
    return -this.local.hold(m, f)
  })

  private async critical (s: AlertStore, m: NewMail): Promise<boolean> {
    if (!CRITICAL_KINDS.has(m.kind)) return false
    for (const id of m.incident_ids) if ((await s.incident(id))?.severity === 'critical') return true
    return false
  }

  dueMail: AlertStore['dueMail'] = async (now, limit) => await this.call(async s => await s.dueMail(now, limit), async s => await s.dueMail(now, limit))
  lastMailOf: AlertStore['lastMailOf'] = async k => await this.call(async s => await s.lastMailOf(k), async s => await s.lastMailOf(k))
  pendingMail: AlertStore['pendingMail'] = async () => await this.call(async s => await s.pendingMail(), async s => await s.pendingMail())
  mailSent: AlertStore['mailSent'] = async (m, at) => {
    await this.call(async s => { await s.mailSent(m, at) }, async (s, f) => { await s.mailSent(m, at); this.touch(m.incident_ids, f) })
  }

  mailFailed: AlertStore['mailFailed'] = async (id, e, at) => { await this.call(async s => { await s.mailFailed(id, e, at) }, async s => { await s.mailFailed(id, e, at) }) }
  reportDone: AlertStore['reportDone'] = async k => await this.call(async s => await s.reportDone(k), async () => this.refuse('a scheduled report'))
  setReportDone: AlertStore['setReportDone'] = async (k, p, at) => { await this.call(async s => { await s.setReportDone(k, p, at) }, async () => this.refuse('a scheduled report')) }
  // Degraded: the config's maintenance windows are kept locally (they mute here); createAlerting records them in PostgreSQL after reconciliation (whenShared).
  addWindow: AlertStore['addWindow'] = async (w, at) => await this.call(async s => await s.addWindow(w, at), async s => w.created_by === 'config' ? await s.addWindow(w, at) : this.refuse('adding a silence or maintenance window'))
  deleteWindow: AlertStore['deleteWindow'] = async (id, at) => await this.call(async s => await s.deleteWindow(id, at), async () => this.refuse('deleting a silence or maintenance window'))
  windows: AlertStore['windows'] = async (k, d) => await this.call(async s => await s.windows(k, d), async s => await s.windows(k, d))
  // The audit log is this collector's own file either way.
  audit: AlertStore['audit'] = async (actor, action, detail, at) => { await this.o.pg.audit(actor, action, detail, at) }
  auditLog: AlertStore['auditLog'] = async limit => await this.o.pg.auditLog(limit)
}
