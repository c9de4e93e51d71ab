// AlertStore on SQLite (one collector): the synchronous SqliteAlertDb behind promises.
// tx holds a lock from BEGIN to COMMIT, so a caller outside the transaction waits for it
// instead of writing into it (its rows would go with a rollback); calls made inside the
// transaction's async context (AsyncLocalStorage) join it, however deep.

import { AsyncLocalStorage } from 'node:async_hooks'
import type { AuditLog } from '../audit/log.js'
import { SqliteAlertDb } from './store.js'
import type { AlertStore, IncidentBookApi, TxOptions } from './store-api.js'

/** Lock is a FIFO mutex: tx takes it; plain calls wait while it is held. */
class Lock {
  private tail: Promise<void> = Promise.resolve()
  held = false

  async acquire (): Promise<() => void> {
    const prev = this.tail
    let free!: () => void
    this.tail = new Promise(resolve => { free = resolve })
    await prev
    this.held = true
    return () => { this.held = false; free() }
  }

  /** idle resolves once no tx holds the lock (and none queued before this call) */
  async idle (): Promise<void> {
    while (this.held) await this.tail
  }
}

export class SqliteAlertStore implements AlertStore {
  readonly backend = 'sqlite' as const
  readonly book: IncidentBookApi
  readonly db: SqliteAlertDb
  private readonly lock = new Lock()
  /** the open transaction of the current async context, if any */
  private readonly inTx = new AsyncLocalStorage<{ open: boolean }>()

  /** audit is the collector's audit log; without one (tests, the report) the store opens dir/audit.db itself. */
  constructor (dir: string, audit?: AuditLog) {
    this.db = new SqliteAlertDb(dir, audit)
    const b = this.db.book
    this.book = {
      get: async id => await this.run(() => b.get(id)),
      primaryOf: async id => await this.run(() => b.primaryOf(id)),
      members: async p => await this.run(() => b.members(p)),
      mergeTarget: async (s, at, w, by) => await this.run(() => b.mergeTarget(s, at, w, by)),
      addSystems: async (p, s) => { await this.run(() => { b.addSystems(p, s) }) },
      merge: async (id, into) => await this.run(() => b.merge(id, into)),
      split: async id => await this.run(() => b.split(id)),
      update: async (id, c) => await this.run(() => b.update(id, c)),
      addNotice: async (p, n) => await this.run(() => b.addNotice(p, n)),
      changeNotice: async (p, n, c, by, at) => await this.run(() => b.changeNotice(p, n, c, by, at)),
      withdrawNotice: async (p, n, by, at) => await this.run(() => b.withdrawNotice(p, n, by, at)),
      notices: async p => await this.run(() => b.notices(p)),
      published: async since => await this.run(() => b.published(since))
    }
  }

  private joined (): boolean {
    return this.inTx.getStore()?.open === true
  }

  private async run<T> (f: () => T): Promise<T> {
    if (!this.joined()) await this.lock.idle()
    return f()
  }

  async close (): Promise<void> {
    await this.lock.idle()
    this.db.close()
  }

  /** tx: opts.fence is for the cluster's store; one collector holds every lease. */
  async tx<T> (fn: (t: AlertStore) => Promise<T>, _opts?: TxOptions): Promise<T> {
    if (this.joined()) return await fn(this)
    const free = await this.lock.acquire()
    const db = this.db.db
    const state = { open: true }
    try {
      db.exec('BEGIN IMMEDIATE')
      try {
        const r = await this.inTx.run(state, async () => await fn(this))
        db.exec('COMMIT')
        return r
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK')
        throw err
      }
    } finally {
      state.open = false
      free()
    }
  }

  scope: AlertStore['scope'] = async () => await this.run(() => this.db.scope())
  loadSeries: AlertStore['loadSeries'] = async () => await this.run(() => this.db.loadSeries())
  saveSeries: AlertStore['saveSeries'] = async (l, r) => { await this.run(() => { this.db.saveSeries(l, r) }) }
  openIncident: AlertStore['openIncident'] = async i => await this.run(() => this.db.openIncident(i))
  openIncidentFor: AlertStore['openIncidentFor'] = async k => await this.run(() => this.db.openIncidentFor(k))
  resolveIncident: AlertStore['resolveIncident'] = async (id, at, reason, v) => { await this.run(() => { this.db.resolveIncident(id, at, reason, v) }) }
  incident: AlertStore['incident'] = async id => await this.run(() => this.db.incident(id))
  incidents: AlertStore['incidents'] = async (from, to) => await this.run(() => this.db.incidents(from, to))
  firing: AlertStore['firing'] = async () => await this.run(() => this.db.firing())
  dueResolved: AlertStore['dueResolved'] = async () => await this.run(() => this.db.dueResolved())
  markQueued: AlertStore['markQueued'] = async (ids, at) => { await this.run(() => { this.db.markQueued(ids, at) }) }
  markResolvedQueued: AlertStore['markResolvedQueued'] = async ids => { await this.run(() => { this.db.markResolvedQueued(ids) }) }
  markEscalated: AlertStore['markEscalated'] = async (ids, at) => { await this.run(() => { this.db.markEscalated(ids, at) }) }
  suppress: AlertStore['suppress'] = async (id, by) => { await this.run(() => { this.db.suppress(id, by) }) }
  release: AlertStore['release'] = async id => { await this.run(() => { this.db.release(id) }) }
  lastResolvedAt: AlertStore['lastResolvedAt'] = async (h, r) => await this.run(() => this.db.lastResolvedAt(h, r))
  setTexts: AlertStore['setTexts'] = async (id, t) => { await this.run(() => { this.db.setTexts(id, t) }) }
  ack: AlertStore['ack'] = async (id, by, at) => await this.run(() => this.db.ack(id, by, at))
  enqueue: AlertStore['enqueue'] = async m => await this.run(() => this.db.enqueue(m))
  dueMail: AlertStore['dueMail'] = async (now, limit) => await this.run(() => this.db.dueMail(now, limit))
  lastMailOf: AlertStore['lastMailOf'] = async k => await this.run(() => this.db.lastMailOf(k))
  pendingMail: AlertStore['pendingMail'] = async () => await this.run(() => this.db.pendingMail())
  mailSent: AlertStore['mailSent'] = async (m, at) => { await this.run(() => { this.db.mailSent(m, at) }) }
  mailFailed: AlertStore['mailFailed'] = async (id, e, at) => { await this.run(() => { this.db.mailFailed(id, e, at) }) }
  reportDone: AlertStore['reportDone'] = async k => await this.run(() => this.db.reportDone(k))
  setReportDone: AlertStore['setReportDone'] = async (k, p, at) => { await this.run(() => { this.db.setReportDone(k, p, at) }) }
  addWindow: AlertStore['addWindow'] = async (w, at) => await this.run(() => this.db.addWindow(w, at))
  deleteWindow: AlertStore['deleteWindow'] = async (id, at) => await this.run(() => this.db.deleteWindow(id, at))
  windows: AlertStore['windows'] = async (k, d) => await this.run(() => this.db.windows(k, d))
  audit: AlertStore['audit'] = async (actor, action, detail, at) => { this.db.audit(actor, action, detail, at) }
  auditLog: AlertStore['auditLog'] = async limit => this.db.auditLog(limit)
}
