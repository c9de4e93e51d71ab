// At start, the batches acked before a restart and not yet stored are the agent records after the
// storage cursor: read once (heads only) into the stored tracker, before ingest opens.

import { WalReader, type Wal } from '../state/wal/index.js'
import { decodeHead } from '../state/entry.js'
import type { StoredTracker } from './stored.js'

/** scanUnstored feeds the tracker every agent record after the storage reader's cursor; it returns how many. */
export async function scanUnstored (wal: Wal, readerName: string, tracker: StoredTracker): Promise<number> {
  // A reader of our own on the storage cursor file: it only reads, it never commits.
  const r = new WalReader(wal, readerName)
  await r.load()
  let n = 0
  for (;;) {
    const recs = await r.read(8 * 1024 * 1024)
    if (recs.length === 0) return n
    for (const rec of recs) {
      const h = decodeHead(rec.data)
      if (h.a === '') continue
      tracker.noteAcked(h.a, h.s, rec.end)
      n++
    }
  }
}
