// The log input (like Telegraf's tail): polls every logs: entry, and spools
// each batch of events together with the positions just past them (one atomic
// Spool.add), so a crash at any point re-reads from the last batch on disk.

import type { Logger } from 'pino'
import type { LogEvent, Point } from '../../../protocol/messages.js'
import { Limits } from '../../../protocol/messages.js'
import type { Accumulator, Input, InputContext } from '../input.js'
import { CURSOR_KEY, type FileSourceSpec } from './config.js'
import { isCursor, type DoneEntry, type FileEntry, type LogCursor } from './cursor.js'
import { FileSource } from './file-source.js'
import { Batch, type Gate, type Stats } from './gate.js'
import type { StreamSource } from './stream.js'

export { CURSOR_KEY }

/** LogSink is where the input spools its batches and positions (the agent, or a test's memory). */
export interface LogSink {
  enqueue(points: Point[], events: LogEvent[], cursors: Record<string, unknown>): Promise<number>
  saveCursors(cursors: Record<string, unknown>): Promise<void>
}

export interface LogInputOptions {
  pollIntervalMs: number
  /** events per batch (≤ the protocol's limit) */
  maxBatchEvents?: number
  /** approximate bytes per batch, well under the frame limit */
  maxBatchBytes?: number
  now?: () => number
  /** by default errors and warnings go to the context's logger, each error once until it changes */
  onError?: (source: string, err: unknown) => void
  onWarn?: (source: string, message: string) => void
}

/** StreamFactory makes a journald or event-log source, so this file stays free of child-process code. */
export type StreamFactory = (stamp: (source: string, t: number) => number, now: number, onError: (source: string, err: unknown) => void) => StreamSource

export class LogInput implements Input {
  readonly name = 'logs'
  private readonly files: FileSource[]
  private readonly streams: StreamSource[]
  private sink: LogSink | undefined
  private lastT: Record<string, number> = {}
  private savedCursor = ''
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = false
  private readonly now: () => number
  private readonly maxBatchEvents: number
  private readonly maxBatchBytes: number
  private logger: Logger | undefined
  private readonly errorSeen = new Map<string, string>()
  polls = 0

  constructor (specs: FileSourceSpec[], private readonly o: LogInputOptions, streams: StreamFactory[] = []) {
    this.now = o.now ?? Date.now
    const stamp = (src: string, t: number): number => this.stamp(src, t)
    this.files = specs.map(s => new FileSource(s, this, this.now()))
    this.streams = streams.map(f => f(stamp, this.now(), (source, err) => this.error(source, err)))
    // Room is left for the one rate-limit report per entry that may follow a full batch.
    this.maxBatchEvents = Math.min(o.maxBatchEvents ?? 2000, Limits.maxEventsPerBatch - specs.length - streams.length)
    this.maxBatchBytes = o.maxBatchBytes ?? 1024 * 1024
  }

  private get gates (): Gate[] { return [...this.files.map(f => f.gate), ...this.streams.map(s => s.gate)] }

  /** start restores the positions saved in the spool and begins polling. */
  start (ctx: InputContext): void {
    this.logger = ctx.logger
    this.attach(ctx, ctx.savedCursor(CURSOR_KEY))
    this.schedule(0)
  }

  /** attach restores the saved positions without polling: pollOnce is then called by the owner (tests). */
  attach (sink: LogSink, saved: unknown): void {
    this.sink = sink
    const c = this.restore(saved)
    for (const s of this.streams) s.start(c.streams?.[s.gate.spec.name])
  }

  private restore (saved: unknown): LogCursor {
    const c: LogCursor = isCursor(saved) ? saved : { v: 1, files: {}, lastT: {} }
    this.lastT = { ...c.lastT }
    for (const s of this.files) s.restore(c.files[s.spec.name], c.done?.[s.spec.name], c.polledAt)
    this.savedCursor = JSON.stringify(c)
    return c
  }

  private schedule (delay: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.running = this.pollOnce().catch(err => this.error('logs', err)).finally(() => {
        this.running = undefined
        this.schedule(this.o.pollIntervalMs)
      })
    }, delay)
  }

  /** stamp gives an event its time: t, or just after the source's last event, so none share a millisecond. */
  stamp (source: string, t: number): number {
    const at = Math.max(Math.trunc(t), (this.lastT[source] ?? 0) + 1)
    this.lastT[source] = at
    return at
  }

  warn (source: string, message: string): void {
    if (this.o.onWarn !== undefined) this.o.onWarn(source, message)
    else this.logger?.warn({ source }, message)
  }

  /** error reports a source's failure; logged when it first appears or changes, not every poll. */
  private error (source: string, err: unknown): void {
    if (this.o.onError !== undefined) return this.o.onError(source, err)
    const msg = String((err as Error).message ?? err)
    if (this.errorSeen.get(source) === msg) return
    this.errorSeen.set(source, msg)
    this.logger?.warn({ source, err: msg }, 'log source failed')
  }

  /**
   * cursor is what a restart needs. polledAt is the threshold in force (the
   * start of the previous complete poll), or the start of this poll on the
   * very first one: a file rotated away unseen after that was written after it.
   */
  cursor (now: number, started: number = now): LogCursor {
    const files: Record<string, FileEntry[]> = {}
    const done: Record<string, DoneEntry[]> = {}
    let polledAt: number | undefined
    for (const s of this.files) {
      if (s.initialized || s.saved.size > 0) files[s.spec.name] = s.entries()
      const d = s.doneEntries(now)
      if (d.length > 0) done[s.spec.name] = d
      const at = s.polledAt ?? started
      polledAt = Math.min(polledAt ?? at, at)
    }
    const streams: Record<string, unknown> = {}
    for (const s of this.streams) {
      const c = s.cursor()
      if (c !== undefined) streams[s.gate.spec.name] = c
    }
    const lastT: Record<string, number> = {}
    // A source whose last stamp the clock has passed needs no memory.
    for (const [k, v] of Object.entries(this.lastT)) if (v >= now - 1000) lastT[k] = v
    this.lastT = lastT
    return { v: 1, files, lastT, ...(polledAt !== undefined ? { polledAt } : {}), ...(Object.keys(done).length > 0 ? { done } : {}), ...(this.streams.length > 0 ? { streams } : {}) }
  }

  /** pollOnce reads every source and spools what it read, batch by batch, with the positions after it. */
  async pollOnce (): Promise<void> {
    if (this.sink === undefined) throw new Error('log input not started')
    this.polls++
    const started = this.now()
    for (;;) {
      const now = this.now()
      const batch = new Batch(this.maxBatchEvents, this.maxBatchBytes)
      let complete = true
      for (const s of [...this.files, ...this.streams]) {
        try {
          if (!await s.poll(batch, now)) { complete = false; break }
        } catch (err) {
          s.gate.stats.errors++
          this.error(s.gate.spec.name, err)
        }
      }
      for (const g of this.gates) g.reportDrops(batch, now)
      const cursor = this.cursor(now, started)
      const text = JSON.stringify(cursor)
      try {
        if (batch.events.length > 0) await this.sink.enqueue([], batch.events, { [CURSOR_KEY]: cursor })
        else if (text !== this.savedCursor) await this.sink.saveCursors({ [CURSOR_KEY]: cursor })
        this.savedCursor = text
      } catch (err) {
        // Not on disk: forget what was read since the last saved positions and read it again next time.
        this.error('logs', err)
        const saved = JSON.parse(this.savedCursor) as LogCursor
        for (const s of this.files) await s.close()
        this.restore(saved)
        for (const s of this.streams) { await s.close(); s.start(saved.streams?.[s.gate.spec.name]) }
        return
      }
      if (complete || this.stopped) {
        if (complete) for (const s of this.files) s.polledAt = started
        return
      }
    }
  }

  async gather (acc: Accumulator): Promise<void> {
    for (const s of this.files) {
      acc.add('log_input', {
        ...counters(s.stats),
        bytes: s.bytesRead,
        files: s.followers.size,
        lag_bytes: await s.lagBytes()
      }, { source: s.spec.name })
    }
    for (const s of this.streams) acc.add('log_input', { ...counters(s.gate.stats), backlog: s.backlog }, { source: s.gate.spec.name })
  }

  /**
   * close stops polling: after the current round, one last round sends what
   * was written since (one batch at most) with its positions; a held
   * multiline record stays held and is read again at the next start.
   */
  async close (): Promise<void> {
    const first = !this.stopped
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    await this.running
    if (first && this.sink !== undefined) await this.pollOnce().catch(err => this.error('logs', err))
    for (const s of this.files) await s.close()
    for (const s of this.streams) await s.close()
  }
}

function counters (s: Stats): Record<string, number> {
  return { lines: s.lines, filtered: s.filtered, dropped_rate_limit: s.dropped, truncated: s.truncated, lost_files: s.lostFiles, errors: s.errors, redacted: s.redacted }
}
