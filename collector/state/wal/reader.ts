// One consumer's cursor on the WAL: read() moves an in-memory position;
// commit() persists a position (atomically and durably) once the consumer has
// handed the records on, and only then lets the WAL delete what it is past.

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../../../common/atomic-write.js'
import { readAt } from './file-io.js'
import type { Held } from './memory-tail.js'
import { decodeRecords, HEADER_BYTES, type Position, type WalRecord } from './record.js'

/** What a reader needs of the log (the Wal, in log.ts). */
export interface ReaderLog {
  readonly dir: string
  firstSegment: () => number
  segmentSize: (seg: number) => number | undefined
  segmentPath: (seg: number) => string
  nextSegment: (seg: number) => number | undefined
  durableEnd: () => Position
  bytesFrom: (pos: Position) => number
  heldAt: (seg: number, offset: number) => Held | undefined
  deleteConsumed: () => Promise<number>
}

export class WalReader {
  /** the position whose cursor file is durable; segments before it may be deleted */
  committed: Position = { segment: 0, offset: 0 }
  private pos: Position = { segment: 0, offset: 0 }
  /** append time of the first record after the committed position, 0 when caught up */
  oldestPendingTs = 0
  /** state saved with the last commit, atomically with the position (a consumer's own checkpoint) */
  state: unknown
  /** when the last read returned and the last commit began (performance.now()) */
  lastReadAt = 0
  lastCommitAt = 0
  private readWaiters: Array<() => void> = []
  readonly file: string

  constructor (private readonly wal: ReaderLog, readonly name: string) {
    this.file = join(wal.dir, `cursor-${name}.json`)
  }

  async load (): Promise<void> {
    try {
      const c = JSON.parse(await readFile(this.file, 'utf8')) as Position & { state?: unknown }
      if (Number.isInteger(c.segment) && Number.isInteger(c.offset)) this.committed = { segment: c.segment, offset: c.offset }
      this.state = c.state
    } catch { /* no cursor yet: start at the first segment */ }
    const first = this.wal.firstSegment()
    if (this.committed.segment < first) this.committed = { segment: first, offset: 0 }
    const size = this.wal.segmentSize(this.committed.segment)
    // A cursor past a truncated tail points at the new edge.
    if (size !== undefined && this.committed.offset > size) this.committed = { ...this.committed, offset: size }
    this.pos = { ...this.committed }
  }

  /** lagBytes is how far the read position is behind the durable end. */
  lagBytes (): number { return this.wal.bytesFrom(this.pos) }

  /** nextRead resolves after the next read() returns (or after ms). */
  nextRead (ms: number): Promise<void> {
    return new Promise(resolve => {
      const done = (): void => { clearTimeout(t); resolve() }
      // A waiter whose time ran out leaves the list: a reader that stopped must not collect them.
      const t = setTimeout(() => { this.readWaiters = this.readWaiters.filter(w => w !== done); resolve() }, ms)
      this.readWaiters.push(done)
    })
  }

  /** rewind goes back to the committed position (after a failed hand-off). */
  rewind (): void { this.pos = { ...this.committed } }

  /** caughtUp tells whether every durable record has been read. */
  caughtUp (): boolean {
    const end = this.wal.durableEnd()
    return this.pos.segment === end.segment && this.pos.offset >= end.offset
  }

  /** read returns up to maxBytes of durable records after the read position (at least one record when any). */
  async read (maxBytes: number): Promise<WalRecord[]> {
    const out: WalRecord[] = []
    let budget = maxBytes
    while (budget > 0) {
      const size = this.wal.segmentSize(this.pos.segment)
      if (size === undefined || this.pos.offset >= size) {
        const next = this.wal.nextSegment(this.pos.segment)
        if (next === undefined) break
        this.pos = { segment: next, offset: 0 }
        continue
      }
      const held = this.wal.heldAt(this.pos.segment, this.pos.offset)
      if (held !== undefined) {
        out.push(held.record)
        this.pos = held.record.end
        budget -= held.bytes
        continue
      }
      const want = Math.min(size - this.pos.offset, Math.max(budget, HEADER_BYTES), 8 * 1024 * 1024)
      const buf = await readAt(this.wal.segmentPath(this.pos.segment), this.pos.offset, want, size)
      const seg = this.pos.segment
      const base = this.pos.offset
      let got = 0
      const { good } = decodeRecords(buf, (data, ts, end) => {
        out.push(this.record(seg, base + got, base + end, ts, data))
        got = end
      })
      if (good === 0) {
        // The next record is larger than the window: read exactly that record.
        const len = buf.length >= 4 ? buf.readUInt32LE(0) : 0
        const whole = await readAt(this.wal.segmentPath(seg), base, HEADER_BYTES + len, size)
        const r = decodeRecords(whole, (data, ts, end) => { out.push(this.record(seg, base, base + end, ts, data)); got = end })
        if (r.good === 0) throw new Error(`WAL segment ${seg} is corrupt at offset ${base}`)
      }
      this.pos = { segment: seg, offset: base + got }
      budget -= got
    }
    if (this.oldestPendingTs === 0 && out.length > 0) this.oldestPendingTs = out[0]!.ts
    this.lastReadAt = performance.now()
    if (this.readWaiters.length > 0) {
      const w = this.readWaiters
      this.readWaiters = []
      for (const f of w) f()
    }
    return out
  }

  /** record is the WAL's own copy while it holds one, else the bytes read (copied, so the read window can be collected). */
  private record (seg: number, start: number, end: number, ts: number, data: Buffer): WalRecord {
    return this.wal.heldAt(seg, start)?.record ?? { end: { segment: seg, offset: end }, ts, data: Buffer.from(data) }
  }

  /**
   * commit persists pos (with an optional state that reflects exactly the records
   * before pos) durably, and only then moves committed and lets the WAL delete
   * segments every reader is past: a segment or checkpoint the old cursor names
   * must outlive a power loss until the new cursor is on disk.
   */
  async commit (pos: Position, nextTs = 0, state?: unknown): Promise<void> {
    this.lastCommitAt = performance.now()
    this.oldestPendingTs = nextTs
    const at = { segment: pos.segment, offset: pos.offset }
    await writeFileAtomic(this.file, JSON.stringify(state === undefined ? at : { ...at, state }))
    this.committed = at
    this.state = state
    await this.wal.deleteConsumed()
  }
}
