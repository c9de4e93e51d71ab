// Feeds the WAL to the rollup aggregators — 5-minute buckets under the
// measurement's name, hourly ones under <measurement>_1h, for year-long panels —
// and appends closed buckets back to the WAL (marked rollup) for the storage writer. The cursor is
// committed only up to the first record an open bucket still holds, so a
// restart rebuilds every open bucket from the WAL.

import type { Logger } from 'pino'
import type { Position, Wal, WalReader } from '../state/wal.js'
import { decodeEntry, encodeEntry } from '../state/entry.js'
import { RollupAggregator } from './rollup.js'

/** Measurements not worth rolling up: events and the alert record. */
const SKIP = new Set(['log_event', 'alert'])

const before = (a: Position, b: Position): boolean => a.segment < b.segment || (a.segment === b.segment && a.offset < b.offset)

export interface RollupStageOptions {
  wal: Wal
  reader: WalReader
  logger: Logger
  now?: () => number
  onLate?: (n: number) => void
}

export class RollupStage {
  readonly tiers: Array<RollupAggregator<Position>>
  private stopped = false
  private loop: Promise<void> | undefined
  private lastEnd: Position
  private late = 0
  /** closed buckets not yet in the WAL (an append failed): retried, and they hold the cursor */
  private pending: Array<{ point: import('../../protocol/messages.js').Point, first: Position }> = []
  private readonly now: () => number

  constructor (private readonly o: RollupStageOptions) {
    this.tiers = [new RollupAggregator<Position>(), new RollupAggregator<Position>({ bucketMs: 3_600_000, graceMs: 5 * 60_000, idleMs: 20 * 60_000, suffix: '_1h' })]
    this.lastEnd = { ...o.reader.committed }
    this.now = o.now ?? Date.now
  }

  start (): void {
    this.loop = this.run().catch(err => this.o.logger.fatal({ err }, 'rollup stage stopped on an unexpected error'))
  }

  async stop (): Promise<void> {
    this.stopped = true
    await this.loop
  }

  private async run (): Promise<void> {
    while (!this.stopped) {
      const recs = await this.o.reader.read(1024 * 1024)
      const now = this.now()
      for (const r of recs) {
        const start = this.lastEnd
        this.lastEnd = r.end
        const e = decodeEntry(r.data)
        if (e.rollup === true) continue
        for (const p of e.p) if (!SKIP.has(p.m)) for (const a of this.tiers) a.add(p, now, start)
      }
      await this.flush(now)
      if (recs.length === 0) await Promise.race([this.o.wal.waitForData(), new Promise(resolve => setTimeout(resolve, 1000))])
    }
  }

  /** flush writes closed buckets durably, then moves the cursor up to the first record still in an open bucket. */
  async flush (now: number): Promise<void> {
    for (const a of this.tiers) this.pending.push(...a.close(now))
    if (this.pending.length > 0) {
      try {
        await this.o.wal.append(encodeEntry({ a: '', s: 0, r: now, p: this.pending.map(x => x.point), rollup: true }))
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
    let hold = this.lastEnd
    for (const a of this.tiers) { const f = a.firstOpen(before); if (f !== undefined && before(f, hold)) hold = f }
    for (const x of this.pending) if (before(x.first, hold)) hold = x.first
    if (before(this.o.reader.committed, hold)) await this.o.reader.commit(hold)
  }
}
