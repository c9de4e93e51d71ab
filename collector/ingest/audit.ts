// The collector's own audit log (dataDir/audit.db), open whether alerting is on
// or not: agent authentication failures, agent list reloads, token commands.
// Append-only by triggers and hash-chained, like the alerting store's audit
// table, so `kanshi-collector audit verify` can prove nobody edited a row.

import Database from 'better-sqlite3'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
`

/** auditHash is the chain link; the alerting store (collector/alerting/store.ts) uses the same form. */
export function auditHash (prev: string, at: number | string, actor: string, action: string, detail: string): string {
  return createHash('sha256').update(`${prev}\n${at}\n${actor}\n${action}\n${detail}`).digest('hex')
}

export class AuditLog {
  private readonly db: Database.Database
  private readonly insert: (at: number, actor: string, action: string, detail: string) => void

  constructor (dataDir: string) {
    this.db = new Database(join(dataDir, 'audit.db'))
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    // The token commands write while a collector runs: wait for its lock instead of failing.
    this.db.pragma('busy_timeout = 5000')
    this.db.exec(SCHEMA)
    const last = this.db.prepare('SELECT hash FROM audit ORDER BY id DESC LIMIT 1')
    const ins = this.db.prepare('INSERT INTO audit (at, actor, action, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)')
    // IMMEDIATE: read the last hash and append under one write lock, so two writers never fork the chain.
    this.insert = this.db.transaction((at: number, actor: string, action: string, detail: string) => {
      const prev = (last.get() as { hash: string } | undefined)?.hash ?? ''
      ins.run(at, actor, action, detail, prev, auditHash(prev, at, actor, action, detail))
    }).immediate
  }

  /** append adds one record chained to the previous one. */
  append (actor: string, action: string, detail: unknown, at = Date.now()): void {
    this.insert(at, actor, action, JSON.stringify(detail))
  }

  entries (limit = 100): Array<{ id: number, at: number, actor: string, action: string, detail: unknown }> {
    return (this.db.prepare('SELECT id, at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?').all(limit) as Array<Record<string, unknown>>)
      .map(r => ({ id: Number(r['id']), at: Number(r['at']), actor: String(r['actor']), action: String(r['action']), detail: JSON.parse(String(r['detail'])) as unknown }))
  }

  close (): void { this.db.close() }
}

export interface ChainReport { file: string, records: number, broken?: { id: number, reason: string } }

/**
 * verifyChain recomputes the hash chain of the audit table in a SQLite file,
 * read-only, and names the first record that does not fit: an edited field,
 * a deleted record (its successor's prev_hash no longer matches), a gap in
 * the ids, or a cut tail (sqlite_sequence still holds the highest id). A missing file is an empty, valid chain.
 */
export function verifyChain (file: string): ChainReport {
  if (!existsSync(file)) return { file, records: 0 }
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    const has = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'audit'").get()
    if (has === undefined) return { file, records: 0 }
    let prev = ''
    let expectId: number | undefined
    let n = 0
    for (const r of db.prepare('SELECT id, at, actor, action, detail, prev_hash, hash FROM audit ORDER BY id').iterate() as Iterable<Record<string, unknown>>) {
      const id = Number(r['id'])
      if (expectId !== undefined && id !== expectId) return { file, records: n, broken: { id, reason: `records ${expectId}..${id - 1} are missing` } }
      if (r['prev_hash'] !== prev) return { file, records: n, broken: { id, reason: 'prev_hash does not match the record before it (a record was removed or replaced)' } }
      const h = auditHash(prev, String(r['at']), String(r['actor']), String(r['action']), String(r['detail']))
      if (r['hash'] !== h) return { file, records: n, broken: { id, reason: 'its content does not match its hash (the record was edited)' } }
      prev = h
      expectId = id + 1
      n++
    }
    // AUTOINCREMENT remembers the highest id ever used: a cut tail shows there.
    const seq = (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").get() as { seq: number } | undefined)?.seq ?? 0
    const last = (expectId ?? 1) - 1
    if (seq > last) return { file, records: n, broken: { id: last + 1, reason: `records ${last + 1}..${seq} at the end are missing` } }
    return { file, records: n }
  } finally {
    db.close()
  }
}

/** verifyAudit checks the collector's audit.db and the alerting store's audit table in dataDir. */
export function verifyAudit (dataDir: string): ChainReport[] {
  return ['audit.db', 'alerting.db'].map(f => join(dataDir, f)).filter(f => existsSync(f)).map(verifyChain)
}
