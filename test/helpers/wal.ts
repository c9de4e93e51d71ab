// Waits on the WAL that mean "stored", not "read": a storage reader reads ahead of what its
// writer has committed (several requests in flight), so caughtUp() alone races the writes.

import type { Wal, WalReader } from '../../collector/state/wal/index.js'

/** committedToEnd: the reader's committed cursor is at the WAL's durable end (everything before it stored). */
export function committedToEnd (reader: Pick<WalReader, 'committed'>, wal: Pick<Wal, 'durableEnd'>): boolean {
  const end = wal.durableEnd()
  return reader.committed.segment > end.segment || (reader.committed.segment === end.segment && reader.committed.offset >= end.offset)
}
