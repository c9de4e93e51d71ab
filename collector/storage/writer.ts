// Drains the WAL into a storage back end: batches of up to batchLines lines or
// lingerMs, retried with jittered backoff (honouring Retry-After), refused lines
// isolated by bisection and dead-lettered, and the WAL cursor committed only
// after InfluxDB said yes. Rewriting a point is idempotent in InfluxDB, so a
// crash between write and commit repeats a write but never duplicates a point.
//
// Up to `concurrency` batches are in flight at once (InfluxDB takes parallel
// writes on several cores; one at a time left it idle while the collector
// rendered the next batch). The cursor only moves past a batch once it and every
// batch before it succeeded, so a failure or shutdown rewinds to a point before
// anything unwritten. Raw batches hold disjoint WAL ranges and ingest never stores
// a point twice, so no two writes in flight carry the same series and timestamp;
// rollup lines are sent one batch after another, in WAL order, all the same.

import type { Logger } from 'pino'
import { WalConsumer, type Wal, type WalReader, type Position } from '../state/wal/index.js'
import { recordEntry, type WalEntry } from '../state/entry.js'
import type { Metrics } from '../metrics.js'
import type { SendResult, StorageBackend, Target } from './backend.js'
import { eventsToLines, pointLine, seriesOf } from './line-protocol.js'
import type { DeadLetter } from './dead-letter.js'

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

export function entryToLines (e: WalEntry, out: string[]): void {
  const series = seriesOf(e)
  for (let i = 0; i < e.p.length; i++) {
    const p = e.p[i]!
    const line = pointLine(series[i]!, p.f, p.t)
    if (line !== undefined) out.push(line)
  }
  if (e.e !== undefined && e.e.length > 0) eventsToLines(e.e, out)
}

class Stopped extends Error {}

/** One batch in flight: the WAL position after its last record, and how its writes ended. */
interface InFlight { end: Position, done: Promise<void>, err?: unknown }

export class StorageWriter {
  /** healthy is false from the first failed write until the next good one */
  healthy = false
  lastError: string | undefined
  lastOkAt = 0
  private stopping = false
  private wake: (() => void) | undefined
  private loop: Promise<void> | undefined
  private readonly batchLines: number
  private readonly lingerMs: number
  private readonly minBackoff: number
  private readonly maxBackoff: number
  private readonly random: () => number
  private readonly concurrency: number
  private prepared = false
  private readonly consumer: WalConsumer

  constructor (private readonly o: WriterOptions) {
    this.consumer = new WalConsumer(o.wal, o.reader, o.readBytes)
    this.batchLines = o.batchLines ?? 5000
    this.lingerMs = o.lingerMs ?? 1000
    this.minBackoff = o.minBackoffMs ?? 500
    this.maxBackoff = o.maxBackoffMs ?? 30_000
    this.random = o.random ?? Math.random
    this.concurrency = Math.max(1, o.concurrency ?? 3)
  }

  /** restarts counts how often the loop failed on an unexpected error and was started again */
  restarts = 0

  /**
   * start runs the write loop under supervision: an unexpected error (a WAL
   * read failure, a bug) is logged, shown on /readyz, and the loop starts
   * again from the last committed position after a backoff. A dead loop
   * would let the collector ack data that never reaches InfluxDB.
   */
  start (): void {
    this.loop = (async () => {
      let delay = this.minBackoff
      while (!this.stopping) {
        try {
          await this.run()
          return
        } catch (err) {
          if (err instanceof Stopped || this.stopping) return
          this.restarts++
          this.o.metrics.writerRestarts.inc()
          this.healthy = false
          this.lastError = `writer failed (${String((err as Error).message ?? err).slice(0, 200)}); restarting from the last written position`
          this.o.logger.error({ err, restarts: this.restarts, retryInMs: delay }, 'storage writer failed on an unexpected error; restarting it from the last committed position')
          await this.sleep(delay)
          delay = Math.min(delay * 2, this.maxBackoff)
        }
      }
    })()
  }

  /** stop ends the loop after the write in flight (or at once when waiting); unsent records stay in the WAL. */
  async stop (): Promise<void> {
    this.stopping = true
    this.consumer.stop()
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
      while (!this.stopping) {
        if (!this.prepared) await this.prepare()
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
   * settle waits for the oldest batches in flight — until there is room for
   * another (or, with all, until none is left) — and commits the position
   * after the last of them that succeeded with everything before it.
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
   * commitSoon moves the cursor to end without holding up the loop. The cursor file (a write and a
   * rename) waited behind the WAL's synchronous writes under load; while the loop waited for it the reader
   * fell more than 16 MiB behind, and flow control held ingest up (issue 8). Commits run one at a
   * time; the last position asked for while one runs is written next. A failed one is thrown from
   * the next settle, which restarts the loop from the last position committed.
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

  private async prepare (): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      const r = await this.o.backend.prepare()
      if (r.kind === 'ok') { this.prepared = true; return }
      this.noteFailure(r.reason)
      await this.sleep(this.backoff(attempt))
    }
  }

  private backoff (attempt: number): number {
    const cap = Math.min(this.maxBackoff, this.minBackoff * 2 ** Math.min(attempt - 1, 20))
    return cap / 2 + this.random() * cap / 2
  }

  private noteFailure (reason: string): void {
    if (this.healthy || this.lastError === undefined) this.o.logger.warn({ reason }, 'storage write failing; data is kept in the WAL and retried')
    this.healthy = false
    this.lastError = reason
    this.o.metrics.storageUp.set({ backend: this.o.backend.name }, 0)
  }

  /** send writes lines until they are stored or dead-lettered; it throws Stopped on shutdown. */
  private async send (lines: string[], target: Target = 'raw'): Promise<void> {
    const { backend, metrics } = this.o
    const name = backend.name
    for (let attempt = 1; ; attempt++) {
      if (this.stopping && attempt > 1) throw new Stopped()
      const t0 = performance.now()
      const r: SendResult = await backend.write(lines, target)
      metrics.writeDuration.observe({ backend: name, result: r.kind }, (performance.now() - t0) / 1000)
      if (r.kind === 'ok') {
        if (!this.healthy && this.lastError !== undefined) this.o.logger.info('storage writes succeed again')
        this.healthy = true
        this.lastOkAt = Date.now()
        metrics.storageUp.set({ backend: name }, 1)
        metrics.pointsWritten.inc({ backend: name }, lines.length)
        return
      }
      if (r.kind === 'fail') return await this.isolate(lines, target, r.reason, r.status)
      metrics.writeRetries.inc({ backend: name })
      this.noteFailure(r.reason)
      if (r.status === 404) this.prepared = (await backend.prepare()).kind === 'ok'
      await this.sleep(r.afterMs ?? this.backoff(attempt))
      if (this.stopping) throw new Stopped()
    }
  }

  /** isolate splits a refused batch until the refused lines stand alone, and dead-letters those. */
  private async isolate (lines: string[], target: Target, reason: string, status?: number): Promise<void> {
    if (lines.length === 1) {
      await this.o.deadLetter.add(lines, reason, status)
      this.o.metrics.deadLettered.inc({ backend: this.o.backend.name }, 1)
      this.o.logger.error({ reason, status, line: lines[0]!.slice(0, 200) }, 'storage refused a point for good; moved to the dead-letter file')
      return
    }
    const mid = lines.length >> 1
    await this.send(lines.slice(0, mid), target)
    await this.send(lines.slice(mid), target)
  }
}
