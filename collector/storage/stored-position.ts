// The WAL position every storage target has committed, in the shape the multi-target storage
// exposes (storedPosition/onStored): here the one StorageWriter's cursor, watched by a timer.

import type { Position, WalReader } from '../state/wal/index.js'
import type { StoredSource } from '../ingest/stored.js'

export interface WatchedSource extends StoredSource {
  stop(): void
}

/** cursorSource follows reader.committed every everyMs and calls the listeners when it moved. */
export function cursorSource (reader: WalReader, everyMs = 200): WatchedSource {
  const listeners = new Set<(pos: Position) => void>()
  let last = { ...reader.committed }
  const timer = setInterval(() => {
    const c = reader.committed
    if (c.segment === last.segment && c.offset === last.offset) return
    last = { ...c }
    for (const cb of listeners) cb(last)
  }, everyMs)
  timer.unref()
  return {
    storedPosition: () => ({ ...reader.committed }),
    onStored: cb => { listeners.add(cb); return () => { listeners.delete(cb) } },
    stop: () => { clearInterval(timer); listeners.clear() }
  }
}
