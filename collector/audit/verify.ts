// verify: recompute an audit chain from its SQLite file, read-only, and name
// the first record that does not fit (an edit, a gap, a cut tail).

import Database from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { basename, join } from 'node:path'
import { auditHash, readHead } from './chain.js'

export interface ChainReport { file: string, records: number, legacy?: boolean, broken?: { id: number, reason: string } }

/**
 * verifyChain checks the audit table in file. With headFile it also checks the
 * head witness (a cut tail); without one (the legacy alerting.db chain) only
 * sqlite_sequence, which keeps the highest id ever used, shows a cut tail.
 * A missing file or table is an empty, valid chain.
 */
export function verifyChain (file: string, headFile?: string): ChainReport {
  if (!existsSync(file)) return { file, records: 0 }
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    const has = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'audit'").get()
    if (has === undefined) return { file, records: 0 }
    const head = headFile === undefined ? undefined : readHead(headFile)
    if (typeof head === 'string') return { file, records: 0, broken: { id: 0, reason: `${basename(headFile!)}: ${head}` } }
    let prev = ''
    let expectId: number | undefined
    let n = 0
    for (const r of db.prepare('SELECT id, at, actor, action, detail, prev_hash, hash FROM audit ORDER BY id').iterate() as Iterable<Record<string, unknown>>) {
      const id = Number(r['id'])
      if (expectId !== undefined && id !== expectId) return { file, records: n, broken: { id, reason: `records ${expectId}..${id - 1} are missing` } }
      if (r['prev_hash'] !== prev) return { file, records: n, broken: { id, reason: 'prev_hash does not match the record before it (a record was removed or replaced)' } }
      const h = auditHash(prev, String(r['at']), String(r['actor']), String(r['action']), String(r['detail']))
      if (r['hash'] !== h) return { file, records: n, broken: { id, reason: 'its content does not match its hash (the record was edited)' } }
      if (head !== undefined && head.id === id && head.hash !== h) return { file, records: n, broken: { id, reason: `its hash differs from the head witness ${basename(headFile!)} (the chain was rewritten)` } }
      prev = h
      expectId = id + 1
      n++
    }
    const last = (expectId ?? 1) - 1
    const seq = (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").get() as { seq: number } | undefined)?.seq ?? 0
    const top = Math.max(seq, head?.id ?? 0)
    if (top > last) return { file, records: n, broken: { id: last + 1, reason: `records ${last + 1}..${top} at the end are missing` } }
    if (headFile !== undefined && head === undefined && n > 0) return { file, records: n, broken: { id: last, reason: `the head witness ${basename(headFile)} is missing, so a cut tail cannot be ruled out` } }
    return { file, records: n }
  } finally {
    db.close()
  }
}

/**
 * verifyAudit checks the collector's audit log in dataDir with its witness,
 * and the legacy chain that kanshi 0.1.0 kept in alerting.db (still verified, no longer written).
 */
export function verifyAudit (dataDir: string): ChainReport[] {
  const out: ChainReport[] = []
  if (existsSync(join(dataDir, 'audit.db'))) out.push(verifyChain(join(dataDir, 'audit.db'), join(dataDir, 'audit.head')))
  const legacy = join(dataDir, 'alerting.db')
  if (existsSync(legacy)) {
    const r = verifyChain(legacy)
    if (r.records > 0 || r.broken !== undefined) out.push({ ...r, legacy: true })
  }
  return out
}
