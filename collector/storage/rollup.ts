// Rollups computed as data passes, for year-long capacity queries on InfluxDB
// 1.x, 2.x and 3.x alike (no continuous queries, no Flux tasks): per series and
// bucket, each numeric field's mean, max, min and count, in tiers (5 minutes,
// 1 hour, 1 day by default). Buckets close when their series has moved a grace
// period past them (or has been silent). Agents send each series in order, so a
// point for a bucket already closed is rare; it is counted, kept raw, and not
// folded in (re-emitting a bucket rebuilt from part of its points would
// overwrite a good rollup).
//
// Only the first tier sees points: a closed bucket is folded into the next
// tier's bucket (sum, count, min and max combine exactly), so an hourly or
// daily figure is the aggregate of every raw point, at a third of the work.
// One compact record per series serves every tier (issue 8: at 10,000 agents,
// 300,000 series × 3 tiers of Maps per bucket and field took over 1 GB).
// Open buckets are checkpointed with the WAL cursor (snapshot/restore, or the
// binary checkpoint in rollup-checkpoint.ts), so a restart neither loses nor
// double-counts a point. Pure: the clock is a parameter.

import type { Point } from '../../protocol/messages.js'

export const BUCKET_MS = 5 * 60_000

export interface RollupOptions {
  bucketMs?: number
  /** a bucket closes once its series has a point this far past the bucket's end */
  graceMs?: number
  /** a bucket also closes when nothing reached it for this long (wall clock): a silent host */
  idleMs?: number
  /** appended to the measurement name of rollup points ("_1h" for the hourly tier) */
  suffix?: string
}

export type Tier = Required<RollupOptions>

/** The collector's tiers: 5 minutes, hourly (<m>_1h), daily in UTC days as InfluxQL's GROUP BY time(1d) (<m>_1d). */
export const DEFAULT_TIERS: readonly Tier[] = Object.freeze([
  { bucketMs: BUCKET_MS, graceMs: 60_000, idleMs: 10 * 60_000, suffix: '' },
  { bucketMs: 3_600_000, graceMs: 5 * 60_000, idleMs: 20 * 60_000, suffix: '_1h' },
  // A year of one host is 365 points here against 8,760 hourly ones: the 365-day
  // capacity query for 200 hosts reads 73,000 points instead of 1.75 million (issue 8).
  // A host silent all afternoon must not cut its day short, so the idle bound is over a day.
  { bucketMs: 86_400_000, graceMs: 10 * 60_000, idleMs: 25 * 3_600_000, suffix: '_1d' }
])

export interface RollupStats {
  /** points that arrived for a 5-minute bucket already closed (kept raw only) */
  late: number
  /** closed buckets whose next-tier bucket had already closed (not folded in) */
  lateBuckets: number
}

/**
 * An open bucket: agg holds, per field of the series (same index as names),
 * sum, count, min and max; a count of 0 means the field had no value here.
 */
export interface Bucket { tier: number, start: number, touched: number, agg: number[] }

export interface Series {
  m: string
  tags: Record<string, string>
  /** field names in first-seen order, shared by every bucket of the series */
  names: string[]
  maxT: number
  /** per tier, the start of the last closed bucket */
  closed: number[]
  /** open buckets ordered by tier, then start: usually one per tier */
  open: Bucket[]
}

export function seriesKey (m: string, tags: Record<string, string> | undefined): string {
  if (tags === undefined) return m
  return m + '\u0000' + Object.keys(tags).sort().map(k => `${k}=${tags[k]}`).join('\u0000')
}

/** aggregate field names per field name, made once: rollup points repeat them by the million */
const aggNames = new Map<string, readonly [string, string, string, string]>()
function namesOf (f: string): readonly [string, string, string, string] {
  let n = aggNames.get(f)
  if (n === undefined) { n = [`${f}_mean`, `${f}_max`, `${f}_min`, `${f}_count`]; aggNames.set(f, n) }
  return n
}

/** merge folds aggregate b into a (same field order; a grows if b has more fields). */
function merge (a: number[], b: number[]): void {
  while (a.length < b.length) a.push(0, 0, 0, 0)
  for (let j = 0; j < b.length; j += 4) {
    const n = b[j + 1]!
    if (n === 0) continue
    if (a[j + 1] === 0) { a[j] = b[j]!; a[j + 1] = n; a[j + 2] = b[j + 2]!; a[j + 3] = b[j + 3]!; continue }
    a[j] += b[j]!; a[j + 1] += n
    if (b[j + 2]! < a[j + 2]!) a[j + 2] = b[j + 2]!
    if (b[j + 3]! > a[j + 3]!) a[j + 3] = b[j + 3]!
  }
}

/** RollupAggregator folds points into per-series buckets, tier by tier. */
export class RollupAggregator {
  readonly series = new Map<string, Series>()
  readonly tiers: readonly Tier[]
  readonly stats: RollupStats = { late: 0, lateBuckets: 0 }

  /** one tier from options (tests, simple uses), or several, finest first, each bucket a multiple of the one before */
  constructor (o: RollupOptions | readonly RollupOptions[] = DEFAULT_TIERS) {
    const list = Array.isArray(o) ? o as readonly RollupOptions[] : [o as RollupOptions]
    this.tiers = list.map((t, i) => ({ ...DEFAULT_TIERS[0]!, suffix: '', ...t, ...(i > 0 && t.suffix === undefined ? { suffix: `_${i}` } : {}) }))
    this.tiers.forEach((t, i) => {
      const prev = this.tiers[i - 1]
      if (prev !== undefined && (t.bucketMs % prev.bucketMs !== 0 || t.graceMs <= prev.graceMs || t.idleMs <= prev.idleMs)) {
        throw new Error(`rollup tier ${i}: its bucket must be a multiple of tier ${i - 1}'s and its grace and idle times longer`)
      }
    })
  }

  /** add folds a point's numeric fields into its first-tier bucket. */
  add (p: Point, now: number, key = seriesKey(p.m, p.tags)): void {
    let s = this.series.get(key)
    if (s === undefined) {
      s = { m: p.m, tags: p.tags ?? {}, names: [], maxT: -Infinity, closed: this.tiers.map(() => -Infinity), open: [] }
      this.series.set(key, s)
    }
    const bucketMs = this.tiers[0]!.bucketMs
    const start = Math.floor(p.t / bucketMs) * bucketMs
    if (start <= s.closed[0]!) { this.stats.late++; return }
    const b = this.bucket(s, 0, start, now)
    const agg = b.agg
    const names = s.names
    for (const f in p.f) {
      const v = p.f[f]
      if (typeof v !== 'number' || !Number.isFinite(v)) continue
      let i = names.indexOf(f)
      if (i < 0) { i = names.length; names.push(f) }
      const j = 4 * i
      while (agg.length <= j) agg.push(0, 0, 0, 0)
      if (agg[j + 1] === 0) { agg[j] = v; agg[j + 1] = 1; agg[j + 2] = v; agg[j + 3] = v; continue }
      agg[j] += v; agg[j + 1]++
      if (v < agg[j + 2]!) agg[j + 2] = v
      if (v > agg[j + 3]!) agg[j + 3] = v
    }
    if (p.t > s.maxT) s.maxT = p.t
  }

  /** bucket finds or opens the bucket of a tier starting at start, keeping open ordered. */
  private bucket (s: Series, tier: number, start: number, now: number): Bucket {
    const open = s.open
    let i = open.length
    // Scanning from the end: the newest bucket of the finest tier is the usual answer.
    while (i > 0) {
      const b = open[i - 1]!
      if (b.tier === tier && b.start === start) { b.touched = now; return b }
      if (b.tier < tier || (b.tier === tier && b.start < start)) break
      i--
    }
    const b: Bucket = { tier, start, touched: now, agg: [] }
    open.splice(i, 0, b)
    return b
  }

  /** close returns the rollup points of the buckets that are complete, finest tier first. */
  close (now: number): Point[] {
    const out: Point[] = []
    for (const [key, s] of this.series) {
      if (s.open.length > 0) this.closeSeries(s, now, out)
      // A series silent for long is forgotten once it has nothing open.
      else if (now - s.maxT > 24 * 3_600_000) this.series.delete(key)
    }
    return out
  }

  private closeSeries (s: Series, now: number, out: Point[]): void {
    // open is ordered by tier: a bucket folded into the next tier is met again later in this pass.
    for (let i = 0; i < s.open.length;) {
      const b = s.open[i]!
      const tier = this.tiers[b.tier]!
      const end = b.start + tier.bucketMs
      const due = (s.maxT >= end + tier.graceMs || now - b.touched >= tier.idleMs) &&
        // a coarser bucket waits for every finer one inside it (they close first, by their shorter grace)
        !s.open.some(x => x.tier < b.tier && x.start < end)
      if (!due) {
        // later buckets of this tier are not complete either
        while (i < s.open.length && s.open[i]!.tier === b.tier) i++
        continue
      }
      s.open.splice(i, 1)
      if (b.start > s.closed[b.tier]!) s.closed[b.tier] = b.start
      const f: Record<string, number> = {}
      let any = false
      for (let j = 0; j < b.agg.length; j += 4) {
        const n = b.agg[j + 1]!
        if (n === 0) continue
        const [mean, max, min, count] = namesOf(s.names[j / 4]!)
        f[mean] = b.agg[j]! / n
        f[max] = b.agg[j + 3]!
        f[min] = b.agg[j + 2]!
        f[count] = n
        any = true
      }
      if (!any) continue
      out.push({ m: s.m + tier.suffix, t: b.start, tags: s.tags, f })
      const up = b.tier + 1
      if (up < this.tiers.length) {
        const size = this.tiers[up]!.bucketMs
        const start = Math.floor(b.start / size) * size
        if (start <= s.closed[up]!) this.stats.lateBuckets++
        else merge(this.bucket(s, up, start, now).agg, b.agg)
      }
    }
  }

  /** open returns how many buckets are open (all tiers). */
  openBuckets (): number {
    let n = 0
    for (const s of this.series.values()) n += s.open.length
    return n
  }

  /** snapshot returns the open buckets as plain data; restore takes it back (the checkpoint). */
  snapshot (): unknown {
    return { v: 2, tiers: this.tiers.map(t => t.bucketMs), series: [...this.series.values()].map(toRow) }
  }

  restore (snap: unknown): void {
    const s = snap as { v?: number, tiers?: number[], series?: unknown[] } | undefined
    if (s?.v !== 2 || !Array.isArray(s.series)) return
    this.checkTiers(s.tiers)
    for (const row of s.series) this.put(fromRow(row as Row))
  }

  /** checkTiers refuses a checkpoint written with other bucket sizes (its buckets would not line up). */
  checkTiers (sizes: number[] | undefined): void {
    if (sizes === undefined || sizes.length !== this.tiers.length || sizes.some((ms, i) => ms !== this.tiers[i]!.bucketMs)) {
      throw new Error(`rollup checkpoint has tiers ${JSON.stringify(sizes)} ms, this collector ${JSON.stringify(this.tiers.map(t => t.bucketMs))} ms`)
    }
  }

  /** put adds a restored series. */
  put (s: Series): void {
    this.series.set(seriesKey(s.m, s.tags), s)
  }

  /**
   * restoreLegacy takes back the state of a collector before issue 8's compact
   * record: one snapshot per tier, where every tier had been fed every point.
   * Here a coarser bucket gets the finer ones only when they close, so what the
   * open finer buckets hold is taken out of it (sum and count; min and max fold
   * again idempotently).
   */
  restoreLegacy (snaps: unknown[]): void {
    type Old = Array<[string, { m: string, tags: Record<string, string>, maxT: number, closedThrough: number | null, buckets: Array<[number, number, Array<[string, { sum: number, count: number, min: number, max: number }]>]> }]>
    snaps.forEach((snap, tier) => {
      if (tier >= this.tiers.length || !Array.isArray(snap)) return
      for (const [key, o] of snap as Old) {
        let s = this.series.get(key)
        if (s === undefined) {
          s = { m: o.m, tags: o.tags, names: [], maxT: -Infinity, closed: this.tiers.map(() => -Infinity), open: [] }
          this.series.set(key, s)
        }
        s.maxT = Math.max(s.maxT, o.maxT)
        s.closed[tier] = o.closedThrough ?? -Infinity
        for (const [start, touched, fields] of o.buckets) {
          const b = this.bucket(s, tier, start, touched)
          for (const [name, a] of fields) {
            let i = s.names.indexOf(name)
            if (i < 0) { i = s.names.length; s.names.push(name) }
            while (b.agg.length <= 4 * i) b.agg.push(0, 0, 0, 0)
            b.agg.splice(4 * i, 4, a.sum, a.count, a.min, a.max)
          }
        }
      }
    })
    for (const s of this.series.values()) {
      // Coarsest first, so each subtracts what the finer bucket held before its own correction.
      for (const b of [...s.open].reverse()) {
        const size = this.tiers[b.tier]!.bucketMs
        for (const fine of s.open) {
          if (fine.tier !== b.tier - 1 || fine.start < b.start || fine.start >= b.start + size) continue
          for (let j = 0; j < fine.agg.length && j < b.agg.length; j += 4) { b.agg[j]! -= fine.agg[j]!; b.agg[j + 1]! -= fine.agg[j + 1]! }
        }
      }
    }
  }
}

/** a series as plain data: [m, tags, names, maxT, closed, [tier, start, touched, agg][]] */
export type Row = [string, Record<string, string>, string[], number | null, Array<number | null>, Array<[number, number, number, number[]]>]

const num = (x: number | null): number => x ?? -Infinity // JSON writes -Infinity as null
export function toRow (s: Series): Row {
  return [s.m, s.tags, s.names, s.maxT, s.closed, s.open.map(b => [b.tier, b.start, b.touched, b.agg])]
}
export function fromRow (r: Row): Series {
  return { m: r[0], tags: r[1], names: r[2], maxT: num(r[3]), closed: r[4].map(num), open: r[5].map(([tier, start, touched, agg]) => ({ tier, start, touched, agg })) }
}
