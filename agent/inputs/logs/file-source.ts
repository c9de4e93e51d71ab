// Following the files of one logs: entry across rotation (rename or
// copytruncate, also while the agent was stopped), handing their lines, as
// records, to the gate. Offsets never point into a line or a held record.

import { promises as fsp } from 'node:fs'
import type { DoneEntry, FileEntry } from './cursor.js'
import type { FileSourceSpec } from './config.js'
import { Follower, headMatches, idOf, keyOf, statBig, type Line } from './follower.js'
import { Gate, type Batch, type Stats } from './gate.js'
import { globFiles, siblings } from './glob.js'
import { decoder, Multiline, type LogRecord } from './logline.js'

const READ_BYTES = 1024 * 1024

interface Tracked { f: Follower, ml: Multiline }

/** What a file source needs from its input: event timestamps and a warning channel. */
export interface FileSourceHost {
  stamp(source: string, t: number): number
  warn(source: string, message: string): void
}

/** FileSource follows the files of one logs: entry. */
export class FileSource {
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

  constructor (readonly spec: FileSourceSpec, private readonly host: FileSourceHost, now: number) {
    this.gate = new Gate(spec, (src, t) => host.stamp(src, t), now)
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
        // Cut in place and then renamed or removed while stopped: its copy beside it has its head,
        // and is read from the saved offset (not taken for an unseen file and read from 0).
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
   * unseen finds files created and rotated away between two polls (or during a long stop): beside
   * the followed paths, written since the previous poll, and neither followed, finished, nor a
   * copytruncate copy of a followed file (readCopy claims those). They are read from 0.
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
    this.host.warn(this.spec.name, `${e.path} was truncated or replaced, and its old content was not found beside it: lines written after byte ${e.offset} could not be read`)
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
