// The collector's write-ahead log: every accepted batch is appended here, and
// fsynced, before the agent gets its ack; storage and alerting read from it.
//
// Layout: <dir>/<16-digit index>.wal segments. Record = header + payload:
//   u32 LE payload length | u32 LE crc32(ts bytes + payload) | f64 LE append time (ms) | payload
// Recovery keeps every whole record and truncates a torn tail of the last segment.

import { promises as fsp, constants as fsc } from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { KanshiError } from '../../protocol/errors.js'

export const HEADER_BYTES = 16
/** RESERVE_BYTES: spare room for cursors and checkpoints after the disk filled up */
const RESERVE_BYTES = 256 * 1024
/**
 * Segments are opened O_DSYNC where the platform has it: a write returns once
 * its data is on the disk, so a group commit is one call in the thread pool.
 * Write then fdatasync was two, and under load each waited for the main thread
 * to come back to the event loop before the next began: a commit of 0.8 ms on
 * a quiet disk took 18 ms (issue 8). Elsewhere (Windows): write, then fdatasync.
 */
const DSYNC: number | undefined = fsc.O_DSYNC
const SEGMENT_RE = /^(\d{16})\.wal$/
/** A record larger than this is corruption, not data (frames are capped well below). */
const MAX_RECORD_BYTES = 64 * 1024 * 1024

export interface Position { segment: number, offset: number }

export interface WalRecord {
  /** position just after this record: commit it to consume the record */
  readonly end: Position
  readonly ts: number
  readonly data: Buffer
  /**
   * entry is the decoded form the appender handed in, when the record is still
   * in the WAL's memory tail: readers use it instead of parsing data again.
   * Shared by every reader, so it must be treated as read-only.
   */
  readonly entry?: unknown
}

export interface WalOptions {
  dir: string
  /** segment size at which a new segment is started (default 64 MiB) */
  segmentBytes?: number
  /** total bytes at which appends are refused with E_WAL_FULL (default 1 GiB) */
  maxBytes?: number
  /** names of the consumers; a segment is deleted once all of them are past it */
  readers: string[]
  /** called with every whole record found at open, in order (to rebuild indexes) */
  onRecover?: (data: Buffer, ts: number) => void
  /** called before segments are deleted, so callers can persist what the records implied */
  beforeDelete?: () => Promise<void>
  now?: () => number
  /** bytes of recently appended records kept in memory for readers, with their decoded form (default 32 MiB; 0 turns it off) */
  memoryTailBytes?: number
}

export interface RecoveryReport { segments: number, records: number, bytes: number, tornBytes: number, corruptSegments: number }

/** encodeRecord frames a payload (given whole, or in parts that are copied in one after another) as a record. */
export function encodeRecord (data: Buffer | readonly Buffer[], ts: number): Buffer {
  const len = payloadBytes(data)
  const buf = Buffer.allocUnsafe(HEADER_BYTES + len)
  buf.writeUInt32LE(len, 0)
  buf.writeDoubleLE(ts, 8)
  if (Buffer.isBuffer(data)) data.copy(buf, HEADER_BYTES)
  else for (let i = 0, off = HEADER_BYTES; i < data.length; i++) off += data[i]!.copy(buf, off)
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4)
  return buf
}

/** payloadBytes is the length of a payload given whole or in parts. */
export function payloadBytes (data: Buffer | readonly Buffer[]): number {
  if (Buffer.isBuffer(data)) return data.length
  let n = 0
  for (let i = 0; i < data.length; i++) n += data[i]!.length
  return n
}

/**
 * decodeRecords parses whole records from buf starting at 0. It stops at the
 * first incomplete or corrupt record and returns how many bytes were good.
 */
export function decodeRecords (buf: Buffer, onRecord: (data: Buffer, ts: number, end: number) => void): { good: number, corrupt: boolean } {
  let off = 0
  while (off + HEADER_BYTES <= buf.length) {
    const len = buf.readUInt32LE(off)
    if (len > MAX_RECORD_BYTES) return { good: off, corrupt: true }
    const end = off + HEADER_BYTES + len
    if (end > buf.length) return { good: off, corrupt: false }
    if (crc32(buf.subarray(off + 8, end)) !== buf.readUInt32LE(off + 4)) return { good: off, corrupt: true }
    onRecord(buf.subarray(off + HEADER_BYTES, end), buf.readDoubleLE(off + 8), end)
    off = end
  }
  return { good: off, corrupt: false }
}

const segName = (i: number): string => `${String(i).padStart(16, '0')}.wal`

interface Pending { buf: Buffer, decoded: unknown, resolve: () => void, reject: (e: Error) => void }

/** One group commit on its way to the disk. */
interface Commit { batch: Pending[], before: number, total: number, t0: number, io: Promise<unknown> }

export class Wal {
  readonly dir: string
  private readonly segmentBytes: number
  private readonly maxBytes: number
  private readonly now: () => number
  private readonly beforeDelete?: () => Promise<void>
  /** size of each segment on disk (durable part for the active one) */
  private readonly sizes = new Map<number, number>()
  private active = 0
  private fh: fsp.FileHandle | undefined
  private pending: Pending[] = []
  private pendingBytes = 0
  /** bytes of the group commit being written */
  private writingBytes = 0
  private flushing: Promise<void> | undefined
  private waiters: Array<() => void> = []
  private readonly readers = new Map<string, WalReader>()
  private closed = false
  /**
   * Recent durable records, as the appender handed them in (bytes and decoded
   * form), keyed by segment:startOffset, oldest first. Readers that follow the
   * tail (storage, rollup, alerting) take their records from here: no read
   * from disk, no CRC, no JSON.parse (together a sixth of the collector's CPU
   * under load, issue 8). A reader that lags past the bound reads the segment
   * files as before. A record leaves once every reader has taken it (left
   * counts down): at 10,000 agents a full 32 MiB of decoded points was ~150 MB
   * of heap.
   */
  private readonly tail = new Map<string, { record: WalRecord, bytes: number, left: number }>()
  private tailBytes = 0
  private readonly tailMax: number
  /** set while the disk refuses writes; cleared by the next successful flush */
  diskError: string | undefined
  recovery: RecoveryReport = { segments: 0, records: 0, bytes: 0, tornBytes: 0, corruptSegments: 0 }
  onFlush?: (records: number, bytes: number, ms: number) => void

  private constructor (opts: WalOptions) {
    this.dir = opts.dir
    this.segmentBytes = opts.segmentBytes ?? 64 * 1024 * 1024
    this.maxBytes = opts.maxBytes ?? 1024 * 1024 * 1024
    this.now = opts.now ?? Date.now
    this.tailMax = opts.memoryTailBytes ?? 32 * 1024 * 1024
    if (opts.beforeDelete !== undefined) this.beforeDelete = opts.beforeDelete
  }

  /** open recovers the log in dir (creating it) and makes it ready to append. */
  static async open (opts: WalOptions): Promise<Wal> {
    const wal = new Wal(opts)
    await fsp.mkdir(opts.dir, { recursive: true })
    await wal.recover(opts.onRecover)
    for (const name of opts.readers) {
      const r = new WalReader(wal, name)
      await r.load()
      wal.readers.set(name, r)
    }
    await wal.deleteConsumed()
    await wal.reserve()
    return wal
  }

  /**
   * reserve keeps a small file of spare room beside the log. On a full disk the
   * readers must still write their cursors (and the seq checkpoint) before a
   * consumed segment can be deleted; without room for those nothing is ever
   * freed. The spare room is released when a write fails and taken again once
   * the disk recovers.
   */
  private async reserve (): Promise<boolean> {
    const spare = join(this.dir, '.reserve')
    try {
      await fsp.writeFile(spare, Buffer.alloc(RESERVE_BYTES))
      return true
    } catch {
      await fsp.rm(spare, { force: true })
      return false
    }
  }

  private async release (): Promise<void> {
    await fsp.rm(join(this.dir, '.reserve'), { force: true })
  }

  private async listSegments (): Promise<number[]> {
    const names = await fsp.readdir(this.dir)
    return names.map(n => SEGMENT_RE.exec(n)).filter(m => m !== null).map(m => Number(m![1])).sort((a, b) => a - b)
  }

  private async recover (onRecover?: (data: Buffer, ts: number) => void): Promise<void> {
    const segs = await this.listSegments()
    const rep = this.recovery
    for (const [i, seg] of segs.entries()) {
      const path = join(this.dir, segName(seg))
      const buf = await fsp.readFile(path)
      const { good, corrupt } = decodeRecords(buf, (data, ts) => { rep.records++; onRecover?.(data, ts) })
      rep.segments++
      rep.bytes += good
      if (good < buf.length) {
        rep.tornBytes += buf.length - good
        if (corrupt) rep.corruptSegments++
        // A torn tail is the normal result of a crash mid-append: cut it so appends continue on a clean edge.
        // Earlier segments are never appended to again; cutting them too keeps readers from stopping there.
        await fsp.truncate(path, good)
      }
      this.sizes.set(seg, good)
      if (i === segs.length - 1) this.active = seg
    }
    if (segs.length === 0) this.active = 1
    await this.openActive()
  }

  private async openActive (): Promise<void> {
    this.fh = await fsp.open(join(this.dir, segName(this.active)), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_APPEND | (DSYNC ?? 0), 0o600)
    if (!this.sizes.has(this.active)) {
      this.sizes.set(this.active, 0)
      await this.syncDir()
    }
  }

  private async syncDir (): Promise<void> {
    const d = await fsp.open(this.dir, 'r')
    try { await d.sync() } finally { await d.close() }
  }

  /** totalBytes is what the log holds on disk plus what waits to be written. */
  get totalBytes (): number {
    let n = this.pendingBytes + this.writingBytes
    for (const s of this.sizes.values()) n += s
    return n
  }

  get maxTotalBytes (): number { return this.maxBytes }

  /** full tells whether an append of n bytes would be refused now. */
  wouldRefuse (n: number): boolean {
    return this.diskError !== undefined || this.totalBytes + n + HEADER_BYTES > this.maxBytes
  }

  /**
   * append queues data for the next group commit and resolves once it is on
   * disk (an O_DSYNC write, or write + fdatasync). It throws E_WAL_FULL at once when the log
   * is at its byte bound or the disk refused the last write.
   */
  append (data: Buffer | readonly Buffer[], decoded?: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new KanshiError('E_SHUTTING_DOWN'))
    if (this.wouldRefuse(payloadBytes(data))) {
      return Promise.reject(new KanshiError('E_WAL_FULL', this.diskError ?? `write-ahead log at its bound of ${this.maxBytes} bytes`))
    }
    const buf = encodeRecord(data, this.now())
    return new Promise((resolve, reject) => {
      this.pending.push({ buf, decoded, resolve, reject })
      this.queuedCount++
      this.pendingBytes += buf.length
      this.scheduleFlush()
    })
  }

  /** records handed to the group commit so far, and those whose flush has ended (durable or failed) */
  private queuedCount = 0
  private settledCount = 0

  /**
   * flushed resolves once everything appended so far is durable (or failed).
   * It waits for the records queued before the call only: waiting until no
   * append was pending at all starved under steady load — at 10,000 agents a
   * reconnecting agent's welcome (which waits here) came after minutes or never.
   */
  async flushed (): Promise<void> {
    const target = this.queuedCount
    while (this.settledCount < target) {
      this.scheduleFlush()
      await new Promise<void>(resolve => this.settleWaiters.push(resolve))
    }
  }

  /** settleWaiters: callers of flushed(), woken after every group commit (durable or failed) */
  private settleWaiters: Array<() => void> = []

  private scheduleFlush (): void {
    if (this.flushing !== undefined) return
    this.flushing = new Promise<void>(resolve => setImmediate(resolve))
      .then(async () => await this.flushLoop())
      .finally(() => {
        this.flushing = undefined
        if (this.pending.length > 0) this.scheduleFlush()
      })
  }

  /**
   * flushLoop runs group commits back to back while appends keep coming. The
   * next commit's write is handed to the disk as soon as the last one is
   * durable, before its appenders are resolved: the disk then works while the
   * main thread sends acks and the readers take the records (issue 8). Before,
   * it waited for all of that, and under load the disk idled 60% of the time
   * while batches waited, and lived long enough to be copied by the GC twice.
   */
  private async flushLoop (): Promise<void> {
    let job = this.startCommit()
    while (job !== undefined) job = await this.finishCommit(job)
  }

  /** startCommit takes what is pending and starts writing it durably; undefined when nothing is. */
  private startCommit (): Commit | undefined {
    const batch = this.pending
    if (batch.length === 0) return undefined
    const total = this.pendingBytes
    this.pending = []
    this.writingBytes = total
    this.pendingBytes = 0
    const fh = this.fh!
    const before = this.sizes.get(this.active)!
    const bufs = batch.map(p => p.buf)
    const io = (async () => {
      await writevAll(fh, bufs, total)
      if (DSYNC === undefined) await fh.datasync()
    })().then(() => undefined, (err: unknown) => err ?? new Error('write failed'))
    return { batch, before, total, t0: performance.now(), io }
  }

  /** finishCommit settles one commit once its write ended; it returns the next commit, already started. */
  private async finishCommit (job: Commit): Promise<Commit | undefined> {
    const { batch, before, total } = job
    const err = await job.io
    this.writingBytes = 0
    if (err !== undefined) {
      // ENOSPC or EIO: cut back to the last good edge so no half record stays behind, and refuse
      // appends until a later write succeeds (the caller stops acking; agents keep spooling).
      await this.fh!.truncate(before).catch(() => {})
      await this.release()
      this.diskError = `write-ahead log write failed: ${(err as NodeJS.ErrnoException).code ?? String(err)}`
      this.scheduleRetryProbe()
      const e = new KanshiError('E_WAL_FULL', this.diskError)
      // Appends queued meanwhile fail too: a later seq must never be stored after an earlier one failed.
      const queued = this.pending
      this.pending = []
      this.pendingBytes = 0
      this.settledCount += batch.length + queued.length
      for (const p of batch) p.reject(e)
      for (const p of queued) p.reject(e)
      this.wakeSettled()
      return undefined
    }
    this.diskError = undefined
    this.sizes.set(this.active, before + total)
    if (this.tailMax > 0) this.remember(batch, before)
    this.onFlush?.(batch.length, total, performance.now() - job.t0)
    const roll = before + total >= this.segmentBytes
    const next = roll ? undefined : this.startCommit()
    this.settledCount += batch.length
    for (const p of batch) p.resolve()
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
    this.wakeSettled()
    if (!roll) return next
    await this.roll()
    return this.startCommit()
  }

  private wakeSettled (): void {
    const w = this.settleWaiters
    this.settleWaiters = []
    for (const f of w) f()
  }

  private remember (batch: Pending[], before: number): void {
    let start = before
    for (const p of batch) {
      const end = start + p.buf.length
      const data = p.buf.subarray(HEADER_BYTES)
      const ts = p.buf.readDoubleLE(8)
      const position = { segment: this.active, offset: end }
      const record: WalRecord = p.decoded === undefined ? { end: position, ts, data } : { end: position, ts, data, entry: p.decoded }
      this.tail.set(`${this.active}:${start}`, { record, bytes: p.buf.length, left: this.readers.size })
      this.tailBytes += p.buf.length
      start = end
    }
    if (this.tailBytes <= this.tailMax) return
    for (const [k, v] of this.tail) {
      this.tail.delete(k)
      this.tailBytes -= v.bytes
      if (this.tailBytes <= this.tailMax) break
    }
  }

  /** heldAt returns the record starting at seg:offset while the WAL still holds it in memory (to each reader once). */
  heldAt (seg: number, offset: number): { record: WalRecord, bytes: number } | undefined {
    const k = `${seg}:${offset}`
    const v = this.tail.get(k)
    if (v === undefined) return undefined
    if (--v.left <= 0) {
      this.tail.delete(k)
      this.tailBytes -= v.bytes
    }
    return v
  }

  private probeTimer: NodeJS.Timeout | undefined
  /** After a disk error, try a tiny write every second so appends resume once space returns. */
  private scheduleRetryProbe (): void {
    if (this.probeTimer !== undefined || this.closed) return
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined
      void this.probe()
    }, 1000)
    this.probeTimer.unref()
  }

  private async probe (): Promise<void> {
    if (this.closed || this.diskError === undefined) return
    const path = join(this.dir, '.probe')
    // Appends resume only once the spare room is set aside again and there is room beyond it.
    // Resuming as soon as 64 KiB were free let the next appends take the room the readers'
    // cursors and the rollup checkpoint needed, so no segment could be freed, and under load
    // the disk stayed full (seen once in the 3 MiB tmpfs test).
    if (await this.reserve()) {
      try {
        await fsp.writeFile(path, Buffer.alloc(64 * 1024))
        await fsp.unlink(path)
        this.diskError = undefined
        return
      } catch {
        await fsp.unlink(path).catch(() => {})
        await this.release()
      }
    }
    this.scheduleRetryProbe()
  }

  private async roll (): Promise<void> {
    await this.fh!.close()
    this.active++
    await this.openActive()
  }

  /** durableEnd is the position after the last durable record. */
  durableEnd (): Position {
    return { segment: this.active, offset: this.sizes.get(this.active)! }
  }

  segmentSize (seg: number): number | undefined { return this.sizes.get(seg) }
  segmentPath (seg: number): string { return join(this.dir, segName(seg)) }
  nextSegment (seg: number): number | undefined {
    let best: number | undefined
    for (const s of this.sizes.keys()) if (s > seg && (best === undefined || s < best)) best = s
    return best
  }

  /** bytesFrom is how many durable bytes lie at and after pos. */
  bytesFrom (pos: Position): number {
    let n = -pos.offset
    for (const [seg, size] of this.sizes) if (seg >= pos.segment) n += size
    return n
  }

  firstSegment (): number {
    return Math.min(...this.sizes.keys())
  }

  /** waitForData resolves on the next successful flush (or at once when closed). */
  waitForData (): Promise<void> {
    if (this.closed) return Promise.resolve()
    return new Promise(resolve => this.waiters.push(resolve))
  }

  reader (name: string): WalReader {
    const r = this.readers.get(name)
    if (r === undefined) throw new Error(`WAL reader ${name} was not registered at open`)
    return r
  }

  private deleting: Promise<number> | undefined

  /**
   * deleteConsumed removes whole segments every reader has moved past. Readers
   * commit independently (storage, rollup, alerting), so calls are chained: two
   * at once ran beforeDelete (the seq checkpoint, a tmp file renamed over the
   * old one) twice over the same tmp file, the second rename failed with
   * ENOENT, and the reader whose commit it was stopped for good.
   */
  async deleteConsumed (): Promise<number> {
    const run = (this.deleting ?? Promise.resolve(0)).catch(() => 0).then(async () => await this.deleteConsumedNow())
    this.deleting = run
    try {
      return await run
    } finally {
      if (this.deleting === run) this.deleting = undefined
    }
  }

  private async deleteConsumedNow (): Promise<number> {
    if (this.readers.size === 0) return 0
    let min = Infinity
    for (const r of this.readers.values()) min = Math.min(min, r.committed.segment)
    const doomed = [...this.sizes.keys()].filter(s => s < min && s !== this.active)
    if (doomed.length === 0) return 0
    await this.beforeDelete?.()
    for (const s of doomed) {
      await fsp.rm(join(this.dir, segName(s)), { force: true })
      this.sizes.delete(s)
    }
    return doomed.length
  }

  async close (): Promise<void> {
    await this.flushed()
    this.closed = true
    while (this.flushing !== undefined) await this.flushing
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer)
    for (const w of this.waiters) w()
    this.waiters = []
    await this.fh?.close()
    this.fh = undefined
  }
}

/**
 * writevAll writes the buffers one after another at the file's position, as
 * one gather write where it can (copying a group commit into one buffer first
 * was a tenth of the WAL's CPU under load, issue 8); a short write goes on
 * from where it stopped.
 */
export async function writevAll (fh: fsp.FileHandle, bufs: readonly Buffer[], total: number): Promise<void> {
  let i = 0
  let written = 0
  let skip = 0 // bytes of bufs[i] written already
  while (written < total) {
    // IOV_MAX is 1024 on Linux; a group commit rarely holds more records.
    const part = bufs.slice(i, i + 1024)
    if (skip > 0) part[0] = part[0]!.subarray(skip)
    let { bytesWritten } = await fh.writev(part)
    written += bytesWritten
    bytesWritten += skip
    skip = 0
    while (i < bufs.length && bytesWritten >= bufs[i]!.length) { bytesWritten -= bufs[i]!.length; i++ }
    skip = bytesWritten
  }
}

/** writeAll writes the whole buffer at the file's position (a write may take only part of it). */
export async function writeAll (fh: fsp.FileHandle, buf: Buffer): Promise<void> {
  await writevAll(fh, [buf], buf.length)
}

/**
 * WalReader is one consumer's cursor. read() moves an in-memory position;
 * commit() persists a position once the consumer has handed the records on.
 */
export class WalReader {
  committed: Position = { segment: 0, offset: 0 }
  private pos: Position = { segment: 0, offset: 0 }
  /** append time of the first record after the committed position, 0 when caught up */
  oldestPendingTs = 0
  private readonly file: string

  constructor (private readonly wal: Wal, readonly name: string) {
    this.file = join(wal.dir, `cursor-${name}.json`)
  }

  /** state saved with the last commit, atomically with the position (a consumer's own checkpoint) */
  state: unknown

  async load (): Promise<void> {
    try {
      const c = JSON.parse(await fsp.readFile(this.file, 'utf8')) as Position & { state?: unknown }
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

  /** when the last read returned and the last commit began (performance.now()), and those waiting for the next read */
  lastReadAt = 0
  lastCommitAt = 0
  private readWaiters: Array<() => void> = []

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
   * commit persists pos (atomically, with an optional state that reflects exactly
   * the records before pos) and lets the WAL delete segments everyone is past.
   */
  async commit (pos: Position, nextTs = 0, state?: unknown): Promise<void> {
    this.lastCommitAt = performance.now()
    this.committed = { ...pos }
    this.oldestPendingTs = nextTs
    this.state = state
    const tmp = `${this.file}.tmp`
    await fsp.writeFile(tmp, JSON.stringify(state === undefined ? pos : { ...pos, state }))
    await fsp.rename(tmp, this.file)
    await this.wal.deleteConsumed()
  }
}

async function readAt (path: string, offset: number, length: number, limit: number): Promise<Buffer> {
  const n = Math.max(0, Math.min(length, limit - offset))
  const fh = await fsp.open(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(n)
    let got = 0
    while (got < n) {
      const { bytesRead } = await fh.read(buf, got, n - got, offset + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    return buf.subarray(0, got)
  } finally {
    await fh.close()
  }
}
