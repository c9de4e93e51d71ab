// Drains the WAL into a storage back end in batches (batchLines or lingerMs), through
// RetryingBackend and bad-batch isolation; the cursor moves past a batch only once it and every
// batch before it were stored (a repeated write after a crash is idempotent in InfluxDB).
// Raw batches in flight hold disjoint WAL ranges; rollup lines go one batch after another; log
// events go to their own retention (Target 'logs'). With several InfluxDB targets there is one
// writer per target, each with its own cursor; skipTo() gives up a failing target's backlog.

import type { Logger } from 'pino'
import { WalConsumer, type Wal, type WalReader, type WalRecord, type Position } from '../state/wal/index.js'
import { pointCount, recordEntry } from '../state/entry.js'
import { backoffDelay } from '../../common/backoff.js'
import type { Refused } from '../../common/send-result.js'
import type { Metrics } from '../metrics.js'
import type { StorageBackend, Target } from './backend.js'
import { entryToLines } from './line-protocol.js'
import { WriteBatch, pointBody, pointLines } from './write-batch.js'
import type { WalEntry } from '../state/entry.js'
import type { DeadLetter } from './dead-letter.js'
import { RetryingBackend } from './retrying-backend.js'
import { toDeadLetter, writeIsolating } from './isolate.js'

export interface WriterOptions {
  wal: Wal
  reader: WalReader
  backend: StorageBackend
  deadLetter: DeadLetter
  metrics: Metrics
  logger: Logger
  batchLines?: number
  /** lines a request may grow to while more records wait to be read (a backlog); default batchLines */
  backlogBatchLines?: number
  lingerMs?: number
  minBackoffMs?: number
  maxBackoffMs?: number
  readBytes?: number
  /** batches in flight at once (default 3; the targets ask for 4, as many as the bench's direct writer) */
  concurrency?: number
  random?: () => number
  /** false: leave rollup records out (this target has influx.rollups: false while another has them) */
  rollups?: boolean
  /** the target's name (metric label `target`), with several InfluxDB targets */
  target?: string
  /** told every position the cursor committed (the stored position of StorageTargets) */
  onCommit?: (pos: Position) => void
  /** told how many lines and WAL records a skipTo() gave up, and their time span (append times) */
  onSkipped?: (s: Skipped) => void
}

/** What skipTo() gave up: lines (points and log events) never written to this target. */
export interface Skipped { lines: number, records: number, bytes: number, firstTs: number, lastTs: number, to: Position }

class Stopped extends Error {}

/** a batch that is not full stops lingering after this long without a new durable record */
export const QUIET_MS = 100

/** before tells whether WAL position a comes before b. */
export function before (a: Position, b: Position): boolean {
  return a.segment < b.segment || (a.segment === b.segment && a.offset < b.offset)
}
/** thrown out of the loop to give up the backlog up to skipWanted */
class Skip extends Error {}

/** One batch in flight: the WAL position after its last record, and how its writes ended. */
interface InFlight { end: Position, done: Promise<void>, err?: unknown }

export class StorageWriter {
  private stopping = false
  private wake: (() => void) | undefined
  private loop: Promise<void> | undefined
  private readonly batchLines: number
  private readonly backlogLines: number
  private readonly lingerMs: number
  private readonly concurrency: number
  private readonly consumer: WalConsumer
  private readonly abort = new AbortController()
  private readonly store: RetryingBackend
  private readonly refused: (line: string, r: Refused) => Promise<void>
  /** why the loop last failed, until the next good write */
  private loopError: string | undefined
  /** a position the backlog is to be given up to (skipTo), until the loop did it */
  private skipWanted: Position | undefined

  constructor (private readonly o: WriterOptions) {
    this.consumer = new WalConsumer(o.wal, o.reader, o.readBytes)
    this.batchLines = o.batchLines ?? 5000
    this.backlogLines = Math.max(this.batchLines, o.backlogBatchLines ?? this.batchLines)
    this.lingerMs = o.lingerMs ?? 1000
    this.concurrency = Math.max(1, o.concurrency ?? 3)
    const { backend, metrics, logger } = o
    this.store = new RetryingBackend(backend, {
      metrics, logger, minBackoffMs: o.minBackoffMs, maxBackoffMs: o.maxBackoffMs, random: o.random, signal: this.abort.signal,
      giveUp: () => this.skipWanted !== undefined,
      ...(o.target !== undefined ? { target: o.target } : {})
    })
    this.refused = toDeadLetter({ deadLetter: o.deadLetter, metrics, logger, backend: backend.name, ...(o.target !== undefined ? { target: o.target } : {}) })
  }

  /** healthy is false from the first failed write (or loop failure) until the next good one */
  get healthy (): boolean { return this.loopError === undefined && this.store.healthy }
  get lastError (): string | undefined { return this.loopError ?? this.store.lastError }

  /** restarts counts how often the loop failed on an unexpected error and was started again */
  restarts = 0

  /**
   * start runs the write loop under supervision: an unexpected error is logged, shown on /readyz,
   * and the loop restarts from the last committed position after a backoff.
   */
  start (): void {
    const policy = { minMs: this.o.minBackoffMs ?? 500, maxMs: this.o.maxBackoffMs ?? 30_000, random: this.o.random }
    this.loop = (async () => {
      for (let attempt = 0; !this.stopping; attempt++) {
        try {
          await this.run()
          return
        } catch (err) {
          if (err instanceof Stopped || this.stopping) return
          this.restarts++
          this.o.metrics.writerRestarts.inc(this.o.target === undefined ? {} : { target: this.o.target })
          this.loopError = `writer failed (${String((err as Error).message ?? err).slice(0, 200)}); restarting from the last written position`
          const delay = backoffDelay(policy, attempt)
          this.o.logger.error({ err, restarts: this.restarts, retryInMs: delay }, 'storage writer failed on an unexpected error; restarting it from the last committed position')
          await this.sleep(delay)
        }
      }
    })()
  }

  /**
   * skipTo asks the loop to give up every record before to (a segment start or a committed
   * position of another target): the retries under way end, the skipped lines are counted
   * (onSkipped) and the cursor moves to to. Used only while this target fails and others store.
   */
  skipTo (to: Position): void {
    if (before(this.o.reader.committed, to)) this.skipWanted = to
  }

  /** skipping tells whether a skipTo() waits to be done */
  get skipping (): boolean { return this.skipWanted !== undefined }

  /** stop ends the loop after the write in flight (or at once when waiting); unsent records stay in the WAL. */
  async stop (): Promise<void> {
    this.stopping = true
    this.consumer.stop()
    this.abort.abort()
    this.wake?.()
    await this.loop
  }

  private sleep (ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve()
    return new Promise(resolve => {
      const done = (): void => { clearTimeout(timer); this.wake = undefined; resolve() }
      const timer = setTimeout(done, ms)
      this.wake = done
    })
  }

  private async run (): Promise<void> {
    for (;;) {
      try {
        await this.runOnce()
        return
      } catch (err) {
        if (!(err instanceof Skip) || this.stopping) throw err
        await this.skipBacklog()
      }
    }
  }

  /** skipBacklog reads (to count) and commits past the records before skipWanted; the loop was rewound. */
  private async skipBacklog (): Promise<void> {
    const to = this.skipWanted!
    const { reader, wal } = this.o
    if (!before(reader.committed, to)) { this.skipWanted = undefined; return } // caught up meanwhile: nothing to give up
    const s: Skipped = { lines: 0, records: 0, bytes: wal.bytesFrom(reader.committed) - wal.bytesFrom(to), firstTs: 0, lastTs: 0, to }
    const sink: string[] = []
    for (;;) {
      const recs = await this.consumer.read()
      let past = recs.length === 0
      for (const r of recs) {
        if (before(to, r.end)) { past = true; break }
        entryToLines(recordEntry(r), sink)
        s.lines += sink.length
        sink.length = 0
        s.records++
        if (s.firstTs === 0) s.firstTs = r.ts
        s.lastTs = r.ts
      }
      if (past) break
    }
    reader.rewind()
    await reader.commit(to)
    reader.rewind()
    this.skipWanted = undefined
    this.o.onCommit?.(to)
    this.o.onSkipped?.(s)
  }

  private async runOnce (): Promise<void> {
    const { reader } = this.o
    const c = this.consumer
    const inflight: InFlight[] = []
    let rollupChain: Promise<void> = Promise.resolve()
    // Records read but not yet in a batch: a batch takes whole records up to batchLines, the rest wait here.
    let queue: WalRecord[] = []
    let qi = 0
    try {
      // prepare() gives up only on stop, or for a skipTo() while the target is still down.
      if ((await this.store.prepare()).kind !== 'ok') throw new Stopped()
      while (!this.stopping) {
        if (this.skipWanted !== undefined) throw new Skip()
        const batch = new WriteBatch()
        let end: Position | undefined
        const started = Date.now()
        for (;;) {
          const count = batch.count
          if (this.stopping || this.skipWanted !== undefined) break
          // Behind (more records wait, read or still in the WAL), a request may grow to backlogBatchLines:
          // InfluxDB fsyncs its WAL once per request, and beside the collector's own fsyncs fewer, larger
          // requests drain a backlog faster (BENCHMARKS.md section 2). Caught up, batchLines and the linger.
          const limit = qi + 1 < queue.length || !reader.caughtUp() ? this.backlogLines : this.batchLines
          if (count >= limit) break
          if (qi < queue.length) {
            const r = queue[qi]!
            const e = recordEntry(r)
            if (e.rollup === true && this.o.rollups === false) { end = r.end; qi++; continue }
            // Whole records only, and no request over the limit unless one record alone is larger:
            // 5,000 + 4,018 lines as two requests cost InfluxDB a WAL write and fsync more than 4,509 + 4,509.
            if (count > 0 && count + pointCount(e) + (e.e?.length ?? 0) > limit) break
            batch.add(e)
            end = r.end
            qi++
            continue
          }
          // The WAL consume loop's read and wait, driven here: a batch spans reads until full or lingered.
          const recs = await c.read()
          queue = recs
          qi = 0
          if (recs.length === 0) {
            if (batch.count === 0) {
              // Idle: settle what is in flight first, so the cursor does not wait for the next data.
              if (inflight.length > 0) { await this.settle(inflight, true); continue }
              await c.wait(1000)
              continue
            }
            const left = this.lingerMs - (Date.now() - started)
            if (left <= 0) break
            // Linger while records keep coming: QUIET_MS without a new durable record ends it, so the
            // last request of a burst does not wait out flushInterval (a quarter of a bench run).
            await c.wait(Math.min(left, QUIET_MS))
            if (reader.caughtUp()) break
          }
        }
        if (end === undefined) continue
        const raw = batch.logs.length === 0 ? this.sendEntries(batch.raw, 'raw') : Promise.all([this.sendEntries(batch.raw, 'raw'), this.sendAll(batch.logs, 'logs')]).then(() => {})
        rollupChain = rollupChain.then(async () => { await raw.catch(() => {}); await this.sendEntries(batch.rollup, 'rollup') })
        const job: InFlight = { end, done: Promise.resolve() }
        job.done = Promise.all([raw, rollupChain]).then(() => {}, (err: unknown) => { job.err = err })
        // A failed rollup write must not let later ones pass it: the chain carries the failure on.
        inflight.push(job)
        await this.settle(inflight, false)
      }
      await this.settle(inflight, true)
    } catch (err) {
      await Promise.all(inflight.map(j => j.done))
      // Batches that were stored (an unbroken prefix) are committed: not rewritten, not counted as skipped.
      let stored: Position | undefined
      for (const j of inflight) { if (j.err !== undefined) break; stored = j.end }
      if (stored !== undefined && this.commitError === undefined) void this.commitSoon(stored)
      await this.committing
      this.commitError = undefined
      reader.rewind()
      if (err instanceof Stopped) {
        if (this.skipWanted !== undefined && !this.stopping) throw new Skip()
        return
      }
      throw err
    }
  }

  /**
   * sendEntries writes the entries' points: as one body of bytes when the back end takes one and
   * the batch is not over batchLines, else (and to find the line InfluxDB refused) as text lines.
   */
  private async sendEntries (entries: WalEntry[], target: Target): Promise<void> {
    if (entries.length === 0) return
    if (this.o.backend.writeBody !== undefined) {
      let count = 0
      for (const e of entries) count += pointCount(e)
      if (count <= this.backlogLines) {
        const body = pointBody(entries, count)
        if (body.lines === 0) return
        const r = await this.store.writeBody(body.bytes(), body.lines, target)
        if (r.kind === 'ok') { this.loopError = undefined; return }
        if (r.kind === 'retry') throw new Stopped() // aborted: shutdown or skipTo()
        // Refused for good: bisect the lines as text below, to keep every good one and dead-letter the bad.
      }
    }
    await this.sendAll(pointLines(entries), target)
  }

  private async sendAll (all: string[], target: Target): Promise<void> {
    for (let i = 0; i < all.length; i += this.batchLines) await this.send(all.slice(i, i + this.batchLines), target)
  }

  /**
   * settle waits for the oldest batches in flight until there is room for another (with all, until
   * none is left), and commits after the last one that succeeded with everything before it.
   */
  private async settle (inflight: InFlight[], all: boolean): Promise<void> {
    this.throwCommitError()
    let end: Position | undefined
    while (inflight.length > 0 && (all || inflight.length >= this.concurrency)) {
      const j = inflight[0]!
      await j.done
      if (j.err !== undefined) {
        if (end !== undefined) await this.commitSoon(end)
        throw j.err
      }
      inflight.shift()
      end = j.end
    }
    if (end !== undefined) void this.commitSoon(end) // never rejects: a failure is kept for the next settle
    if (all) {
      await this.committing
      this.throwCommitError()
    }
  }

  /** the cursor commit under way, and the position asked for while it runs (cursor writes coalesce) */
  private committing: Promise<void> | undefined
  private commitNext: Position | undefined
  private commitError: unknown

  /**
   * commitSoon moves the cursor to end without holding up the loop (a slow cursor write would hold
   * ingest up through flow control). Commits run one at a time; a failure surfaces at the next settle.
   */
  private commitSoon (end: Position): Promise<void> {
    this.commitNext = end
    this.committing ??= (async () => {
      try {
        while (this.commitNext !== undefined) {
          const pos = this.commitNext
          this.commitNext = undefined
          await this.o.reader.commit(pos)
          this.o.onCommit?.(pos)
        }
      } catch (err) {
        this.commitNext = undefined
        this.commitError = err
      } finally {
        this.committing = undefined
      }
    })()
    return this.committing
  }

  private throwCommitError (): void {
    const err = this.commitError
    if (err === undefined) return
    this.commitError = undefined
    throw err
  }

  /** send writes lines until they are stored or dead-lettered; it throws Stopped on shutdown. */
  private async send (lines: string[], target: Target): Promise<void> {
    if (!await writeIsolating(async l => await this.store.write(l, target), lines, this.refused)) throw new Stopped()
    this.loopError = undefined
  }
}
