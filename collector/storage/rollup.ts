// 5-minute rollups computed as data passes, for year-long capacity queries on
// InfluxDB 1.x, 2.x and 3.x alike (no continuous queries, no Flux tasks): per
// series and bucket, each numeric field's mean, max, min and count. Buckets
// close when their series has moved a grace period past them (or has been
// silent). Agents send each series in order, so a point for a bucket already
// closed is rare; it is counted, kept raw, and not folded in (re-emitting a
// bucket rebuilt from part of its points would overwrite a good rollup).
// Open buckets are checkpointed with the WAL cursor (snapshot/restore), so a
// restart neither loses nor double-counts a point. Pure: the clock is a parameter.

import type { Point } from '../../protocol/messages.js'

export const BUCKET_MS = 5 * 60_000

interface FieldAgg { sum: number, count: number, min: number, max: number }
interface Bucket { start: number, fields: Map<string, FieldAgg>, touched: number }
interface SeriesState { m: string, tags: Record<string, string>, buckets: Map<number, Bucket>, maxT: number, closedThrough: number }

export interface RollupOptions {
  bucketMs?: number
  /** a bucket closes once its series has a point this far past the bucket's end */
  graceMs?: number
  /** a bucket also closes when nothing reached it for this long (wall clock): a silent host */
  idleMs?: number
  /** appended to the measurement name of rollup points ("_1h" for the hourly tier) */
  suffix?: string
}

export interface RollupStats { late: number }

export function seriesKey (m: string, tags: Record<string, string> | undefined): string {
  if (tags === undefined) return m
  return m + '\u0000' + Object.keys(tags).sort().map(k => `${k}=${tags[k]}`).join('\u0000')
}

/** RollupAggregator folds points into per-series buckets. */
export class RollupAggregator {
  private readonly series = new Map<string, SeriesState>()
  private readonly bucketMs: number
  private readonly graceMs: number
  private readonly idleMs: number
  private readonly suffix: string
  readonly stats: RollupStats = { late: 0 }

  constructor (o: RollupOptions = {}) {
    this.bucketMs = o.bucketMs ?? BUCKET_MS
    this.graceMs = o.graceMs ?? 60_000
    this.idleMs = o.idleMs ?? 10 * 60_000
    this.suffix = o.suffix ?? ''
  }

  /** add folds a point's numeric fields into its bucket. */
  add (p: Point, now: number, key = seriesKey(p.m, p.tags)): void {
    let s = this.series.get(key)
    if (s === undefined) {
      s = { m: p.m, tags: p.tags ?? {}, buckets: new Map(), maxT: 0, closedThrough: -Infinity }
      this.series.set(key, s)
    }
    const start = Math.floor(p.t / this.bucketMs) * this.bucketMs
    if (start <= s.closedThrough) { this.stats.late++; return }
    let b = s.buckets.get(start)
    if (b === undefined) {
      b = { start, fields: new Map(), touched: now }
      s.buckets.set(start, b)
    }
    b.touched = now
    for (const f in p.f) {
      const v = p.f[f]
      if (typeof v !== 'number' || !Number.isFinite(v)) continue
      const a = b.fields.get(f)
      if (a === undefined) b.fields.set(f, { sum: v, count: 1, min: v, max: v })
      else { a.sum += v; a.count++; if (v < a.min) a.min = v; if (v > a.max) a.max = v }
    }
    if (p.t > s.maxT) s.maxT = p.t
  }

  /** close returns the rollup points of the buckets that are complete. */
  close (now: number): Point[] {
    const out: Point[] = []
    for (const [key, s] of this.series) {
      for (const b of [...s.buckets.values()].sort((x, y) => x.start - y.start)) {
        const end = b.start + this.bucketMs
        if (s.maxT < end + this.graceMs && now - b.touched < this.idleMs) break // later buckets are not complete either
        s.buckets.delete(b.start)
        s.closedThrough = Math.max(s.closedThrough, b.start)
        if (b.fields.size === 0) continue
        const f: Record<string, number> = {}
        for (const [name, a] of b.fields) {
          f[`${name}_mean`] = a.sum / a.count
          f[`${name}_max`] = a.max
          f[`${name}_min`] = a.min
          f[`${name}_count`] = a.count
        }
        out.push({ m: s.m + this.suffix, t: b.start, tags: s.tags, f })
      }
      // A series silent for long is forgotten once it has nothing open.
      if (s.buckets.size === 0 && now - s.maxT > 24 * 3_600_000) this.series.delete(key)
    }
    return out
  }

  /** snapshot returns the open buckets as plain data; restore takes it back (the checkpoint). */
  snapshot (): unknown {
    return [...this.series].map(([k, s]) => [k, { m: s.m, tags: s.tags, maxT: s.maxT, closedThrough: s.closedThrough, buckets: [...s.buckets.values()].map(b => [b.start, b.touched, [...b.fields]]) }])
  }

  restore (snap: unknown): void {
    if (!Array.isArray(snap)) return
    for (const [k, s] of snap as Array<[string, { m: string, tags: Record<string, string>, maxT: number, closedThrough: number | null, buckets: Array<[number, number, Array<[string, FieldAgg]>]> }]>) {
      this.series.set(k, {
        m: s.m, tags: s.tags, maxT: s.maxT, closedThrough: s.closedThrough ?? -Infinity,
        buckets: new Map(s.buckets.map(([start, touched, fields]) => [start, { start, touched, fields: new Map(fields) }]))
      })
    }
  }
}
