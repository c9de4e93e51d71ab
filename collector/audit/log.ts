// The collector's one audit log (dataDir/audit.db, witness dataDir/audit.head),
// open whether alerting is on or not: agent authentication failures, agent list
// reloads, console logins, acknowledgements, silences, maintenance, rule reloads.
// Append-only by triggers and hash-chained (see chain.ts).

import Database from 'better-sqlite3'
import { join } from 'node:path'
import { auditHash, readHead, writeHead } from './chain.js'
import { verifyChain, type ChainReport } from './verify.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
`

const AUDIT_DB = 'audit.db'
const AUDIT_HEAD = 'audit.head'

export interface AuditEntry { id: number, at: number, actor: string, action: string, detail: unknown }
/** AuditRow is a record as stored: detail is its JSON text (the hashed form). */
export interface AuditRow { id: number, at: number, actor: string, action: string, detail: string }

export class AuditLog {
  readonly file: string
  readonly headFile: string
  private readonly db: Database.Database
  private readonly insert: (at: number, actor: string, action: string, detail: string) => { id: number, hash: string }
  private readonly now: () => number

  constructor (dataDir: string, now: () => number = Date.now) {
    this.file = join(dataDir, AUDIT_DB)
    this.headFile = join(dataDir, AUDIT_HEAD)
    this.now = now
    this.db = new Database(this.file)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    // Another process (a CLI command) may hold the lock briefly: wait for it instead of failing.
    this.db.pragma('busy_timeout = 5000')
    this.db.exec(SCHEMA)
    const last = this.db.prepare('SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1')
    const ins = this.db.prepare('INSERT INTO audit (at, actor, action, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)')
    // IMMEDIATE: read the last hash and append under one write lock, so two writers never fork the chain.
    this.insert = this.db.transaction((at: number, actor: string, action: string, detail: string) => {
      const prev = (last.get() as { hash: string } | undefined)?.hash ?? ''
      const hash = auditHash(prev, at, actor, action, detail)
      return { id: Number(ins.run(at, actor, action, detail, prev, hash).lastInsertRowid), hash }
    }).immediate
    // A log from before the witness existed (or a new one) gets its witness now: trust on first use.
    const top = last.get() as { id: number, hash: string } | undefined
    if (top !== undefined && readHead(this.headFile) === undefined) writeHead(this.headFile, { id: Number(top.id), hash: top.hash })
  }

  /** append adds one record chained to the previous one, then moves the head witness to it. */
  append (actor: string, action: string, detail: unknown, at = this.now()): void {
    writeHead(this.headFile, this.insert(at, actor, action, JSON.stringify(detail)))
    this.onAppend?.()
  }

  /** onAppend is told after each append (the cluster's shipper wakes on it). */
  onAppend: (() => void) | undefined

  /** after lists the records after a local id, oldest first, as stored (the cluster's shipper copies them). */
  after (id: number, limit = 500): AuditRow[] {
    return (this.db.prepare('SELECT id, at, actor, action, detail FROM audit WHERE id > ? ORDER BY id LIMIT ?').all(id, limit) as Array<Record<string, unknown>>)
      .map(r => ({ id: Number(r['id']), at: Number(r['at']), actor: String(r['actor']), action: String(r['action']), detail: String(r['detail']) }))
  }

  /** lastId is the newest local record's id (0 when empty). */
  lastId (): number {
    return Number((this.db.prepare('SELECT max(id) AS m FROM audit').get() as { m: number | null }).m ?? 0)
  }

  /** entries lists the newest records first. */
  entries (limit = 100): AuditEntry[] {
    return (this.db.prepare('SELECT id, at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?').all(limit) as Array<Record<string, unknown>>)
      .map(r => ({ id: Number(r['id']), at: Number(r['at']), actor: String(r['actor']), action: String(r['action']), detail: JSON.parse(String(r['detail'])) as unknown }))
  }

  /** about lists the records whose detail has `key` equal to value (e.g. incident 12), oldest first. */
  about (key: string, value: string | number, limit = 500): AuditEntry[] {
    return (this.db.prepare('SELECT id, at, actor, action, detail FROM audit WHERE json_extract(detail, ?) = ? ORDER BY id LIMIT ?').all(`$.${key}`, value, limit) as Array<Record<string, unknown>>)
      .map(r => ({ id: Number(r['id']), at: Number(r['at']), actor: String(r['actor']), action: String(r['action']), detail: JSON.parse(String(r['detail'])) as unknown }))
  }

  /** verify runs the full check (edits, gaps, cut tail) on this log. */
  verify (): ChainReport {
    return verifyChain(this.file, this.headFile)
  }

  close (): void { this.db.close() }
}
