// The archive's files: the open day (appended one gzip member per flush, fsynced), closing a day
// with its signed manifest, the chain state taken back from disk at start, and retention.

import { open, readdir, readFile, rm, statfs } from 'node:fs/promises'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { KeyObject } from 'node:crypto'
import type { Logger } from 'pino'
import { writeFileAtomic } from '../../common/atomic-write.js'
import { decodeManifest, encodeManifest, encodeSigned, type Manifest } from './manifest.js'
import { DAY_FILE, GENESIS, dayFile, encodeLine, manifestFile, sha256, type RecordBody, type WalPos } from './record.js'
import { parsedLines, readDayBytes } from './day-file.js'

export const PRUNED_FILE = 'pruned.manifest'
export const HEAD_FILE = 'head'

export interface WriterOptions {
  dir: string
  key: KeyObject
  /** days older than this are deleted when a day closes (ms) */
  keepMs: number
  /** appends are refused while the archive's file system has less free space than this */
  minFree: number
  timeZone: string
  logger: Logger
}

/** A record to archive, before its chain fields (n, p). */
export type NewRecord = Omit<RecordBody, 'n' | 'p'>

export class ArchiveWriter {
  /** the open day (its file exists, no manifest yet), if any */
  day: string | undefined
  private n = 0
  private last = GENESIS
  private first = ''
  private prevHash = GENESIS
  private prevDay: string | null = null
  /** WAL position of the newest record archived: a record at or before it was archived already */
  lastW: WalPos = [-1, -1, -1]
  /** the newest audit.db id archived: audit records at or below it were archived already */
  lastAudit = 0
  /** the head witness lags the appends (written at most every second) */
  private headStale = false
  private headAt = 0

  constructor (private readonly o: WriterOptions) {}

  /** load takes the chain state back from the files; the open day's file is cut back to its whole records. */
  async load (): Promise<void> {
    mkdirSync(this.o.dir, { recursive: true, mode: 0o700 })
    const names = await readdir(this.o.dir)
    const days = names.map(f => DAY_FILE.exec(f)?.[1]).filter((d): d is string => d !== undefined).sort()
    Object.assign(this, { day: undefined, n: 0, last: GENESIS, first: '', prevHash: GENESIS, prevDay: null, lastW: [-1, -1, -1], lastAudit: 0 })
    const pruned = names.includes(PRUNED_FILE) ? decodeManifest(await readFile(join(this.o.dir, PRUNED_FILE), 'utf8'), undefined) : undefined
    if (typeof pruned === 'object') Object.assign(this, { prevDay: pruned.day, last: pruned.lastHash, prevHash: pruned.lastHash, lastW: pruned.lastW, lastAudit: pruned.lastAudit ?? 0 })
    const newest = days.at(-1)
    if (newest === undefined) return
    if (names.includes(manifestFile(newest))) {
      const m = decodeManifest(await readFile(join(this.o.dir, manifestFile(newest)), 'utf8'), undefined)
      if (typeof m === 'string') throw new Error(`${join(this.o.dir, manifestFile(newest))}: ${m}`)
      Object.assign(this, { prevDay: newest, last: m.lastHash, prevHash: m.lastHash, lastW: m.lastW, lastAudit: m.lastAudit ?? 0 })
      return
    }
    const before = days.at(-2)
    if (before !== undefined && names.includes(manifestFile(before))) {
      const m = decodeManifest(await readFile(join(this.o.dir, manifestFile(before)), 'utf8'), undefined)
      if (typeof m === 'object') Object.assign(this, { prevDay: before, last: m.lastHash, prevHash: m.lastHash, lastW: m.lastW, lastAudit: m.lastAudit ?? 0 })
    }
    await this.reopen(newest)
  }

  /** reopen reads the open day back; a cut tail (a crash mid-append) is dropped and the file rewritten whole. */
  private async reopen (day: string): Promise<void> {
    const file = join(this.o.dir, dayFile(day))
    const buf = await readFile(file)
    const text = readDayBytes(buf)
    const recs = parsedLines(text.lines)
    if (text.gzipError !== undefined || text.partial || recs.length < text.lines.length) {
      this.o.logger.warn({ file, kept: recs.length, dropped: text.lines.length - recs.length + (text.partial ? 1 : 0), why: text.gzipError }, 'the open archive day ended in a cut record (a crash mid-append); it is rewritten with its whole records, and the WAL gives the rest again')
      await writeFileAtomic(file, recs.length === 0 ? Buffer.alloc(0) : gzipSync(recs.map(r => `${r.hash} ${r.json}\n`).join('')))
    }
    if (recs.length === 0) {
      await rm(file, { force: true })
      return
    }
    this.day = day
    this.n = recs.length
    this.first = recs[0]!.hash
    this.prevHash = recs[0]!.body.p
    this.last = recs.at(-1)!.hash
    this.lastW = recs.at(-1)!.body.w
    for (const r of recs) if (r.body.a !== undefined && r.body.a > this.lastAudit) this.lastAudit = r.body.a
  }

  /** append chains the records into the day's file, one gzip member, on the disk before it returns; on failure nothing changes. */
  async append (day: string, recs: NewRecord[]): Promise<void> {
    if (this.day !== undefined && day > this.day) await this.close()
    const fs = await statfs(this.o.dir)
    const free = fs.bavail * fs.bsize
    if (free < this.o.minFree) throw new Error(`the archive's disk has ${free} bytes free, under archive.minFree (${this.o.minFree})`)
    let { n, last, first } = this
    if (this.day === undefined) { n = 0; first = '' }
    const text: string[] = []
    for (const r of recs) {
      const { line, hash } = encodeLine({ n: ++n, p: last, ...r })
      if (first === '') first = hash
      last = hash
      text.push(line)
    }
    const fh = await open(join(this.o.dir, dayFile(day)), 'a', 0o600)
    try {
      await fh.write(gzipSync(text.join('')))
      await fh.datasync()
    } finally {
      await fh.close()
    }
    if (this.day === undefined) this.prevHash = this.last
    const audit = recs.reduce((m, r) => Math.max(m, r.a ?? 0), this.lastAudit)
    Object.assign(this, { day, n, last, first, lastW: recs.at(-1)!.w, lastAudit: audit, headStale: true })
  }

  /** writeHead signs the open day's witness (records, last hash) when it lags and minMs have passed since the last. */
  async writeHead (now: number, minMs = 1000): Promise<void> {
    if (!this.headStale || this.day === undefined || now - this.headAt < minMs) return
    await writeFileAtomic(join(this.o.dir, HEAD_FILE), encodeSigned({ v: 1, day: this.day, records: this.n, lastHash: this.last, at: now }, this.o.key))
    this.headStale = false
    this.headAt = now
  }

  /** closeIfBefore closes the open day once today is a later day. */
  async closeIfBefore (today: string): Promise<void> {
    if (this.day !== undefined && today > this.day) await this.close()
  }

  /** close writes the open day's signed manifest (the day is then sealed) and applies retention. */
  private async close (): Promise<void> {
    const day = this.day!
    const buf = await readFile(join(this.o.dir, dayFile(day)))
    const m: Manifest = {
      v: 1, day, file: dayFile(day), records: this.n, prevHash: this.prevHash, prevDay: this.prevDay,
      firstHash: this.first, lastHash: this.last, lastW: this.lastW, lastAudit: this.lastAudit, sha256: sha256(buf), bytes: buf.length, closedAt: Date.now()
    }
    await writeFileAtomic(join(this.o.dir, manifestFile(day)), encodeManifest(m, this.o.key))
    this.o.logger.info({ day, records: this.n }, 'archive day closed and signed')
    Object.assign(this, { day: undefined, prevDay: day, prevHash: this.last, n: 0, first: '' })
    await this.prune(day).catch(err => this.o.logger.error({ err: (err as Error).message }, 'could not delete archive days past archive.keep; retried when the next day closes'))
  }

  /** prune deletes days older than keep; the newest deleted day's manifest stays as pruned.manifest so the chain still links. */
  private async prune (today: string): Promise<void> {
    const horizon = new Date(Date.parse(`${today}T00:00:00Z`) - this.o.keepMs).toISOString().slice(0, 10)
    const names = await readdir(this.o.dir)
    const old = names.map(f => DAY_FILE.exec(f)?.[1]).filter((d): d is string => d !== undefined && d < horizon).sort()
    if (old.length === 0) return
    const newest = old.at(-1)!
    await writeFileAtomic(join(this.o.dir, PRUNED_FILE), await readFile(join(this.o.dir, manifestFile(newest))))
    for (const d of old) {
      await rm(join(this.o.dir, dayFile(d)), { force: true })
      await rm(join(this.o.dir, manifestFile(d)), { force: true })
    }
    this.o.logger.info({ days: old.length, through: newest }, 'archive days past archive.keep deleted')
  }
}
