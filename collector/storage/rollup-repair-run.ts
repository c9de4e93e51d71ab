// Runs the due rollup repairs (rollup-repair.ts): one aggregate InfluxQL query per (host, tier,
// bucket) on the raw retention policy of the query target, its result written back through the
// WAL as a rollup entry (same measurement, tags and time: it replaces the partial point on every
// target). A failed query is retried with backoff; raw data already expired is skipped and counted.
// A failed query also pauses the whole run (the target is down, or slow): the other due repairs wait
// for the same backoff rather than each fail at once (10,000 agents' session starts: 30,000 queries).

import type { Logger } from 'pino'
import { backoffDelay } from '../../common/backoff.js'
import type { Point } from '../../protocol/messages.js'
import type { Series } from '../report/influxql.js'
import type { Position } from '../state/wal/index.js'
import type { Tier } from './rollup.js'
import { repairQuery, type RepairBook, type RepairItem } from './rollup-repair.js'

export type RepairResult = 'done' | 'failed' | 'skipped'

/** Measurements the rollup stage leaves out (events and the alert record). */
const SKIP = new Set(['log_event', 'alert'])
const AGG = /_(mean|max|min|count)$/

export interface RepairTarget {
  db: string
  rawRp?: string | undefined
  rollupRp?: string | undefined
  /** how long raw data is kept (ms; Infinity for INF): older buckets cannot be repaired */
  rawKeepMs: number
}

export interface RepairRunOptions {
  book: RepairBook
  tiers: readonly Tier[]
  target: RepairTarget
  query: (stmts: string[]) => Promise<Series[][]>
  /** appends rollup points to the WAL (a rollup entry) */
  append: (points: Point[]) => Promise<void>
  /** the WAL position every storage target has stored */
  stored: () => Position
  now: () => number
  logger: Logger
  onResult?: (r: RepairResult) => void
  /** retry backoff bounds (ms) */
  minBackoffMs?: number
  maxBackoffMs?: number
}

/** parseRetention reads an InfluxQL retention duration (35d, 5w, 12h, INF) as ms. */
export function parseRetention (d: string): number {
  const m = /^(\d+)([hdw])$/.exec(d)
  if (m === null) return Infinity
  return Number(m[1]) * { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }[m[2] as 'h' | 'd' | 'w']
}

/**
 * repairPoints turns the answer to repairQuery into rollup points at the bucket's start: per series
 * and numeric field (one with a mean), <field>_mean/_max/_min/_count, tags as stored (empty ones dropped).
 * sameRp: raw and rollups share a retention policy, so rollup fields and tiers are left out.
 */
export function repairPoints (series: Series[], tier: Tier, start: number, sameRp = false): Point[] {
  const out: Point[] = []
  for (const s of series) {
    if (SKIP.has(s.name) || (sameRp && /_(1h|1d)$/.test(s.name))) continue
    const tags: Record<string, string> = {}
    for (const [k, v] of Object.entries(s.tags ?? {})) if (v !== '') tags[k] = v
    const col = new Map(s.columns.map((c, i) => [c, i]))
    for (const row of s.values) {
      const f: Record<string, number> = {}
      for (const [c, i] of col) {
        if (!c.startsWith('mean_')) continue
        const field = c.slice(5)
        if (sameRp && AGG.test(field)) continue
        const mean = row[i]
        const count = row[col.get(`count_${field}`) ?? -1]
        const max = row[col.get(`max_${field}`) ?? -1]
        const min = row[col.get(`min_${field}`) ?? -1]
        if (typeof mean !== 'number' || typeof count !== 'number' || count === 0 || typeof max !== 'number' || typeof min !== 'number') continue
        f[`${field}_mean`] = mean
        f[`${field}_max`] = max
        f[`${field}_min`] = min
        f[`${field}_count`] = count
      }
      if (Object.keys(f).length > 0) out.push({ m: s.name + tier.suffix, t: start, tags, f })
    }
  }
  return out
}

export class RepairRunner {
  private stopped = false
  /** after a failed query no repair runs before this time; failures in a row lengthen it */
  private pausedUntil = -Infinity
  private failures = 0
  constructor (private readonly o: RepairRunOptions) {}

  /** stop ends a run after its current query (shutdown); what is left stays queued in the checkpoint. */
  stop (): void { this.stopped = true }

  /** runDue runs every repair that is due, one query at a time; it never throws. */
  async runDue (): Promise<void> {
    const o = this.o
    const sameRp = o.target.rawRp === o.target.rollupRp
    for (const it of o.book.due(o.now(), o.stored())) {
      if (this.stopped) return
      const tier = o.tiers[it.tier]!
      if (it.start + tier.bucketMs < o.now() - o.target.rawKeepMs) {
        o.book.drop(it)
        o.onResult?.('skipped')
        o.logger.warn({ host: it.host, tier: tier.suffix || '5m', start: new Date(it.start).toISOString() }, 'rollup repair skipped: the raw data of that bucket has expired')
        continue
      }
      if (o.now() < this.pausedUntil) continue // only expired ones are dropped while paused
      try {
        const [series] = await o.query([repairQuery(o.target, it.host, it.start, tier.bucketMs)])
        const points = repairPoints(series ?? [], tier, it.start, sameRp)
        if (points.length > 0) await o.append(points)
        o.book.ran(it, o.now())
        this.failures = 0
        o.onResult?.('done')
        o.logger.debug({ host: it.host, tier: tier.suffix || '5m', start: new Date(it.start).toISOString(), points: points.length, run: it.runs }, 'rollup bucket repaired from raw data')
      } catch (err) {
        this.retry(it, err as Error)
        this.pausedUntil = o.now() + backoffDelay({ minMs: o.minBackoffMs ?? 5000, maxMs: o.maxBackoffMs ?? 300_000 }, this.failures++)
      }
    }
  }

  private retry (it: RepairItem, err: Error): void {
    const o = this.o
    it.due = o.now() + backoffDelay({ minMs: o.minBackoffMs ?? 5000, maxMs: o.maxBackoffMs ?? 300_000 }, it.tries++)
    o.onResult?.('failed')
    o.logger.warn({ host: it.host, start: new Date(it.start).toISOString(), err: err.message, tries: it.tries }, 'rollup repair failed; it is retried')
  }
}
