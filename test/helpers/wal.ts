// Waits on the WAL that mean "stored", not "read": a storage reader reads ahead of what its
// writer has committed (several requests in flight), so caughtUp() alone races the writes.

import { join } from 'node:path'
import { Wal as WalLog, type Wal, type WalReader } from '../../collector/state/wal/index.js'
import { decodeEntry, type WalEntry } from '../../collector/state/entry.js'

/** committedToEnd: the reader's committed cursor is at the WAL's durable end (everything before it stored). */
export function committedToEnd (reader: Pick<WalReader, 'committed'>, wal: Pick<Wal, 'durableEnd'>): boolean {
  const end = wal.durableEnd()
  return reader.committed.segment > end.segment || (reader.committed.segment === end.segment && reader.committed.offset >= end.offset)
}

/** walEntries reads back, in order, the entries a (stopped) collector's WAL holds for one agent ('' : the collector's own). */
export async function walEntries (dataDir: string, agent: string): Promise<WalEntry[]> {
  const out: WalEntry[] = []
  const log = await WalLog.open({ dir: join(dataDir, 'wal'), readers: [], onRecover: d => { const e = decodeEntry(d); if (e.a === agent) out.push(e) } })
  await log.close()
  return out
}
