// Feeds the WAL to the rollup aggregator and appends closed buckets back to the WAL (marked
// rollup) for the storage writer. Open buckets are checkpointed in a file the cursor names, so the
// WAL need not keep a day of data for the daily tier and a restart resumes where it left off.

import { readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { WalConsumer, type Position, type Wal, type WalReader, type WalRecord } from '../state/wal/index.js'
import { encodeEntry, recordEntry, type WalEntry } from '../state/entry.js'
import { DEFAULT_TIERS, RollupAggregator } from './rollup.js'
import { seriesOf } from './line-protocol.js'
import { readCheckpoint, writeCheckpoint } from './rollup-checkpoint.js'
import type { Point } from '../../protocol/messages.js'

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
}

/** What the rollup cursor holds besides its position: the checkpoint file and the closed buckets not yet in the WAL. */
interface State { v?: number, file?: string, pending?: Point[] }

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

  constructor (private readonly o: RollupStageOptions) {
    this.lastEnd = { ...o.reader.committed }
    this.now = o.now ?? Date.now
    this.consumer = new WalConsumer(o.wal, o.reader)
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
    await this.checkpoint()
  }

  /** checkpoint saves the open buckets, names them in the cursor, and only once that is durable deletes the old file. */
  private async checkpoint (): Promise<void> {
    this.lastCheckpoint = this.now()
    const t0 = performance.now()
    const file = `rollup-${this.fileNo++}.ckpt`
    const { series, bytes } = await writeCheckpoint(this.agg, join(this.o.wal.dir, file))
    await this.o.reader.commit(this.lastEnd, 0, { v: 2, file, pending: this.pending })
    const old = this.file
    this.file = file
    if (old !== undefined) await unlink(join(this.o.wal.dir, old)).catch(() => {})
    this.checkpointCostMs = performance.now() - t0
    this.o.logger.debug({ series, bytes, ms: Math.round(this.checkpointCostMs) }, 'rollup checkpoint written')
  }

  private async run (): Promise<void> {
    await this.consumer.run({
      idleMs: 1000,
      records: async recs => await this.take(recs),
      idle: async () => { await this.flush(this.now()) }
    })
  }

  private async take (recs: WalRecord[]): Promise<void> {
    const now = this.now()
    for (const r of recs) {
      this.lastEnd = r.end
      const e = recordEntry(r)
      if (e.rollup === true) continue
      const series = seriesOf(e)
      for (let i = 0; i < e.p.length; i++) {
        const p = e.p[i]!
        if (!SKIP.has(p.m)) this.agg.add(p, now, series[i])
      }
    }
    await this.flush(now)
  }

  /** flush writes closed buckets durably; now and then it saves the open ones with the cursor. */
  async flush (now: number): Promise<void> {
    // Looking at every series is dear: a few seconds' delay costs nothing against 5-minute buckets.
    if (now - this.lastClose >= (this.o.closeEveryMs ?? 2000)) {
      this.lastClose = now
      this.pending.push(...this.agg.close(now))
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
