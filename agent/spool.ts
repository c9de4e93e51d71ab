// The agent's disk-backed queue: each batch is written durably (writeFileAtomic) before it is sent
// and removed once acked. Bounded by bytes: when full, the oldest batches go first, counted.
//
// One file per batch, <seq>-<points>.batch (a renumbering is a rename); state.json keeps the last
// seq and the cursors. A batch file may end with a second line, the input cursors as of that batch:
// a crash between its rename and state.json's leaves that copy, which open() prefers, so a restart
// neither repeats nor skips a line.
//
// A body is {"points":[…],"cols":[…],"events":[…]}: the all-numeric points as protocol-3 columns
// (protocol/columns.ts), the rest as points. Files from before protocol 3 hold points only.

import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import { syncDir, writeFileAtomic } from '../common/atomic-write.js'
import type { LogEvent, Point } from '../protocol/messages.js'
import { fromColumns, toColumns, type Cols } from '../protocol/columns.js'

/** COLS_SINCE is the first protocol whose batches may carry `cols`. */
const COLS_SINCE = 3

const FILE_RE = /^(\d{16})-(\d+)\.batch$/

/** acked: a collector acked it (protocol 2 keeps it until stored) */
interface Entry { seq: number, bytes: number, points: number, acked?: boolean }

/** What makeRoom took out: released were acked (a collector still holds them), the rest were lost. */
export interface DropReport { batches: number, points: number, bytes: number, released: number }

export class Spool {
  private entries: Entry[] = []
  private bytes = 0
  private lastSeq = 0
  private cursorMap: Record<string, unknown> = {}
  /** the highest seq a collector acked (saved lazily with state.json: it only decides the resend mark) */
  private ackedHigh = 0
  droppedBatches = 0
  droppedPoints = 0
  rejectedBatches = 0
  /** acked, not yet stored, batches deleted to make room: a collector still holds them in its WAL */
  releasedBatches = 0
  onDrop?: (d: DropReport, totals: { batches: number, points: number }) => void

  private constructor (readonly dir: string, private readonly maxBytes: number, private readonly stateFile: string) {}

  /** open recovers the spool in dir: whole batch files are kept, half-written temp files removed. */
  static async open (dir: string, maxBytes: number): Promise<Spool> {
    const spoolDir = join(dir, 'spool')
    await fsp.mkdir(spoolDir, { recursive: true, mode: 0o700 })
    const s = new Spool(spoolDir, maxBytes, join(dir, 'state.json'))
    try {
      const st = JSON.parse(await fsp.readFile(s.stateFile, 'utf8')) as { lastSeq?: number, acked?: number, cursors?: Record<string, unknown> }
      if (Number.isSafeInteger(st.lastSeq)) s.lastSeq = st.lastSeq!
      if (Number.isSafeInteger(st.acked)) s.ackedHigh = st.acked!
      if (typeof st.cursors === 'object' && st.cursors !== null) s.cursorMap = st.cursors
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`agent state ${s.stateFile} is unreadable: ${String(err)}`)
    }
    for (const name of await fsp.readdir(spoolDir)) {
      const m = FILE_RE.exec(name)
      if (m === null) {
        if (name.endsWith('.tmp')) await fsp.rm(join(spoolDir, name), { force: true })
        continue
      }
      const { size } = await fsp.stat(join(spoolDir, name))
      s.entries.push({ seq: Number(m[1]), points: Number(m[2]), bytes: size })
      s.bytes += size
    }
    s.entries.sort((a, b) => a.seq - b.seq)
    for (const e of s.entries) if (e.seq <= s.ackedHigh) e.acked = true
    const last = s.entries.at(-1)
    if (last !== undefined && last.seq > s.lastSeq) {
      // The agent stopped between the batch's rename and state.json: the batch holds the newer cursors.
      s.lastSeq = last.seq
      const cursors = await s.trailer(last)
      if (cursors !== undefined) s.cursorMap = cursors
      await s.saveState()
    }
    return s
  }

  /** cursor returns the saved position of a long-running input (undefined before its first save). */
  cursor (name: string): unknown {
    return this.cursorMap[name]
  }

  private async trailer (e: Entry): Promise<Record<string, unknown> | undefined> {
    const text = await fsp.readFile(this.path(e), 'utf8')
    const nl = text.indexOf('\n')
    if (nl < 0) return undefined
    try {
      return JSON.parse(text.slice(nl + 1)) as Record<string, unknown>
    } catch {
      return undefined
    }
  }

  get batches (): number { return this.entries.length }
  /** ackedBatches: kept after their ack until every storage target holds them (protocol 2) */
  get ackedBatches (): number {
    let n = 0
    for (const e of this.entries) if (e.acked === true) n++
    return n
  }
  get sizeBytes (): number { return this.bytes }
  get highestSeq (): number { return this.lastSeq }

  private path (e: { seq: number, points: number }): string {
    return join(this.dir, `${String(e.seq).padStart(16, '0')}-${e.points}.batch`)
  }

  /**
   * add stores a new batch durably (numeric points as columns) and returns its seq; cursors, when
   * given, are saved with it. The file name counts every point and event, columns or not.
   */
  async add (points: Point[], events: LogEvent[] = [], cursors?: Record<string, unknown>): Promise<number> {
    const split = toColumns(points)
    const json = JSON.stringify({
      points: split.points,
      ...(split.cols.length > 0 ? { cols: split.cols } : {}),
      ...(events.length > 0 ? { events } : {})
    })
    // The new cursors count only once the batch is on disk: a failed write must not advance them.
    const cursorMap = cursors === undefined ? this.cursorMap : { ...this.cursorMap, ...cursors }
    const trailer = cursors === undefined ? '' : '\n' + JSON.stringify(cursorMap)
    const body = Buffer.from(json + trailer)
    const seq = this.lastSeq + 1
    const e: Entry = { seq, bytes: body.length, points: points.length + events.length }
    const dropped = this.makeRoom(body.length)
    await writeFileAtomic(this.path(e), body)
    this.lastSeq = seq
    this.cursorMap = cursorMap
    // state.json before listing the entry: once listed it may be sent, acked and deleted, and a
    // restart must still know the seq and the cursors.
    await this.saveState()
    this.entries.push(e)
    this.bytes += e.bytes
    await dropped
    return seq
  }

  /** saveCursors records input positions that carry no batch (lines read but all filtered out). */
  async saveCursors (cursors: Record<string, unknown>): Promise<void> {
    this.cursorMap = { ...this.cursorMap, ...cursors }
    await this.saveState()
  }

  /**
   * makeRoom deletes batches until n more bytes fit: first the oldest acked ones (a collector's WAL
   * still holds them), then the oldest unacked ones (lost, counted); the report says exactly what went.
   */
  private async makeRoom (n: number): Promise<void> {
    const d: DropReport = { batches: 0, points: 0, bytes: 0, released: 0 }
    const doomed: Entry[] = []
    const take = (e: Entry): void => {
      this.bytes -= e.bytes
      doomed.push(e)
      if (e.acked === true) { d.released++; return }
      d.batches++
      d.points += e.points
      d.bytes += e.bytes
    }
    if (this.bytes + n > this.maxBytes) {
      const kept: Entry[] = []
      for (const e of this.entries) {
        if (e.acked === true && this.bytes + n > this.maxBytes) take(e)
        else kept.push(e)
      }
      this.entries = kept
    }
    while (this.entries.length > 0 && this.bytes + n > this.maxBytes) take(this.entries.shift()!)
    if (doomed.length === 0) return
    this.releasedBatches += d.released
    this.droppedBatches += d.batches
    this.droppedPoints += d.points
    this.onDrop?.(d, { batches: this.droppedBatches, points: this.droppedPoints })
    await Promise.all(doomed.map(e => fsp.rm(this.path(e), { force: true })))
  }

  /** the state.json write under way: writes run one at a time, as they share a temp file name */
  private saving: Promise<void> = Promise.resolve()

  /** saveState writes lastSeq and the cursors as they are when its turn comes. */
  private async saveState (): Promise<void> {
    const run = this.saving.catch(() => {}).then(async () => {
      await writeFileAtomic(this.stateFile, JSON.stringify({ lastSeq: this.lastSeq, acked: this.ackedHigh, cursors: this.cursorMap }))
    })
    this.saving = run
    await run
  }

  /** indexAfter is the index of the first entry above seq (entries are ordered by seq). */
  private indexAfter (seq: number): number {
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.entries[mid]!.seq <= seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private entry (seq: number): Entry | undefined {
    const e = this.entries[this.indexAfter(seq - 1)]
    return e?.seq === seq ? e : undefined
  }

  /** seqsAfter lists spooled seqs above seq, oldest first. */
  seqsAfter (seq: number): number[] {
    return this.entries.slice(this.indexAfter(seq)).map(e => e.seq)
  }

  firstAfter (seq: number): number | undefined {
    return this.entries[this.indexAfter(seq)]?.seq
  }

  has (seq: number): boolean {
    return this.entry(seq) !== undefined
  }

  /** isAcked tells whether a collector acked the batch (it is then sent to another one marked resend). */
  isAcked (seq: number): boolean {
    return this.entry(seq)?.acked === true
  }

  /** markAcked keeps an acked batch until it is stored (protocol 2). */
  markAcked (seq: number): void {
    const e = this.entry(seq)
    if (e !== undefined) e.acked = true
    if (seq > this.ackedHigh) this.ackedHigh = seq
  }

  /** markAckedThrough marks every batch at or below seq acked (welcome.ackedSeq of a protocol-2 collector). */
  markAckedThrough (seq: number): void {
    for (let i = 0; i < this.entries.length && this.entries[i]!.seq <= seq; i++) this.entries[i]!.acked = true
    if (seq > this.ackedHigh && seq <= this.lastSeq) this.ackedHigh = seq
  }

  /**
   * frame returns the wire text of a spooled batch for a connection at `protocol`, or undefined if
   * it was dropped meanwhile; resend marks it sent again. Below protocol 3 columns go as points (an
   * older collector would ignore `cols` and lose them); at 3 the body goes as spooled, unparsed.
   */
  async frame (seq: number, protocol: number, resend = false): Promise<string | undefined> {
    const e = this.entry(seq)
    if (e === undefined) return undefined
    let body: string
    try {
      body = await fsp.readFile(this.path(e), 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    const nl = body.indexOf('\n')
    let text = nl < 0 ? body : body.slice(0, nl)
    if (protocol < COLS_SINCE) text = withoutColumns(text)
    return `{"type":"batch","seq":${seq},${resend ? '"resend":true,' : ''}${text.slice(1)}`
  }

  /** remove deletes a batch (acked, or refused for good). */
  async remove (seq: number): Promise<void> {
    const i = this.indexAfter(seq - 1)
    if (this.entries[i]?.seq !== seq) return
    const [e] = this.entries.splice(i, 1)
    this.bytes -= e!.bytes
    await fsp.rm(this.path(e!), { force: true })
  }

  /** removeThrough deletes every batch at or below seq (the collector holds them: welcome.ackedSeq). */
  async removeThrough (seq: number): Promise<void> {
    while (this.entries.length > 0 && this.entries[0]!.seq <= seq) await this.remove(this.entries[0]!.seq)
  }

  /**
   * continueAfter handles a collector that has seen higher seqs than this agent
   * ever assigned (the agent's data dir was wiped or restored): spooled batches
   * are renumbered above ackedSeq so they are stored, not taken for duplicates.
   */
  async continueAfter (ackedSeq: number): Promise<boolean> {
    if (ackedSeq <= this.lastSeq) return false
    let next = ackedSeq
    for (const e of this.entries) {
      const old = this.path(e)
      e.seq = ++next
      await fsp.rename(old, this.path(e))
    }
    await syncDir(this.dir)
    this.lastSeq = next
    await this.saveState()
    return true
  }
}

/**
 * withoutColumns turns a spooled body's columns back into points for a collector below protocol 3.
 * `"cols":` can only be a key (a string's quotes are escaped): without it the body goes unparsed.
 */
function withoutColumns (text: string): string {
  if (!text.includes('"cols":')) return text
  let b: { points: Point[], cols?: Cols[], events?: LogEvent[] }
  try {
    b = JSON.parse(text) as typeof b
  } catch {
    return text // a damaged file goes as it is: the collector refuses it, as it did before protocol 3
  }
  if (b.cols === undefined) return text // a tag or field named "cols"
  fromColumns(b.cols, b.points)
  return JSON.stringify(b.events === undefined ? { points: b.points } : { points: b.points, events: b.events })
}
