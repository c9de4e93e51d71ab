// The collector's write-ahead log: every accepted batch is appended here, and
// on disk, before the agent gets its ack; storage, rollup and alerting read it.
// Appends are gathered into group commits; segments are opened O_DSYNC where the
// platform has it, so a commit is one write call (elsewhere write + fdatasync).

import { promises as fsp, constants as fsc } from 'node:fs'
import { join } from 'node:path'
import { KanshiError } from '../../../protocol/errors.js'
import { syncDir } from '../../../common/atomic-write.js'
import { DiskGuard } from './disk-guard.js'
import { writevAll } from './file-io.js'
import { MemoryTail, type Held } from './memory-tail.js'
import { encodeRecord, HEADER_BYTES, payloadBytes, segmentName, type Position } from './record.js'
import { recoverSegments, type RecoveryReport } from './recover.js'
import { WalReader } from './reader.js'

const DSYNC: number | undefined = fsc.O_DSYNC

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

interface Pending { buf: Buffer, decoded: unknown, resolve: (end: Position) => void, reject: (e: Error) => void }

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
  /** called once on the next successful flush (or at close); each can be removed again */
  private readonly dataWaiters = new Set<() => void>()
  private readonly readers = new Map<string, WalReader>()
  private closed = false
  private readonly tail: MemoryTail
  /** records handed to the group commit so far, and those whose flush has ended (durable or failed) */
  private queuedCount = 0
  private settledCount = 0
  /** callers of flushed(), woken after every group commit (durable or failed) */
  private settleWaiters: Array<() => void> = []
  private deleting: Promise<number> | undefined
  private readonly disk: DiskGuard
  recovery: RecoveryReport = { segments: 0, records: 0, bytes: 0, tornBytes: 0, corruptSegments: 0 }
  onFlush?: (records: number, bytes: number, ms: number) => void

  private constructor (opts: WalOptions) {
    this.dir = opts.dir
    this.segmentBytes = opts.segmentBytes ?? 64 * 1024 * 1024
    this.maxBytes = opts.maxBytes ?? 1024 * 1024 * 1024
    this.now = opts.now ?? Date.now
    this.disk = new DiskGuard(opts.dir)
    this.tail = new MemoryTail(opts.memoryTailBytes ?? 32 * 1024 * 1024)
    if (opts.beforeDelete !== undefined) this.beforeDelete = opts.beforeDelete
  }

  /** open recovers the log in dir (creating it) and makes it ready to append. */
  static async open (opts: WalOptions): Promise<Wal> {
    const wal = new Wal(opts)
    await fsp.mkdir(opts.dir, { recursive: true })
    for (const [seg, size] of await recoverSegments(opts.dir, wal.recovery, opts.onRecover)) {
      wal.sizes.set(seg, size)
      wal.active = seg
    }
    if (wal.sizes.size === 0) wal.active = 1
    await wal.openActive()
    for (const name of opts.readers) {
      const r = new WalReader(wal, name)
      await r.load()
      wal.readers.set(name, r)
    }
    await wal.deleteConsumed()
    await wal.disk.reserve()
    return wal
  }

  private async openActive (): Promise<void> {
    this.fh = await fsp.open(join(this.dir, segmentName(this.active)), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_APPEND | (DSYNC ?? 0), 0o600)
    if (!this.sizes.has(this.active)) {
      this.sizes.set(this.active, 0)
      await syncDir(this.dir)
    }
  }

  /** totalBytes is what the log holds on disk plus what waits to be written. */
  get totalBytes (): number {
    let n = this.pendingBytes + this.writingBytes
    for (const s of this.sizes.values()) n += s
    return n
  }

  get maxTotalBytes (): number { return this.maxBytes }

  /** diskError is set while the disk refuses writes; cleared by the next successful write */
  get diskError (): string | undefined { return this.disk.error }

  /** wouldRefuse tells whether an append of n bytes would be refused now. */
  wouldRefuse (n: number): boolean {
    return this.diskError !== undefined || this.totalBytes + n + HEADER_BYTES > this.maxBytes
  }

  /**
   * append queues data for the next group commit and resolves, with the position after the record,
   * once it is on disk. It throws E_WAL_FULL at once when the log is at its byte bound or the
   * disk refused the last write.
   */
  append (data: Buffer | readonly Buffer[], decoded?: unknown): Promise<Position> {
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

  /**
   * flushed resolves once everything appended before the call is durable (or
   * failed); waiting for no append pending at all would starve under steady load.
   */
  async flushed (): Promise<void> {
    const target = this.queuedCount
    while (this.settledCount < target) {
      this.scheduleFlush()
      await new Promise<void>(resolve => this.settleWaiters.push(resolve))
    }
  }

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
   * flushLoop runs group commits back to back while appends keep coming: the
   * next commit's write goes to the disk as soon as the last one is durable,
   * before its appenders are resolved, so the disk works while acks go out.
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
      await this.disk.failed(err)
      const e = new KanshiError('E_WAL_FULL', this.disk.error)
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
    this.disk.error = undefined
    this.sizes.set(this.active, before + total)
    if (this.tail.enabled) this.tail.remember(this.active, before, batch, this.readers.size)
    this.onFlush?.(batch.length, total, performance.now() - job.t0)
    const roll = before + total >= this.segmentBytes
    const next = roll ? undefined : this.startCommit()
    this.settledCount += batch.length
    const segment = this.active
    let offset = before
    for (const p of batch) { offset += p.buf.length; p.resolve({ segment, offset }) }
    this.wakeData()
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

  private wakeData (): void {
    if (this.dataWaiters.size === 0) return
    const w = [...this.dataWaiters]
    this.dataWaiters.clear()
    for (const f of w) f()
  }

  /** heldAt returns the record starting at seg:offset while the memory tail holds it (to each reader once). */
  heldAt (seg: number, offset: number): Held | undefined {
    return this.tail.take(seg, offset)
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
  segmentPath (seg: number): string { return join(this.dir, segmentName(seg)) }
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

  /**
   * onData calls wake once, on the next successful flush or at close (soon,
   * never synchronously, when closed already). The returned function removes it unwoken: a waiter
   * that gave up (a timeout, a stop) must not stay in the list.
   */
  onData (wake: () => void): () => void {
    if (this.closed) { queueMicrotask(wake); return () => {} }
    const once = (): void => wake()
    this.dataWaiters.add(once)
    return () => { this.dataWaiters.delete(once) }
  }

  /** waiterCount is how many onData callbacks wait for the next flush. */
  get waiterCount (): number { return this.dataWaiters.size }

  reader (name: string): WalReader {
    const r = this.readers.get(name)
    if (r === undefined) throw new Error(`WAL reader ${name} was not registered at open`)
    return r
  }

  /**
   * deleteConsumed removes whole segments every reader has moved past. Readers
   * commit independently, so calls are chained: two at once would run
   * beforeDelete (the seq checkpoint) concurrently over the same temp file.
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
      await fsp.rm(join(this.dir, segmentName(s)), { force: true })
      this.sizes.delete(s)
    }
    return doomed.length
  }

  async close (): Promise<void> {
    await this.flushed()
    this.closed = true
    while (this.flushing !== undefined) await this.flushing
    this.disk.close()
    this.wakeData()
    await this.fh?.close()
    this.fh = undefined
  }
}
