// Cluster mode keeps the incident record in PostgreSQL; the reports (SLA figures, the daily and
// incident reports) read dataDir/alerting.db. The mirror copies the record (incidents, notices,
// windows) from PostgreSQL into this node's alerting.db, rows by id, in one SQLite transaction:
// every few heartbeats and right before a scheduled report.

import type Database from 'better-sqlite3'
import type { Pool } from './pg.js'

/** PostgreSQL table → alerting.db table */
const TABLES: ReadonlyArray<[string, string]> = [['incidents', 'incidents'], ['incident_notices', 'incident_notices'], ['alert_windows', 'windows']]

/** cell turns a PostgreSQL value into what alerting.db stores (jsonb as JSON text, int8 as a number). */
function cell (v: unknown): unknown {
  if (v === null || typeof v === 'number' || typeof v === 'string') return v
  if (typeof v === 'bigint') return Number(v)
  if (typeof v === 'boolean') return v ? 1 : 0
  return JSON.stringify(v)
}

/** mirrorRecord copies the shared record into db; it returns the rows copied per table. It throws PostgreSQL's error. */
export async function mirrorRecord (pool: Pool, db: Database.Database): Promise<Record<string, number>> {
  const read: Array<[string, Array<Record<string, unknown>>]> = []
  for (const [from, to] of TABLES) read.push([to, (await pool.query(`SELECT * FROM ${from} ORDER BY id`)).rows as Array<Record<string, unknown>>])
  const out: Record<string, number> = {}
  db.transaction(() => {
    for (const [to, rows] of read) {
      const have = new Set((db.prepare(`PRAGMA table_info(${to})`).all() as Array<{ name: string }>).map(c => c.name))
      const cols = rows.length === 0 ? [] : Object.keys(rows[0]!).filter(c => have.has(c))
      if (cols.length === 0) { out[to] = 0; continue }
      const st = db.prepare(`INSERT OR REPLACE INTO ${to} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`)
      for (const r of rows) st.run(...cols.map(c => cell(r[c])))
      out[to] = rows.length
    }
  })()
  return out
}
