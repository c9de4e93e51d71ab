// The audit chain's two links: the SHA-256 that ties each record to the one
// before it, and the head witness that pins the newest record outside the table.
//
// Design: every record stores prev_hash (the hash of the record before it,
// '' for the first) and hash = sha256(prev \n at \n actor \n action \n detail),
// so an edited field breaks its own hash and a removed record breaks its
// successor's prev_hash; ids are AUTOINCREMENT, so a gap shows. Neither can
// show a cut tail: the last records gone leave a valid, shorter chain. So after
// each append commits, the log replaces `audit.head` beside the database
// ({"id","hash"} of the newest record, atomic and fsynced); verify requires the
// record with that id to exist and carry that hash. A crash between the commit
// and the witness leaves the witness one record behind, which still verifies.

import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { writeFileAtomicSync } from '../../common/atomic-write.js'

/** auditHash is the chain link of one record. */
export function auditHash (prev: string, at: number | string, actor: string, action: string, detail: string): string {
  return createHash('sha256').update(`${prev}\n${at}\n${actor}\n${action}\n${detail}`).digest('hex')
}

export interface AuditHead { id: number, hash: string }

/** writeHead replaces the witness durably. */
export function writeHead (file: string, head: AuditHead): void {
  writeFileAtomicSync(file, JSON.stringify(head) + '\n', { mode: 0o600 })
}

/** readHead returns the witness, undefined when there is none, or a string saying why it is unreadable. */
export function readHead (file: string): AuditHead | undefined | string {
  if (!existsSync(file)) return undefined
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Partial<AuditHead>
    if (Number.isInteger(h.id) && typeof h.hash === 'string') return { id: h.id!, hash: h.hash }
  } catch { /* reported below */ }
  return 'the head witness is not {"id","hash"} JSON'
}
