// The audit log (dataDir/audit.db) as a source of archive records: a read-only connection of its
// own, records after the last audit id archived, oldest first, a bounded number per read.

import Database from 'better-sqlite3'
import type { NewRecord } from './writer.js'

export class AuditSource {
  private db: Database.Database | undefined

  constructor (private readonly file: string) {}

  /** after returns up to limit audit records with an id above id, as archive records (their w is set by the caller). */
  after (id: number, limit = 1000): Array<Omit<NewRecord, 'w'>> {
    this.db ??= new Database(this.file, { readonly: true, fileMustExist: true })
    const rows = this.db.prepare('SELECT id, at, actor, action, detail FROM audit WHERE id > ? ORDER BY id LIMIT ?').all(id, limit) as Array<{ id: number, at: number, actor: string, action: string, detail: string }>
    return rows.map(r => ({ k: 'audit' as const, a: Number(r.id), r: Number(r.at), t: Number(r.at), host: '', role: '', site: '', source: `audit/${r.actor}`, level: 'info', message: `${r.action} ${r.detail}` }))
  }

  close (): void { this.db?.close(); this.db = undefined }
}
