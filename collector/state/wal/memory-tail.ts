// Recent durable records kept in memory, as the appender handed them in (bytes
// and decoded form), so readers that follow the tail neither read the disk nor
// check CRCs nor parse JSON. A reader that lags past the bound reads segments.

import { HEADER_BYTES, type WalRecord } from './record.js'

export interface Held { record: WalRecord, bytes: number }

export class MemoryTail {
  /** keyed by segment:startOffset, oldest first; left counts the readers yet to take the record */
  private readonly held = new Map<string, Held & { left: number }>()
  private bytes = 0

  /** max: bytes held at most (0 turns the tail off) */
  constructor (private readonly max: number) {}

  get enabled (): boolean { return this.max > 0 }

  /** remember holds the records of one group commit, written at offset before of segment, for each of readers. */
  remember (segment: number, before: number, batch: ReadonlyArray<{ buf: Buffer, decoded: unknown }>, readers: number): void {
    let start = before
    for (const p of batch) {
      const end = start + p.buf.length
      const data = p.buf.subarray(HEADER_BYTES)
      const ts = p.buf.readDoubleLE(8)
      const position = { segment, offset: end }
      const record: WalRecord = p.decoded === undefined ? { end: position, ts, data } : { end: position, ts, data, entry: p.decoded }
      this.held.set(`${segment}:${start}`, { record, bytes: p.buf.length, left: readers })
      this.bytes += p.buf.length
      start = end
    }
    if (this.bytes <= this.max) return
    for (const [k, v] of this.held) {
      this.held.delete(k)
      this.bytes -= v.bytes
      if (this.bytes <= this.max) break
    }
  }

  /** take returns the record starting at seg:offset while it is held; it leaves once every reader took it. */
  take (seg: number, offset: number): Held | undefined {
    const k = `${seg}:${offset}`
    const v = this.held.get(k)
    if (v === undefined) return undefined
    if (--v.left <= 0) {
      this.held.delete(k)
      this.bytes -= v.bytes
    }
    return v
  }
}
