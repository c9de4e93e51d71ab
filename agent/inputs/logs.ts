// The log input (like Telegraf's tail and Filebeat's filestream): follows
// files named by globs, turns their lines into log_event events, and sends
// them with the same spool and ack guarantees as metrics.
//
// Exactly once across restarts and rotation: each poll reads, then spools one
// batch carrying both the events and the offsets just past them (Spool.add
// saves the two atomically), so a crash at any point re-reads from the
// offsets of the last batch on disk. Offsets never point into a line or into
// a held multiline record. A rotated file is identified by inode and head
// fingerprint and read to its end; a copytruncate copy is found by its head.

import { promises as fsp } from 'node:fs'
import type { LogEvent, Point } from '../../protocol/messages.js'
import { Limits } from '../../protocol/messages.js'
import type { Accumulator, Input } from './input.js'
import { clip, decoder, detectLevel, levelRank, Multiline, TokenBucket, type Encoding, type Level, type LogRecord, type MultilineOptions } from './logline.js'
import { globFiles, Follower, headMatches, idOf, keyOf, siblings, statBig, type Line } from './tail.js'

export interface FileSourceSpec extends GateSpec {
  paths: string[]
  encoding: Encoding
  startAt: 'end' | 'beginning'
  multiline?: MultilineOptions & { timeoutMs: number }
  maxLineBytes: number
  rotateWaitMs: number
}

/** One file's saved position: what a restart needs to find the file again and go on. */
export interface FileEntry {
  source: string
  path: string
  dev: string
  ino: string
  offset: number
  fp: string
  fpLen: number
  skipping: boolean
}

/** A rotated file read to its end and closed: remembered for a day so that it is never read again. */
export interface DoneEntry { dev: string, ino: string, fp: string, fpLen: number, at: number }

export interface LogCursor {
  v: 1
  /** start of the last poll whose reading is complete: rotated files written after it may be unseen ones */
  polledAt?: number
  /** per entry name: rotated files already read to their end */
  done?: Record<string, DoneEntry[]>
  /** per entry name: its files (an empty list still says the entry has run before) */
  files: Record<string, FileEntry[]>
  /** per event source: the last timestamp given, so each event has its own millisecond */
  lastT: Record<string, number>
  /** per journald / winevent entry: its cursor */
  streams?: Record<string, unknown>
}

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
  onError?: (source: string, err: unknown) => void
  onWarn?: (source: string, message: string) => void
}

export { CURSOR_KEY } from '../logs-config.js'
import { CURSOR_KEY } from '../logs-config.js'
const READ_BYTES = 1024 * 1024
const TRUNCATED = ' …[truncated by kanshi]'

export interface Stats { lines: number, filtered: number, dropped: number, truncated: number, lostFiles: number, errors: number }

interface Tracked { f: Follower, ml: Multiline }

/** What every source type shares: filters, level floor, rate limit, and the counters of each. */
export interface GateSpec {
  name: string
  source?: string
  levels: ReadonlyArray<[Level, RegExp]>
  defaultLevel: Level
  minLevel: Level
  include: RegExp[]
  exclude: RegExp[]
  rateLimit: number
  burst: number
  tags: Record<string, string>
}

/**
 * Gate decides whether a record becomes an event: include/exclude filters,
 * the minimum level and the per-source rate limit, counting each refusal;
 * the rate limit's drops are also reported as one event per poll.
 */
export class Gate {
  readonly stats: Stats = { lines: 0, filtered: 0, dropped: 0, truncated: 0, lostFiles: 0, errors: 0 }
  private droppedUnreported = 0
  private readonly bucket: TokenBucket

  constructor (readonly spec: GateSpec, private readonly stamp: (source: string, t: number) => number, now: number) {
    this.bucket = new TokenBucket(spec.rateLimit, spec.burst, now)
  }

  /** pass adds the record to the batch as an event unless a filter or the rate limit stops it. */
  pass (batch: Batch, text: string, source: string, now: number, o: { level?: Level, t?: number, truncated?: boolean } = {}): void {
    const s = this.spec
    if ((s.include.length > 0 && !s.include.some(re => re.test(text))) || s.exclude.some(re => re.test(text))) { this.stats.filtered++; return }
    const level = o.level ?? detectLevel(text, s.levels, s.defaultLevel)
    if (levelRank(level) > levelRank(s.minLevel)) { this.stats.filtered++; return }
    if (!this.bucket.take(now)) { this.stats.dropped++; this.droppedUnreported++; return }
    this.stats.lines++
    const message = o.truncated === true ? clip(text, Limits.maxEventMessageLength - TRUNCATED.length) + TRUNCATED : clip(text, Limits.maxEventMessageLength)
    batch.add({ t: this.stamp(source, o.t ?? now), source: clip(source, 1024), level, message, ...(Object.keys(s.tags).length > 0 ? { tags: s.tags } : {}) })
  }

  /** reportDrops adds one event saying how many lines the rate limit dropped since the last one. */
  reportDrops (batch: Batch, now: number): void {
    if (this.droppedUnreported === 0) return
    const source = this.spec.source ?? this.spec.name
    batch.add({ t: this.stamp(source, now), source, level: 'warning', message: `kanshi: ${this.droppedUnreported} lines dropped by the rate limit of ${this.spec.rateLimit} lines/s (burst ${this.spec.burst})` })
    this.droppedUnreported = 0
  }
}

/** A source that is not a file (journald, the Windows event log): it keeps its own cursor. */
export interface StreamSource {
  readonly gate: Gate
  /** start begins reading after the saved cursor (undefined: from now on) */
  start(saved: unknown): void
  /** poll moves what arrived into the batch; false when the batch filled up first */
  poll(batch: Batch, now: number): Promise<boolean>
  /** cursor is the position just after the last record handed to a batch */
  cursor(): unknown
  close(): Promise<void>
  readonly backlog: number
}

/** A record from a stream source, with the position just after it. */
export interface QueuedRecord { t: number, level: Level, source: string, message: string }

/**
 * QueuedSource is what journald and the event log share: records queue up
 * as they are read, poll hands them to batches, and the cursor is the
 * position of the last record handed out (filtered ones included).
 */
export abstract class QueuedSource<R extends QueuedRecord, C> implements StreamSource {
  readonly gate: Gate
  protected queue: R[] = []
  protected last: C | undefined

  constructor (spec: GateSpec, stamp: (source: string, t: number) => number, now: number) {
    this.gate = new Gate(spec, stamp, now)
  }

  get backlog (): number { return this.queue.length }

  abstract start (saved: unknown): void
  abstract close (): Promise<void>
  /** position is the cursor just after r */
  protected abstract position (r: R): C
  /** drained runs when the queue is empty after a poll (to resume a paused reader) */
  protected drained (): void {}

  async poll (batch: Batch, now: number): Promise<boolean> {
    while (this.queue.length > 0) {
      if (batch.full) return false
      const r = this.queue.shift()!
      this.gate.pass(batch, r.message, this.gate.spec.source ?? r.source, now, { level: r.level, t: r.t })
      this.last = this.position(r)
    }
    this.drained()
    return true
  }

  cursor (): unknown { return this.last }
}

export class Batch {
  events: LogEvent[] = []
  bytes = 0
  constructor (readonly maxEvents: number, readonly maxBytes: number) {}
  get full (): boolean { return this.events.length >= this.maxEvents || this.bytes >= this.maxBytes }
  add (ev: LogEvent): void {
    this.events.push(ev)
    this.bytes += Buffer.byteLength(ev.message) + ev.source.length + 80
  }
}

/** FileSource follows the files of one logs: entry. */
class FileSource {
  readonly followers = new Map<string, Tracked>()
  /** positions from the cursor, for files not opened yet */
  saved = new Map<string, FileEntry>()
  initialized = false
  /** files finished after rotation, by key */
  done = new Map<string, DoneEntry>()
  /** start of the previous complete poll (undefined before the first one ever) */
  polledAt: number | undefined
  /** something rotated in this poll (or the agent restarted): look for rotated files never seen */
  private rotated = false
  readonly gate: Gate
  /** loaded at the first poll: iconv-lite only when the encoding needs it */
  private decode: ((b: Buffer) => string) | undefined
  private bytesClosed = 0

  constructor (readonly spec: FileSourceSpec, private readonly input: LogInput, now: number) {
    this.gate = new Gate(spec, (src, t) => input.stamp(src, t), now)
  }

  get stats (): Stats { return this.gate.stats }

  restore (entries: FileEntry[] | undefined, done: DoneEntry[] | undefined, polledAt: number | undefined): void {
    this.initialized = entries !== undefined
    this.saved = new Map((entries ?? []).map(e => [keyOf(e), e]))
    this.done = new Map((done ?? []).map(e => [keyOf(e), e]))
    this.polledAt = polledAt
    this.rotated = entries !== undefined
  }

  doneEntries (now: number): DoneEntry[] {
    for (const [k, d] of this.done) if (now - d.at > 86_400_000) this.done.delete(k)
    return [...this.done.values()]
  }

  entries (): FileEntry[] {
    const out: FileEntry[] = [...this.saved.values()]
    for (const { f, ml } of this.followers.values()) {
      const pending = ml.pendingStart
      out.push({ source: f.source, path: f.path, dev: f.id.dev, ino: f.id.ino, offset: pending ?? f.lineStart, fp: f.fp, fpLen: f.fpLen, skipping: pending === undefined && f.skipping })
    }
    return out
  }

  async close (): Promise<void> {
    for (const { f } of this.followers.values()) await f.close()
    this.followers.clear()
  }

  /** poll reads every file of the entry; false when the batch filled up first. */
  async poll (batch: Batch, now: number): Promise<boolean> {
    this.decode ??= await decoder(this.spec.encoding)
    const matches = new Map<string, { path: string, size: number }>()
    for (const pattern of this.spec.paths) {
      for (const { path, st } of await globFiles(pattern)) matches.set(keyOf(idOf(st)), { path, size: Number(st.size) })
    }
    // Files being read: still named by the glob (perhaps under a new name), or rotated away.
    for (const [key, tr] of [...this.followers]) {
      const m = matches.get(key)
      if (m !== undefined) {
        tr.f.path = m.path
        tr.f.rotatedAt = undefined
      } else if (tr.f.rotatedAt === undefined) {
        tr.f.rotatedAt = now
        this.rotated = true
      }
      // Checked through the open handle, so also for a file renamed away after it was cut in place.
      if (await tr.f.truncated()) await this.truncatedInPlace(tr, now)
      if (!await this.drain(tr, batch, now)) return false
      if (tr.f.rotatedAt !== undefined && now - tr.f.lastReadAt >= this.spec.rotateWaitMs && now - tr.f.rotatedAt >= this.spec.rotateWaitMs) {
        if (!await this.finish(key, tr, batch, now)) return false
      }
    }
    // Files known from the cursor but no longer named by the glob: renamed while the agent was stopped.
    for (const [key, e] of [...this.saved]) {
      if (matches.has(key)) continue
      this.saved.delete(key)
      this.rotated = true
      const found = await findMoved(e)
      if (found === undefined) {
        // Cut in place (copytruncate) and then renamed or removed, all while the agent was stopped:
        // its copy beside it has its head. Read that from where we were (readCopy reports the
        // file lost when there is none); left alone, the copy was taken for an unseen rotated file
        // and read from 0, which repeated every line before the saved position.
        await this.readCopy(e, key, now)
        continue
      }
      const tr = await this.follow(found, e.source, e.offset, e.skipping, now)
      if (tr === undefined) continue
      tr.f.rotatedAt = now
      if (!await this.drain(tr, batch, now)) return false
    }
    // Files named by the glob that are not being read: known from the cursor first, so that a
    // copytruncate copy is claimed before it could be taken for a new file, then new ones.
    for (const pass of ['known', 'new'] as const) {
      for (const [key, m] of matches) {
        if (this.followers.has(key) || (pass === 'known') !== this.saved.has(key)) continue
        let offset = 0
        let skipping = false
        let source = this.spec.source ?? m.path
        const e = this.saved.get(key)
        if (e !== undefined) {
          this.saved.delete(key)
          source = e.source
          if (m.size >= e.offset && await headMatches(m.path, e.fp, e.fpLen)) {
            offset = e.offset
            skipping = e.skipping
          } else {
            // Truncated or replaced while the agent was stopped: finish the copy, then read this from the start.
            await this.readCopy(e, key, now)
          }
        } else if (!this.initialized && this.spec.startAt === 'end') {
          offset = m.size
          skipping = m.size > 0 && !(await endsWithNewline(m.path, m.size))
        } else {
          this.rotated = true
        }
        const tr = await this.follow(m.path, source, offset, skipping, now)
        if (tr !== undefined && !await this.drain(tr, batch, now)) return false
      }
    }
    if (this.rotated && this.polledAt !== undefined && !await this.unseen(batch, now, [...matches.values()].map(m => m.path))) return false
    this.rotated = false
    this.initialized = true
    return true
  }

  /**
   * unseen finds rotated files that were created and rotated away between two
   * polls, or during a long stop (two rotations over a weekend): beside the
   * followed paths, written since the previous poll, and neither followed,
   * finished, nor a copy of a followed file (a copytruncate copy before the
   * truncation: readCopy claims it if the truncation follows). Read from 0.
   */
  private async unseen (batch: Batch, now: number, paths: string[]): Promise<boolean> {
    const known = [...[...this.followers.values()].map(({ f }) => ({ fp: f.fp, fpLen: f.fpLen })), ...this.saved.values()]
    // Each candidate carries the source of the path it was rotated from, like any rotated file.
    const origins = new Map<string, string>(paths.map(p => [p, this.spec.source ?? p]))
    for (const { f } of this.followers.values()) if (!origins.has(f.path)) origins.set(f.path, f.source)
    const candidates = new Map<string, string>()
    for (const [p, source] of origins) for (const c of await siblings(p)) if (!candidates.has(c)) candidates.set(c, source)
    for (const [path, source] of [...candidates].sort().reverse()) {
      const st = await statBig(path)
      if (st === undefined || !st.isFile()) continue
      const key = keyOf(idOf(st))
      if (this.followers.has(key) || this.saved.has(key)) continue
      if (Number(st.mtimeMs) < this.polledAt! - 1000) continue
      const d = this.done.get(key)
      if (d !== undefined && await headMatches(path, d.fp, d.fpLen)) continue
      let copy = false
      for (const k of known) if (k.fpLen > 0 && await headMatches(path, k.fp, k.fpLen)) { copy = true; break }
      if (copy) continue
      const tr = await this.follow(path, source, 0, false, now)
      if (tr === undefined) continue
      tr.f.rotatedAt = now
      if (!await this.drain(tr, batch, now)) return false
    }
    return true
  }

  private async follow (path: string, source: string, offset: number, skipping: boolean, now: number): Promise<Tracked | undefined> {
    const f = await Follower.open(path, source, offset, skipping, now)
    if (f === undefined) return undefined
    const prev = this.followers.get(f.key)
    if (prev !== undefined) { await f.close(); return prev }
    const tr = { f, ml: new Multiline(this.spec.multiline) }
    this.followers.set(f.key, tr)
    return tr
  }

  /** A file cut in place (copytruncate): finish its copy from where we were, then read it from 0. */
  private async truncatedInPlace (tr: Tracked, now: number): Promise<void> {
    const { f, ml } = tr
    this.rotated = true
    const from = ml.pendingStart ?? f.lineStart
    await this.readCopy({ source: f.source, path: f.path, dev: f.id.dev, ino: f.id.ino, offset: from, fp: f.fp, fpLen: f.fpLen, skipping: ml.pendingStart === undefined && f.skipping }, f.key, now)
    ml.flush()
    await f.restart()
  }

  /** readCopy looks beside e.path for the copy of a file cut in place and follows it from e's offset. */
  private async readCopy (e: FileEntry, key: string, now: number): Promise<void> {
    for (const path of await siblings(e.path)) {
      const st = await statBig(path)
      if (st === undefined || !st.isFile() || keyOf(idOf(st)) === key || Number(st.size) < e.offset) continue
      if (this.followers.has(keyOf(idOf(st)))) continue
      if (!await headMatches(path, e.fp, e.fpLen)) continue
      const tr = await this.follow(path, e.source, e.offset, e.skipping, now)
      if (tr !== undefined) tr.f.rotatedAt = now
      return
    }
    this.stats.lostFiles++
    this.input.warn(this.spec.name, `${e.path} was truncated or replaced, and its old content was not found beside it: lines written after byte ${e.offset} could not be read`)
  }

  /** finish closes a rotated file that stayed quiet for rotateWait, handing out its unterminated last line. */
  private async finish (key: string, tr: Tracked, batch: Batch, now: number): Promise<boolean> {
    if (batch.events.length + 2 > batch.maxEvents) return false
    const last = tr.f.rest()
    if (last !== undefined) this.line(tr, last, batch, now)
    const held = tr.ml.flush()
    if (held !== undefined) this.record(held, tr.f.source, batch, now)
    this.bytesClosed += tr.f.bytesRead
    this.done.set(key, { dev: tr.f.id.dev, ino: tr.f.id.ino, fp: tr.f.fp, fpLen: tr.f.fpLen, at: now })
    await tr.f.close()
    this.followers.delete(key)
    return true
  }

  /** drain reads a file to its end, or until the batch is full (then the unread lines are given back). */
  private async drain (tr: Tracked, batch: Batch, now: number): Promise<boolean> {
    for (;;) {
      if (batch.full) return false
      const lines = await tr.f.read(READ_BYTES, this.spec.maxLineBytes, now)
      if (lines.length === 0) break
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!
        this.line(tr, line, batch, now)
        if (batch.full) {
          if (i < lines.length - 1) tr.f.rewind(line.end, line.skipAfter === true)
          return false
        }
      }
    }
    const idle = tr.ml.lastLineAt
    if (idle !== undefined && this.spec.multiline !== undefined && now - idle >= this.spec.multiline.timeoutMs) {
      const held = tr.ml.flush()
      if (held !== undefined) this.record(held, tr.f.source, batch, now)
    }
    return true
  }

  private line (tr: Tracked, line: Line, batch: Batch, now: number): void {
    let bytes = line.bytes
    if (line.start === 0 && this.spec.encoding === 'utf8' && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3)
    if (line.truncated) this.stats.truncated++
    for (const rec of tr.ml.push({ text: this.decode!(bytes), start: line.start, end: line.end }, now, line.truncated)) this.record(rec, tr.f.source, batch, now)
  }

  private record (rec: LogRecord, source: string, batch: Batch, now: number): void {
    this.gate.pass(batch, rec.text, source, now, { truncated: rec.truncated })
  }

  async lagBytes (): Promise<number> {
    let lag = 0
    for (const { f } of this.followers.values()) lag += Math.max(0, await f.size().catch(() => 0) - f.lineStart)
    return lag
  }

  get bytesRead (): number {
    let n = this.bytesClosed
    for (const { f } of this.followers.values()) n += f.bytesRead
    return n
  }
}

/** findMoved finds a file renamed while the agent was stopped: same inode and head, at its old path or beside it. */
async function findMoved (e: FileEntry): Promise<string | undefined> {
  for (const path of [e.path, ...await siblings(e.path)]) {
    const st = await statBig(path)
    if (st === undefined || !st.isFile() || String(st.ino) !== e.ino || String(st.dev) !== e.dev) continue
    if (Number(st.size) >= e.offset && await headMatches(path, e.fp, e.fpLen)) return path
  }
  return undefined
}

async function endsWithNewline (path: string, size: number): Promise<boolean> {
  const fh = await fsp.open(path, 'r')
  try {
    const b = Buffer.alloc(1)
    await fh.read(b, 0, 1, size - 1)
    return b[0] === 0x0a
  } finally {
    await fh.close()
  }
}

/** The stream sources' factories, so LogInput stays free of child-process code. */
export type StreamFactory = (stamp: (source: string, t: number) => number, now: number) => StreamSource

/**
 * LogInput runs the poll loop for every logs: entry and reports per-entry
 * counters as log_input points when the agent gathers.
 */
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
  polls = 0

  constructor (specs: FileSourceSpec[], private readonly o: LogInputOptions, streams: StreamFactory[] = []) {
    this.now = o.now ?? Date.now
    const stamp = (src: string, t: number): number => this.stamp(src, t)
    this.files = specs.map(s => new FileSource(s, this, this.now()))
    this.streams = streams.map(f => f(stamp, this.now()))
    // Room is left for the one rate-limit report per entry that may follow a full batch.
    this.maxBatchEvents = Math.min(o.maxBatchEvents ?? 2000, Limits.maxEventsPerBatch - specs.length - streams.length)
    this.maxBatchBytes = o.maxBatchBytes ?? 1024 * 1024
  }

  private get gates (): Gate[] { return [...this.files.map(f => f.gate), ...this.streams.map(s => s.gate)] }

  /** start restores the saved positions and begins polling. */
  start (sink: LogSink, saved: unknown): void {
    this.attach(sink, saved)
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
      this.running = this.pollOnce().catch(err => this.o.onError?.('logs', err)).finally(() => {
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
    this.o.onWarn?.(source, message)
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
          this.o.onError?.(s.gate.spec.name, err)
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
        this.o.onError?.('logs', err)
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
    if (first && this.sink !== undefined) await this.pollOnce().catch(err => this.o.onError?.('logs', err))
    for (const s of this.files) await s.close()
    for (const s of this.streams) await s.close()
  }
}

function counters (s: Stats): Record<string, number> {
  return { lines: s.lines, filtered: s.filtered, dropped_rate_limit: s.dropped, truncated: s.truncated, lost_files: s.lostFiles, errors: s.errors }
}

function isCursor (v: unknown): v is LogCursor {
  const c = v as LogCursor | undefined
  return typeof c === 'object' && c !== null && c.v === 1 && typeof c.files === 'object' && typeof c.lastT === 'object'
}
