// The local side of degraded mode: a SQLite alert store in the data dir (alerting-local/) that
// holds a warm copy of what evaluation needs while PostgreSQL answers (open incidents, windows,
// this node's series) and, while degraded, a journal of what changed here: incidents touched
// (with the lease that fenced the change), series written, mails held. Reconciliation reads the
// journal and clears it in the same local transaction.

import type Database from 'better-sqlite3'
import { join } from 'node:path'
import { mkdirSync } from 'node:fs'
import type { AuditLog } from '../audit/log.js'
import type { Series } from '../alerting/evaluator.js'
import { SqliteAlertStore } from '../alerting/store-sqlite.js'
import type { Incident, NewMail, Window } from '../alerting/store-api.js'

/** Incidents opened here while degraded get ids from this node's own range, far above PostgreSQL's sequence. */
export const LOCAL_ID_MIN = 2 ** 50

/** localIdBase: 2^50 + (FNV-1a of the node name, 20 bits) × 2^30: disjoint per node, below 2^53. */
export function localIdBase (node: string): number {
  let h = 0x811c9dc5
  for (const c of Buffer.from(node, 'utf8')) h = Math.imul(h ^ c, 0x01000193) >>> 0
  return LOCAL_ID_MIN + (h & 0xfffff) * 2 ** 30
}

const JOURNAL = `
CREATE TABLE IF NOT EXISTS degraded_dirty (id INTEGER PRIMARY KEY, fence TEXT);
CREATE TABLE IF NOT EXISTS degraded_series (key TEXT PRIMARY KEY, agent TEXT NOT NULL, fence TEXT, data TEXT);
CREATE TABLE IF NOT EXISTS degraded_held (id INTEGER PRIMARY KEY AUTOINCREMENT, mail TEXT NOT NULL, fence TEXT);
CREATE TABLE IF NOT EXISTS degraded_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`

export interface HeldMail { id: number, mail: NewMail, fence: string | null }

export class LocalAlerting {
  readonly store: SqliteAlertStore
  readonly db: Database.Database

  constructor (dir: string, node: string, audit?: AuditLog) {
    const d = join(dir, 'alerting-local')
    mkdirSync(d, { recursive: true, mode: 0o700 })
    this.store = new SqliteAlertStore(d, audit)
    this.db = this.store.db.db
    this.db.exec(JOURNAL)
    // AUTOINCREMENT continues from the larger of sqlite_sequence and the largest id: start at this node's range.
    const base = localIdBase(node)
    const seq = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'incidents'").get() as { seq: number } | undefined
    if (seq === undefined) this.db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('incidents', ?)").run(base)
    else if (seq.seq < base) this.db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'incidents'").run(base)
  }

  // ---- journal (written only while degraded) ----
  touch (ids: readonly number[], fence: string | null): void {
    const st = this.db.prepare('INSERT OR IGNORE INTO degraded_dirty (id, fence) VALUES (?, ?)')
    for (const id of ids) st.run(id, fence)
  }

  seriesWritten (list: readonly Series[], removed: readonly string[], agent: string | undefined, fence: string | null): void {
    const st = this.db.prepare('INSERT INTO degraded_series (key, agent, fence, data) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET agent = excluded.agent, fence = excluded.fence, data = excluded.data')
    for (const s of list) st.run(s.key, agent ?? s.agent ?? '', fence, JSON.stringify(s))
    for (const k of removed) st.run(k, agent ?? '', fence, null)
  }

  hold (m: NewMail, fence: string | null): number {
    return Number(this.db.prepare('INSERT INTO degraded_held (mail, fence) VALUES (?, ?)').run(JSON.stringify(m), fence).lastInsertRowid)
  }

  dirty (): Array<{ id: number, fence: string | null }> {
    return this.db.prepare('SELECT id, fence FROM degraded_dirty ORDER BY id').all() as Array<{ id: number, fence: string | null }>
  }

  journalSeries (): Array<{ key: string, agent: string, fence: string | null, series: Series | null }> {
    return (this.db.prepare('SELECT key, agent, fence, data FROM degraded_series ORDER BY key').all() as Array<{ key: string, agent: string, fence: string | null, data: string | null }>)
      .map(r => ({ key: r.key, agent: r.agent, fence: r.fence, series: r.data === null ? null : JSON.parse(r.data) as Series }))
  }

  held (): HeldMail[] {
    return (this.db.prepare('SELECT id, mail, fence FROM degraded_held ORDER BY id').all() as Array<{ id: number, mail: string, fence: string | null }>)
      .map(r => ({ id: r.id, mail: JSON.parse(r.mail) as NewMail, fence: r.fence }))
  }

  heldCount (): number {
    return (this.db.prepare('SELECT count(*) AS n FROM degraded_held').get() as { n: number }).n
  }

  /** pending: anything left to reconcile (a restart in degraded mode finds it here) */
  pending (): boolean {
    return this.db.prepare('SELECT 1 FROM degraded_dirty UNION ALL SELECT 1 FROM degraded_series UNION ALL SELECT 1 FROM degraded_held UNION ALL SELECT 1 FROM outbox LIMIT 1').get() !== undefined
  }

  /** clear forgets the journal and what only it needed: local mails and incidents (the warm copy is made again). */
  clear (): void {
    this.db.exec('DELETE FROM degraded_dirty; DELETE FROM degraded_series; DELETE FROM degraded_held; DELETE FROM outbox; DELETE FROM incidents;')
  }

  getState (key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM degraded_state WHERE key = ?').get(key) as { value: string } | undefined)?.value
  }

  setState (key: string, value: string | null): void {
    if (value === null) this.db.prepare('DELETE FROM degraded_state WHERE key = ?').run(key)
    else this.db.prepare('INSERT INTO degraded_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value)
  }

  // ---- the warm copy (while PostgreSQL answers; never over a pending journal) ----
  /** mirror replaces the copied open incidents and the windows with PostgreSQL's, ids kept. */
  mirror (open: readonly Incident[], windows: readonly Window[]): void {
    const cols = (this.db.prepare('PRAGMA table_info(incidents)').all() as Array<{ name: string }>).map(c => c.name)
    const ins = this.db.prepare(`INSERT OR REPLACE INTO incidents (${cols.join(', ')}) VALUES (${cols.map(c => '@' + c).join(', ')})`)
    const wcols = (this.db.prepare('PRAGMA table_info(windows)').all() as Array<{ name: string }>).map(c => c.name)
    const wins = this.db.prepare(`INSERT INTO windows (${wcols.join(', ')}) VALUES (${wcols.map(c => '@' + c).join(', ')})`)
    this.db.transaction(() => {
      this.setState('copied_at', String(Date.now()))
      this.db.prepare('DELETE FROM incidents WHERE id < ?').run(LOCAL_ID_MIN)
      for (const i of open) ins.run(Object.fromEntries(cols.map(c => [c, sqlValue(c, (i as unknown as Record<string, unknown>)[c])])))
      this.db.exec('DELETE FROM windows')
      for (const w of windows) wins.run(Object.fromEntries(wcols.map(c => [c, sqlValue(c, (w as unknown as Record<string, unknown>)[c])])))
    })()
  }

  /** hasCopy: a warm copy was taken from PostgreSQL at least once (open incidents, windows) */
  hasCopy (): boolean { return this.getState('copied_at') !== undefined }

  close (): Promise<void> { return this.store.close() }
}

/** sqlValue: objects and arrays as JSON text (labels, systems, matchers, recur_days), booleans as 0/1. */
function sqlValue (col: string, v: unknown): unknown {
  if (v === undefined) return col === 'systems' ? '[]' : null
  if (v !== null && typeof v === 'object') return JSON.stringify(v)
  if (typeof v === 'boolean') return v ? 1 : 0
  return v
}
