// Drains the WAL into a storage back end in batches (batchLines or lingerMs), through
// RetryingBackend and bad-batch isolation; the cursor moves past a batch only once it and every
// batch before it were stored (a repeated write after a crash is idempotent in InfluxDB).
// Raw batches in flight hold disjoint WAL ranges; rollup lines go one batch after another.

import type { Logger } from 'pino'
import { WalConsumer, type Wal, type WalReader, type Position } from '../state/wal/index.js'
import { recordEntry } from '../state/entry.js'
import { backoffDelay } from '../../common/backoff.js'
import type { Refused } from '../../common/send-result.js'
import type { Metrics } from '../metrics.js'
import type { StorageBackend, Target } from './backend.js'
import { entryToLines } from './line-protocol.js'
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
  lingerMs?: number
  minBackoffMs?: number
  maxBackoffMs?: number
  readBytes?: number
  /** batches in flight at once (default 3) */
  concurrency?: number
  random?: () => number
}

class Stopped extends Error {}

/** One batch in flight: the WAL position after its last record, and how its writes ended. */
interface InFlight { end: Position, done: Promise<void>, err?: unknown }

export class StorageWriter {
  private stopping = false
  private wake: (() => void) | undefined
  private loop: Promise<void> | undefined
  private readonly batchLines: number
  private readonly lingerMs: number
  private readonly concurrency: number
  private readonly consumer: WalConsumer
  private readonly abort = new AbortController()
  private readonly store: RetryingBackend
  private readonly refused: (line: string, r: Refused) => Promise<void>
  /** why the loop last failed, until the next good write */
  private loopError: string | undefined

  constructor (private readonly o: WriterOptions) {
    this.consumer = new WalConsumer(o.wal, o.reader, o.readBytes)
    this.batchLines = o.batchLines ?? 5000
    this.lingerMs = o.lingerMs ?? 1000
    this.concurrency = Math.max(1, o.concurrency ?? 3)
    const { backend, metrics, logger } = o
    this.store = new RetryingBackend(backend, {
      metrics, logger, minBackoffMs: o.minBackoffMs, maxBackoffMs: o.maxBackoffMs, random: o.random, signal: this.abort.signal
    })
    this.refused = toDeadLetter({ deadLetter: o.deadLetter, metrics, logger, backend: backend.name })
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
          this.o.metrics.writerRestarts.inc()
          this.loopError = `writer failed (${String((err as Error).message ?? err).slice(0, 200)}); restarting from the last written position`
          const delay = backoffDelay(policy, attempt)
          this.o.logger.error({ err, restarts: this.restarts, retryInMs: delay }, 'storage writer failed on an unexpected error; restarting it from the last committed position')
          await this.sleep(delay)
        }
      }
    })()
  }

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
    const { reader } = this.o
    const c = this.consumer
    const inflight: InFlight[] = []
    let rollupChain: Promise<void> = Promise.resolve()
    try {
      if ((await this.store.prepare()).kind !== 'ok') return
      while (!this.stopping) {
        const lines: string[] = []
        const rollupLines: string[] = []
        let end: Position | undefined
        const started = Date.now()
        while (lines.length + rollupLines.length < this.batchLines && !this.stopping) {
          // The WAL consume loop's read and wait, driven here: a batch spans reads until full or lingered.
          const recs = await c.read()
          if (recs.length === 0) {
            if (lines.length + rollupLines.length === 0) {
              // Idle: settle what is in flight first, so the cursor does not wait for the next data.
              if (inflight.length > 0) { await this.settle(inflight, true); continue }
              await c.wait(1000)
              continue
            }
            const left = this.lingerMs - (Date.now() - started)
            if (left <= 0) break
            await c.wait(left)
            if (reader.caughtUp()) break
            continue
          }
          for (const r of recs) {
            const e = recordEntry(r)
            entryToLines(e, e.rollup === true ? rollupLines : lines)
            end = r.end
          }
        }
        if (end === undefined) continue
        const raw = this.sendAll(lines, 'raw')
        rollupChain = rollupChain.then(async () => { await raw.catch(() => {}); await this.sendAll(rollupLines, 'rollup') })
        const job: InFlight = { end, done: Promise.resolve() }
        job.done = Promise.all([raw, rollupChain]).then(() => {}, (err: unknown) => { job.err = err })
        // A failed rollup write must not let later ones pass it: the chain carries the failure on.
        inflight.push(job)
        await this.settle(inflight, false)
      }
      await this.settle(inflight, true)
    } catch (err) {
      await Promise.all(inflight.map(j => j.done))
      await this.committing
      this.commitError = undefined
      reader.rewind()
      if (err instanceof Stopped) return
      throw err
    }
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
