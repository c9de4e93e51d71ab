// Feeds the WAL to the rollup aggregator and appends closed buckets back to the WAL (marked
// rollup) for the storage writer. Open buckets are checkpointed in a file the cursor names, so the
// WAL need not keep a day of data for the daily tier and a restart resumes where it left off.

import { readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { WalConsumer, type Position, type Wal, type WalReader, type WalRecord } from '../state/wal/index.js'
import { encodeEntry, pointsOf, recordEntry, type WalEntry } from '../state/entry.js'
import { DEFAULT_TIERS, RollupAggregator, type PartialBuckets, type Series } from './rollup.js'
import { colSeries, seriesOf } from './line-protocol.js'
import { readCheckpoint, writeCheckpoint } from './rollup-checkpoint.js'
import type { Point } from '../../protocol/messages.js'
import { RepairBook } from './rollup-repair.js'
import { RepairRunner, type RepairRunOptions } from './rollup-repair-run.js'

/** Measurements not worth rolling up: events and the alert record. */
const SKIP = new Set(['log_event', 'alert'])

const before = (a: Position, b: Position): boolean => a.segment < b.segment || (a.segment === b.segment && a.offset < b.offset)
const FILE = /^rollup-(\d+)\.ckpt$/

export interface RollupStageOptions {
  wal: Wal
  reader: WalReader
  logger: Logger
  now?: () => number
  onLate?: (n: number) => void
  /** least time between two checkpoints (default 10 s; more when a checkpoint is dear) */
  checkpointMs?: number
  /** how often the open buckets are looked at for closing (default 2 s) */
  closeEveryMs?: number
  /** rollups across failover: partial buckets repaired from raw data (rollup.repairDelay, rollup.repeatAfter) */
  repair?: { delayMs: number, againMs: number } & Omit<RepairRunOptions, 'book' | 'tiers' | 'append' | 'now' | 'logger'>
}

/** What the rollup cursor holds besides its position: the checkpoint file and the closed buckets not yet in the WAL. */
interface State { v?: number, file?: string, pending?: Point[], repair?: unknown }

/** a session hook waiting for the stage to read that far: by receive time (WalEntry.r) */
interface SessionNote { agent: string, at: number }

export class RollupStage {
  readonly agg = new RollupAggregator(DEFAULT_TIERS)
  private readonly consumer: WalConsumer
  private loop: Promise<void> | undefined
  private lastEnd: Position
  private late = 0
  private lateBuckets = 0
  /** closed buckets not yet in the WAL (an append failed): retried, and they hold the cursor */
  private pending: Point[] = []
  private readonly now: () => number
  private lastCheckpoint = 0
  private lastClose = -Infinity
  /** how long the last checkpoint took (wall clock), to space the next ones out */
  private checkpointCostMs = 0
  /** the checkpoint file the committed cursor names, and the number for the next one */
  private file: string | undefined
  private fileNo = 0
  /** partial buckets and their repairs (always kept: marks cost nothing until an agent fails over) */
  readonly book: RepairBook
  private readonly runner: RepairRunner | undefined
  private repairing: Promise<void> | undefined
  /** session starts and ends not yet matched to the WAL (the stage reads behind ingest) */
  private readonly starts = new Map<string, number>()
  private ends: SessionNote[] = []
  /** per agent, the newest point time and receive time read (for session ends) */
  private readonly lastT = new Map<string, number>()
  private lastR = 0
  /** the consumer found nothing more to read */
  private caughtUp = false
  private lastPrune = -Infinity
  /** sessions begun and buckets they marked since the last summary line */
  private began = { sessions: 0, buckets: 0 }

  constructor (private readonly o: RollupStageOptions) {
    this.lastEnd = { ...o.reader.committed }
    this.now = o.now ?? Date.now
    this.consumer = new WalConsumer(o.wal, o.reader)
    this.book = new RepairBook(this.agg.tiers, { delayMs: o.repair?.delayMs ?? 120_000, againMs: o.repair?.againMs ?? 600_000 })
    this.agg.onLate = (p, s) => this.late1(p, s)
    if (o.repair !== undefined) {
      this.runner = new RepairRunner({
        ...o.repair, book: this.book, tiers: this.agg.tiers, now: this.now, logger: o.logger,
        append: async points => {
          const entry: WalEntry = { a: '', s: 0, r: this.now(), p: points, rollup: true }
          await this.o.wal.append(encodeEntry(entry), entry)
        }
      })
    }
  }

  /** sessionStart: an agent's session began here (ingest's hook); its first point marks the buckets before it. */
  sessionStart (agent: string): void { if (!this.starts.has(agent)) this.starts.set(agent, this.now()) }

  /** sessionEnd: an agent's session ended here; the bucket of its last point is marked (it may go on elsewhere). */
  sessionEnd (agent: string): void { this.ends.push({ agent, at: this.now() }) }

  /** late1 marks a late point's buckets; those already closed are queued for repair at once. */
  private late1 (p: Point, s: Series): void {
    const host = p.tags?.['poller'] ?? p.tags?.['host']
    if (host === undefined) return
    this.book.markRange(host, p.t, p.t, this.now())
    const tiers = this.agg.tiers
    for (let i = 0; i < tiers.length; i++) {
      const start = Math.floor(p.t / tiers[i]!.bucketMs) * tiers[i]!.bucketMs
      if (start <= s.d[1 + i]!) this.book.enqueue(s.tags['host'] ?? host, i, start, this.lastEnd)
    }
  }

  /** load takes back the state the cursor names (its checkpoint file and pending buckets). */
  async load (): Promise<void> {
    const st = this.o.reader.state as State | undefined
    if (st?.file !== undefined) {
      this.fileNo = Number(FILE.exec(st.file)?.[1] ?? 0) + 1
      try {
        const n = await readCheckpoint(this.agg, join(this.o.wal.dir, st.file))
        this.file = st.file
        this.o.logger.info({ series: n, file: st.file }, 'rollup buckets restored')
      } catch (err) {
        // readCheckpoint adds nothing from a file it cannot read whole. The raw data is whole either
        // way; only the buckets open at that checkpoint come out short.
        this.o.logger.error({ err: (err as Error).message }, 'the rollup checkpoint could not be read: rollups open at the last checkpoint will lack the points before it')
      }
    }
    this.pending = st?.pending ?? []
    this.book.restore(st?.repair)
    // Files of checkpoints that never made it into the cursor (a crash between write and commit).
    for (const f of await readdir(this.o.wal.dir)) {
      if ((FILE.test(f) && f !== this.file) || (f.startsWith('rollup-') && f.endsWith('.ckpt.tmp'))) await unlink(join(this.o.wal.dir, f)).catch(() => {})
    }
  }

  start (): void {
    this.loop = this.load().then(async () => await this.run()).catch(err => this.o.logger.fatal({ err }, 'rollup stage stopped on an unexpected error'))
  }

  async stop (): Promise<void> {
    this.consumer.stop()
    await this.loop
    // A query in flight ends within its timeout; shutdown does not wait that long (the item stays queued).
    this.runner?.stop()
    await Promise.race([this.repairing, new Promise(resolve => setTimeout(resolve, 2000).unref())])
    await this.checkpoint()
  }

  /** checkpoint saves the open buckets, names them in the cursor, and only once that is durable deletes the old file. */
  private async checkpoint (): Promise<void> {
    this.lastCheckpoint = this.now()
    const t0 = performance.now()
    const file = `rollup-${this.fileNo++}.ckpt`
    const { series, bytes } = await writeCheckpoint(this.agg, join(this.o.wal.dir, file))
    await this.o.reader.commit(this.lastEnd, 0, { v: 2, file, pending: this.pending, repair: this.book.snapshot() })
    const old = this.file
    this.file = file
    if (old !== undefined) await unlink(join(this.o.wal.dir, old)).catch(() => {})
    this.checkpointCostMs = performance.now() - t0
    this.o.logger.debug({ series, bytes, ms: Math.round(this.checkpointCostMs) }, 'rollup checkpoint written')
  }

  /** the close predicate: marked buckets are queued, with the WAL position read so far */
  private readonly partial: PartialBuckets = {
    partial: (tags, tier, start) => this.book.partial(tags, tier, start),
    queue: (tags, tier, start) => { this.book.enqueue(tags['host'] ?? '', tier, start, this.lastEnd) }
  }

  private async run (): Promise<void> {
    await this.consumer.run({
      idleMs: 1000,
      records: async recs => await this.take(recs),
      idle: async () => { this.caughtUp = true; await this.flush(this.now()) }
    })
  }

  private async take (recs: WalRecord[]): Promise<void> {
    const now = this.now()
    this.caughtUp = false
    for (const r of recs) {
      this.lastEnd = r.end
      const e = recordEntry(r)
      if (e.rollup === true) continue
      const series = seriesOf(e)
      let maxT = -Infinity
      for (let i = 0; i < e.p.length; i++) {
        const p = e.p[i]!
        if (p.t > maxT) maxT = p.t
        if (!SKIP.has(p.m)) this.agg.add(p, now, series[i])
      }
      const cols = e.c
      if (cols !== undefined) {
        for (let i = 0; i < cols.length; i++) {
          const c = cols[i]!
          const w = c.f.length + 1
          for (let o = 0; o < c.v.length; o += w) if (c.v[o]! > maxT) maxT = c.v[o]!
          if (!SKIP.has(c.m)) this.agg.addRows(c, now, colSeries(c))
        }
      }
      if (e.a === '') continue
      if (e.r > this.lastR) this.lastR = e.r
      if (e.resend === true || this.starts.size > 0) this.marks(e, now)
      if (maxT > (this.lastT.get(e.a) ?? -Infinity)) this.lastT.set(e.a, maxT)
    }
    await this.flush(now)
  }

  /** marks marks the buckets of a resent batch (1c) and, for a session's first batch here, those before it (1a). */
  private marks (e: WalEntry, now: number): void {
    const at = this.starts.get(e.a)
    const starting = at !== undefined && e.r >= at
    if (e.resend !== true && !starting) return
    let min = Infinity
    let max = -Infinity
    for (const p of pointsOf(e)) { if (p.m === 'host_up') continue; if (p.t < min) min = p.t; if (p.t > max) max = p.t }
    if (min === Infinity) return
    if (e.resend === true) this.book.markRange(e.a, min, max, now)
    if (!starting) return
    this.starts.delete(e.a)
    const n = this.book.sessionStart(e.a, min, now, this.lastEnd)
    this.began.sessions++
    this.began.buckets += n
    this.o.logger.debug({ agent: e.a, first: new Date(min).toISOString(), marked: n }, 'agent session began here: rollup buckets around its first point marked')
  }

  /** settleEnds marks the bucket of each ended session's last point, once the stage has read past the end. */
  private settleEnds (now: number): void {
    // A session that sent nothing here leaves no start to match: forgotten once caught up for 10 minutes.
    if (this.caughtUp) for (const [a, at] of this.starts) if (now - at > 600_000) this.starts.delete(a)
    if (this.ends.length === 0) return
    this.ends = this.ends.filter(x => {
      if (!this.caughtUp && this.lastR < x.at + 2000) return true
      const t = this.lastT.get(x.agent)
      if (t !== undefined) this.book.markRange(x.agent, t, t, now)
      return false
    })
  }

  /** repairs starts the due repairs in the background (one run at a time; the WAL reading goes on). */
  private repairs (now: number): void {
    if (now - this.lastPrune >= 60_000) {
      this.lastPrune = now
      this.book.prune(now)
      // One line a minute however many agents moved here (a collector restart moves them all).
      if (this.began.sessions > 0) this.o.logger.info({ ...this.began, queued: this.book.queue.size }, 'agent sessions began here: the rollup buckets around their first points are repaired from raw data (kanshi_rollup_repairs_total)')
      this.began = { sessions: 0, buckets: 0 }
    }
    if (this.runner === undefined || this.repairing !== undefined || this.book.queue.size === 0) return
    this.repairing = this.runner.runDue().finally(() => { this.repairing = undefined })
  }

  /** flush writes closed buckets durably; now and then it saves the open ones with the cursor. */
  async flush (now: number): Promise<void> {
    // Looking at every series is dear: a few seconds' delay costs nothing against 5-minute buckets.
    if (now - this.lastClose >= (this.o.closeEveryMs ?? 2000)) {
      this.lastClose = now
      this.settleEnds(now)
      // Without a way to repair (no query target), a partial bucket is still better written than lost.
      this.pending.push(...this.agg.close(now, this.runner !== undefined ? this.partial : undefined))
      this.repairs(now)
    }
    if (this.pending.length > 0) {
      try {
        const entry: WalEntry = { a: '', s: 0, r: now, p: this.pending, rollup: true }
        await this.o.wal.append(encodeEntry(entry), entry)
        this.pending = []
      } catch (err) {
        this.o.logger.warn({ err: (err as Error).message, buckets: this.pending.length }, 'could not store rollups yet; retrying')
      }
    }
    const { late, lateBuckets } = this.agg.stats
    if (late > this.late) {
      this.o.onLate?.(late - this.late)
      this.o.logger.warn({ late }, 'points arrived after their rollup bucket closed; they are kept raw')
      this.late = late
    }
    if (lateBuckets > this.lateBuckets) {
      this.o.logger.warn({ lateBuckets }, 'rollup buckets closed after their hourly or daily bucket had; they are not in it')
      this.lateBuckets = lateBuckets
    }
    // A large checkpoint is dear: the next waits 50 times what the last took (the WAL keeps the records
    // meanwhile), but sooner once those records are a quarter of the WAL's bound, lest it refuse batches.
    const held = this.o.wal.bytesFrom(this.o.reader.committed) > this.o.wal.maxTotalBytes / 4
    const every = held ? Math.max(1000, this.checkpointCostMs * 5) : Math.max(this.o.checkpointMs ?? 10_000, this.checkpointCostMs * 50)
    if (now - this.lastCheckpoint >= every && before(this.o.reader.committed, this.lastEnd)) {
      try {
        await this.checkpoint()
      } catch (err) {
        // Nothing is lost: the cursor still names the last good checkpoint, and the WAL keeps the records after it.
        this.o.logger.warn({ err: (err as Error).message }, 'could not write the rollup checkpoint; the WAL keeps the records meanwhile')
      }
    }
  }
}
