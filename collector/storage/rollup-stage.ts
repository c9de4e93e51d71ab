// Feeds the WAL to the rollup aggregators — 5-minute buckets under the
// measurement's name, hourly ones under <measurement>_1h, daily ones (UTC days,
// as InfluxQL's GROUP BY time(1d)) under <measurement>_1d for year-long panels —
// and appends closed buckets back to the WAL (marked rollup) for the storage writer. Every
// checkpointMs the open buckets are saved with the WAL cursor in one atomic
// write, so the WAL does not have to keep an hour of data for the hourly tier,
// and a restart resumes exactly where the checkpoint was.

import type { Logger } from 'pino'
import type { Position, Wal, WalReader } from '../state/wal.js'
import { encodeEntry, recordEntry, type WalEntry } from '../state/entry.js'
import { RollupAggregator, seriesKey } from './rollup.js'
import type { Point } from '../../protocol/messages.js'

/** Measurements not worth rolling up: events and the alert record. */
const SKIP = new Set(['log_event', 'alert'])

const before = (a: Position, b: Position): boolean => a.segment < b.segment || (a.segment === b.segment && a.offset < b.offset)

export interface RollupStageOptions {
  wal: Wal
  reader: WalReader
  logger: Logger
  now?: () => number
  onLate?: (n: number) => void
  checkpointMs?: number
}

export class RollupStage {
  readonly tiers: Array<RollupAggregator>
  private stopped = false
  private loop: Promise<void> | undefined
  private lastEnd: Position
  private late = 0
  /** closed buckets not yet in the WAL (an append failed): retried, and they hold the cursor */
  private pending: Point[] = []
  private readonly now: () => number
  private lastCheckpoint = 0

  constructor (private readonly o: RollupStageOptions) {
    this.tiers = [
      new RollupAggregator(),
      new RollupAggregator({ bucketMs: 3_600_000, graceMs: 5 * 60_000, idleMs: 20 * 60_000, suffix: '_1h' }),
      // A year of one host is 365 points here against 8,760 hourly ones: the 365-day
      // capacity query for 200 hosts reads 73,000 points instead of 1.75 million (issue 8).
      // A host silent all afternoon must not cut its day short, so the idle bound is over a day.
      new RollupAggregator({ bucketMs: 86_400_000, graceMs: 10 * 60_000, idleMs: 25 * 3_600_000, suffix: '_1d' })
    ]
    this.lastEnd = { ...o.reader.committed }
    this.now = o.now ?? Date.now
    const st = o.reader.state as { tiers?: unknown[], pending?: RollupStage['pending'] } | undefined
    if (st !== undefined) {
      st.tiers?.forEach((snap, i) => this.tiers[i]?.restore(snap))
      this.pending = st.pending ?? []
    }
  }

  start (): void {
    this.loop = this.run().catch(err => this.o.logger.fatal({ err }, 'rollup stage stopped on an unexpected error'))
  }

  async stop (): Promise<void> {
    this.stopped = true
    await this.loop
    await this.checkpoint()
  }

  /** how long the last checkpoint took (wall clock), to space the next ones out */
  private checkpointCostMs = 0

  private async checkpoint (): Promise<void> {
    this.lastCheckpoint = this.now()
    const t0 = performance.now()
    await this.o.reader.commit(this.lastEnd, 0, { tiers: this.tiers.map(a => a.snapshot()), pending: this.pending })
    this.checkpointCostMs = performance.now() - t0
  }

  private async run (): Promise<void> {
    while (!this.stopped) {
      const recs = await this.o.reader.read(1024 * 1024)
      const now = this.now()
      for (const r of recs) {
        this.lastEnd = r.end
        const e = recordEntry(r)
        if (e.rollup === true) continue
        for (const p of e.p) {
          if (SKIP.has(p.m)) continue
          // One series key for all tiers: it sorts the tags, and was 5% of the collector's CPU per tier.
          const key = seriesKey(p.m, p.tags)
          for (const a of this.tiers) a.add(p, now, key)
        }
      }
      await this.flush(now)
      if (recs.length === 0) await Promise.race([this.o.wal.waitForData(), new Promise(resolve => setTimeout(resolve, 1000))])
    }
  }

  /** flush writes closed buckets durably; every checkpointMs it saves the open ones with the cursor. */
  async flush (now: number): Promise<void> {
    for (const a of this.tiers) this.pending.push(...a.close(now))
    if (this.pending.length > 0) {
      try {
        const entry: WalEntry = { a: '', s: 0, r: now, p: this.pending, rollup: true }
        await this.o.wal.append(encodeEntry(entry), entry)
        this.pending = []
      } catch (err) {
        this.o.logger.warn({ err: (err as Error).message, buckets: this.pending.length }, 'could not store rollups yet; retrying')
      }
    }
    const late = this.tiers[0]!.stats.late
    if (late > this.late) {
      this.o.onLate?.(late - this.late)
      this.o.logger.warn({ late }, 'points arrived after their rollup bucket closed; they are kept raw')
      this.late = late
    }
    // The checkpoint serialises every open bucket: with 10,000 agents (300,000 series, three tiers)
    // that is hundreds of MB of JSON, and every 10 s it took most of a core and grew the heap past
    // 1 GB (issue 8). So the next one waits at least 50 times what the last took (~2% of the time);
    // the WAL keeps the records since the last checkpoint meanwhile.
    const every = Math.max(this.o.checkpointMs ?? 10_000, this.checkpointCostMs * 50)
    if (now - this.lastCheckpoint >= every && before(this.o.reader.committed, this.lastEnd)) await this.checkpoint()
  }
}
