// The agent's disk-backed queue: each batch is written durably (writeFileAtomic) before it is sent
// and removed once acked. Bounded by bytes: when full, the oldest batches go first, counted.
//
// One file per batch, <seq>-<points>.batch (a renumbering is a rename); state.json keeps the last
// seq and the cursors. A batch file may end with a second line, the input cursors as of that batch:
// a crash between its rename and state.json's leaves that copy, which open() prefers, so a restart
// neither repeats nor skips a line.

import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import { syncDir, writeFileAtomic } from '../common/atomic-write.js'
import type { LogEvent, Point } from '../protocol/messages.js'

const FILE_RE = /^(\d{16})-(\d+)\.batch$/

interface Entry { seq: number, bytes: number, points: number }

export interface DropReport { batches: number, points: number, bytes: number }

export class Spool {
  private entries: Entry[] = []
  private bytes = 0
  private lastSeq = 0
  private cursorMap: Record<string, unknown> = {}
  droppedBatches = 0
  droppedPoints = 0
  rejectedBatches = 0
  onDrop?: (d: DropReport, totals: { batches: number, points: number }) => void

  private constructor (readonly dir: string, private readonly maxBytes: number, private readonly stateFile: string) {}

  /** open recovers the spool in dir: whole batch files are kept, half-written temp files removed. */
  static async open (dir: string, maxBytes: number): Promise<Spool> {
    const spoolDir = join(dir, 'spool')
    await fsp.mkdir(spoolDir, { recursive: true, mode: 0o700 })
    const s = new Spool(spoolDir, maxBytes, join(dir, 'state.json'))
    try {
      const st = JSON.parse(await fsp.readFile(s.stateFile, 'utf8')) as { lastSeq?: number, cursors?: Record<string, unknown> }
      if (Number.isSafeInteger(st.lastSeq)) s.lastSeq = st.lastSeq!
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
  get sizeBytes (): number { return this.bytes }
  get highestSeq (): number { return this.lastSeq }

  private path (e: { seq: number, points: number }): string {
    return join(this.dir, `${String(e.seq).padStart(16, '0')}-${e.points}.batch`)
  }

  /** add stores a new batch durably and returns its seq; cursors, when given, are saved with it. */
  async add (points: Point[], events: LogEvent[] = [], cursors?: Record<string, unknown>): Promise<number> {
    const json = JSON.stringify(events.length > 0 ? { points, events } : { points })
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

  /** makeRoom drops the oldest batches until n more bytes fit; the report says exactly what went. */
  private async makeRoom (n: number): Promise<void> {
    const d: DropReport = { batches: 0, points: 0, bytes: 0 }
    const doomed: Entry[] = []
    while (this.entries.length > 0 && this.bytes + n > this.maxBytes) {
      const e = this.entries.shift()!
      this.bytes -= e.bytes
      d.batches++
      d.points += e.points
      d.bytes += e.bytes
      doomed.push(e)
    }
    if (d.batches === 0) return
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
      await writeFileAtomic(this.stateFile, JSON.stringify({ lastSeq: this.lastSeq, cursors: this.cursorMap }))
    })
    this.saving = run
    await run
  }

  /** seqsAfter lists spooled seqs above seq, oldest first. */
  seqsAfter (seq: number): number[] {
    const out: number[] = []
    for (const e of this.entries) if (e.seq > seq) out.push(e.seq)
    return out
  }

  firstAfter (seq: number): number | undefined {
    for (const e of this.entries) if (e.seq > seq) return e.seq
    return undefined
  }

  has (seq: number): boolean {
    return this.entries.some(e => e.seq === seq)
  }

  /** frame returns the wire text of a spooled batch, or undefined if it was dropped meanwhile. */
  async frame (seq: number): Promise<string | undefined> {
    const e = this.entries.find(x => x.seq === seq)
    if (e === undefined) return undefined
    let body: string
    try {
      body = await fsp.readFile(this.path(e), 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    const nl = body.indexOf('\n')
    return `{"type":"batch","seq":${seq},${(nl < 0 ? body : body.slice(0, nl)).slice(1)}`
  }

  /** remove deletes a batch (acked, or refused for good). */
  async remove (seq: number): Promise<void> {
    const i = this.entries.findIndex(e => e.seq === seq)
    if (i < 0) return
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
