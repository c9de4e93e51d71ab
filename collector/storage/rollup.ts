// Rollups computed as data passes (no continuous queries or Flux tasks, so any InfluxDB works):
// per series and bucket, each numeric field's mean, max, min and count, in tiers (5 min, 1 h, 1 d).
// A bucket closes once its series has moved a grace period past it or gone silent; a late point is
// counted and kept raw, not folded in (re-emitting a partial bucket would overwrite a good rollup).
// Only the first tier sees points; a closed bucket folds exactly into the next tier's. Pure: the
// clock is a parameter; open buckets are checkpointed by rollup-checkpoint.ts.

import type { Point } from '../../protocol/messages.js'
import { fromColumns, type Cols } from '../../protocol/columns.js'
import { seriesLine } from './line-protocol.js'

const BUCKET_MS = 5 * 60_000

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
  // Year-long queries read 365 points per host here instead of 8,760 hourly ones.
  // A host silent all afternoon must not cut its day short, so the idle bound is over a day.
  { bucketMs: 86_400_000, graceMs: 10 * 60_000, idleMs: 25 * 3_600_000, suffix: '_1d' }
])

/** What close asks of a partial bucket (rollup-repair.ts): not emitted from memory, queued for repair. */
export interface PartialBuckets {
  partial(tags: Record<string, string>, tier: number, start: number): boolean
  queue(tags: Record<string, string>, tier: number, start: number): void
}

export interface RollupStats {
  /** points that arrived for a 5-minute bucket already closed (kept raw only) */
  late: number
  /** closed buckets whose next-tier bucket had already closed (not folded in) */
  lateBuckets: number
}

/**
 * Series holds a series' open buckets in one array of numbers, d = [maxT, closed per tier, then per
 * bucket: tier, start, touched and, per field of names, sum, count, min, max] (count 0: no value).
 * Buckets are ordered by tier, then start, each `stride` numbers. d is rebuilt at its exact length
 * when a bucket opens or closes: an array grown by push keeps half again as much room.
 */
export interface Series {
  m: string
  tags: Record<string, string>
  /** field names in first-seen order; arrays are shared between series with the same names */
  names: readonly string[]
  d: number[]
}

/** merge folds aggregate b (at bo, n numbers) into a (at ao). */
function merge (a: number[], ao: number, b: number[], bo: number, n: number): void {
  for (let j = 0; j < n; j += 4) {
    const c = b[bo + j + 1]!
    if (c === 0) continue
    const x = ao + j
    const y = bo + j
    if (a[x + 1] === 0) { a[x] = b[y]!; a[x + 1] = c; a[x + 2] = b[y + 2]!; a[x + 3] = b[y + 3]!; continue }
    a[x] += b[y]!; a[x + 1] += c
    if (b[y + 2]! < a[x + 2]!) a[x + 2] = b[y + 2]!
    if (b[y + 3]! > a[x + 3]!) a[x + 3] = b[y + 3]!
  }
}

/** zeros returns an array of n zeros at exactly that length. */
const zeros = (n: number): number[] => new Array<number>(n).fill(0)

/** stride is how many numbers one bucket of the series takes in d: tier, start, touched, four per field. */
const stride = (s: { names: readonly string[] }): number => 3 + 4 * s.names.length

/** RollupAggregator folds points into per-series buckets, tier by tier. */
export class RollupAggregator {
  readonly series = new Map<string, Series>()
  readonly tiers: readonly Tier[]
  readonly stats: RollupStats = { late: 0, lateBuckets: 0 }
  /** told of each late point with its series (s.d[1 + tier] is the start of the tier's last closed bucket) */
  onLate: ((p: Point, s: Series) => void) | undefined
  /** offset of the first bucket in Series.d */
  private readonly head: number
  /** field-name lists, shared between series (most series of a measurement have the same fields) */
  private readonly layouts = new Map<string, readonly string[]>()
  /** aggregate field names per field name, made once: rollup points repeat them by the million */
  private readonly aggNames = new Map<string, readonly [string, string, string, string]>()

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
    this.head = 1 + this.tiers.length
  }

  private newSeries (m: string, tags: Record<string, string>): Series {
    return { m, tags, names: this.layout([]), d: new Array<number>(this.head).fill(-Infinity) }
  }

  private layout (names: readonly string[]): readonly string[] {
    const k = names.join('\u0000')
    let l = this.layouts.get(k)
    if (l === undefined) { l = Object.freeze([...names]); this.layouts.set(k, l) }
    return l
  }

  /** widen gives every bucket of s a slot for one more field. */
  private widen (s: Series, f: string): number {
    const n = s.names.length
    const w = stride(s)
    const d = s.d
    const out = d.slice(0, this.head)
    for (let o = this.head; o < d.length; o += w) out.push(...d.slice(o, o + w), 0, 0, 0, 0)
    s.d = out.slice() // exact length
    s.names = this.layout([...s.names, f])
    return n
  }

  /** add folds a point's numeric fields into its first-tier bucket. */
  add (p: Point, now: number, key = seriesLine(p.m, p.tags)): void {
    let s = this.series.get(key)
    if (s === undefined) {
      s = this.newSeries(p.m, p.tags ?? {})
      this.series.set(key, s)
    }
    const bucketMs = this.tiers[0]!.bucketMs
    const start = Math.floor(p.t / bucketMs) * bucketMs
    if (start <= s.d[1]!) { this.stats.late++; this.onLate?.(p, s); return }
    let o = this.bucket(s, 0, start, now)
    for (const f in p.f) {
      const v = p.f[f]
      if (typeof v !== 'number' || !Number.isFinite(v)) continue
      let i = s.names.indexOf(f)
      if (i < 0) {
        const nth = (o - this.head) / stride(s)
        i = this.widen(s, f)
        o = this.head + nth * stride(s)
      }
      const d = s.d
      const j = o + 3 + 4 * i
      if (d[j + 1] === 0) { d[j] = v; d[j + 1] = 1; d[j + 2] = v; d[j + 3] = v; continue }
      d[j] += v; d[j + 1]++
      if (v < d[j + 2]!) d[j + 2] = v
      if (v > d[j + 3]!) d[j + 3] = v
    }
    if (p.t > s.d[0]!) s.d[0] = p.t
  }

  /**
   * addRows folds a columnar series' rows (protocol 3) as add() folds each as a point: the series,
   * and each field's slot, are found once for all its rows.
   */
  addRows (c: Cols, now: number, key = seriesLine(c.m, c.tags)): void {
    let s = this.series.get(key)
    if (s === undefined) {
      s = this.newSeries(c.m, c.tags ?? {})
      this.series.set(key, s)
    }
    const nf = c.f.length
    const slot = new Array<number>(nf)
    for (let j = 0; j < nf; j++) {
      const i = s.names.indexOf(c.f[j]!)
      slot[j] = i >= 0 ? i : this.widen(s, c.f[j]!)
    }
    const bucketMs = this.tiers[0]!.bucketMs
    const v = c.v
    for (let r = 0; r < v.length; r += nf + 1) {
      const t = v[r]!
      const start = Math.floor(t / bucketMs) * bucketMs
      if (start <= s.d[1]!) { this.stats.late++; this.onLate?.(fromColumns([{ m: c.m, ...(c.tags !== undefined ? { tags: c.tags } : {}), f: c.f, v: v.slice(r, r + nf + 1) }])[0]!, s); continue }
      const o = this.bucket(s, 0, start, now)
      const d = s.d
      for (let j = 0; j < nf; j++) {
        const x = v[r + 1 + j]!
        const k = o + 3 + 4 * slot[j]!
        if (d[k + 1] === 0) { d[k] = x; d[k + 1] = 1; d[k + 2] = x; d[k + 3] = x; continue }
        d[k] += x; d[k + 1]++
        if (x < d[k + 2]!) d[k + 2] = x
        if (x > d[k + 3]!) d[k + 3] = x
      }
      if (t > d[0]!) d[0] = t
    }
  }

  /** bucket finds or opens the bucket of a tier starting at start (touching it) and returns its offset in s.d. */
  private bucket (s: Series, tier: number, start: number, now: number): number {
    const d = s.d
    const w = stride(s)
    let o = d.length
    // From the end: buckets are ordered by tier, then start, and the one wanted is its tier's newest.
    while (o > this.head) {
      const b = o - w
      const t = d[b]!
      if (t === tier && d[b + 1] === start) { d[b + 2] = now; return b }
      if (t < tier || (t === tier && d[b + 1]! < start)) break
      o = b
    }
    const fresh = zeros(w)
    fresh[0] = tier
    fresh[1] = start
    fresh[2] = now
    s.d = d.slice(0, o).concat(fresh, d.slice(o))
    return o
  }

  /** close returns the rollup points of the buckets that are complete, finest tier first. */
  close (now: number, partial?: PartialBuckets): Point[] {
    const out: Point[] = []
    for (const [key, s] of this.series) {
      if (s.d.length > this.head) this.closeSeries(s, now, out, partial)
      // A series silent for long is forgotten once it has nothing open.
      else if (now - s.d[0]! > 24 * 3_600_000) this.series.delete(key)
    }
    return out
  }

  private closeSeries (s: Series, now: number, out: Point[], partial: PartialBuckets | undefined): void {
    const n = 4 * s.names.length
    const w = stride(s)
    // Buckets are ordered by tier: one folded into the next tier is met again later in this pass.
    for (let o = this.head; o < s.d.length;) {
      const d = s.d
      const tierNo = d[o]!
      const tier = this.tiers[tierNo]!
      const start = d[o + 1]!
      const end = start + tier.bucketMs
      let due = d[0]! >= end + tier.graceMs || now - d[o + 2]! >= tier.idleMs
      // a coarser bucket waits for every finer one inside it (they close first, by their shorter grace)
      for (let x = this.head; due && x < o; x += w) if (d[x]! < tierNo && d[x + 1]! < end) due = false
      if (!due) {
        // later buckets of this tier are not complete either
        while (o < d.length && d[o] === tierNo) o += w
        continue
      }
      const agg = d.slice(o + 3, o + w)
      s.d = d.slice(0, o).concat(d.slice(o + w))
      if (start > s.d[1 + tierNo]!) s.d[1 + tierNo] = start
      // A bucket a failover cut is repaired from raw data instead; it still folds into the next tier (marked too).
      const cut = partial?.partial(s.tags, tierNo, start) === true
      if (cut) partial!.queue(s.tags, tierNo, start)
      const f: Record<string, number> = {}
      let any = false
      for (let j = 0; j < n; j += 4) {
        const c = agg[j + 1]!
        if (c === 0) continue
        const [mean, max, min, count] = this.namesOf(s.names[j / 4]!)
        f[mean] = agg[j]! / c
        f[max] = agg[j + 3]!
        f[min] = agg[j + 2]!
        f[count] = c
        any = true
      }
      if (!any) continue
      if (!cut) out.push({ m: s.m + tier.suffix, t: start, tags: s.tags, f })
      const up = tierNo + 1
      if (up < this.tiers.length) {
        const size = this.tiers[up]!.bucketMs
        const upStart = Math.floor(start / size) * size
        if (upStart <= s.d[1 + up]!) this.stats.lateBuckets++
        else {
          const at = this.bucket(s, up, upStart, now) // may replace s.d: read it after
          merge(s.d, at + 3, agg, 0, n)
        }
      }
    }
  }

  private namesOf (f: string): readonly [string, string, string, string] {
    let n = this.aggNames.get(f)
    if (n === undefined) { n = [`${f}_mean`, `${f}_max`, `${f}_min`, `${f}_count`]; this.aggNames.set(f, n) }
    return n
  }

  /** openBuckets returns how many buckets are open (all tiers). */
  openBuckets (): number {
    let n = 0
    for (const s of this.series.values()) n += (s.d.length - this.head) / stride(s)
    return n
  }

  /** snapshot returns the open buckets as plain data; restore takes it back (the checkpoint). */
  snapshot (): unknown {
    return { v: 3, tiers: this.tiers.map(t => t.bucketMs), series: [...this.series.values()].map(s => [s.m, s.tags, s.names, s.d]) }
  }

  restore (snap: unknown): void {
    const s = snap as { v?: number, tiers?: number[], series?: unknown[] } | undefined
    if (s?.v !== 3 || !Array.isArray(s.series)) return
    this.checkTiers(s.tiers)
    // JSON writes -Infinity (nothing closed yet) as null.
    for (const [m, tags, names, d] of s.series as Array<[string, Record<string, string>, string[], Array<number | null>]>) this.put(m, tags, names, d.map(x => x ?? -Infinity))
  }

  /** checkTiers refuses a checkpoint written with other bucket sizes (its buckets would not line up). */
  checkTiers (sizes: number[] | undefined): void {
    if (sizes === undefined || sizes.length !== this.tiers.length || sizes.some((ms, i) => ms !== this.tiers[i]!.bucketMs)) {
      throw new Error(`rollup checkpoint has tiers ${JSON.stringify(sizes)} ms, this collector ${JSON.stringify(this.tiers.map(t => t.bucketMs))} ms`)
    }
  }

  /** put adds a restored series; d must hold whole buckets for names. */
  put (m: string, tags: Record<string, string>, names: readonly string[], d: number[]): void {
    if (d.length < this.head || (d.length - this.head) % stride({ names }) !== 0) throw new Error(`rollup series ${m}: ${d.length} numbers do not make whole buckets of ${names.length} fields`)
    this.series.set(seriesLine(m, tags), { m, tags, names: this.layout(names), d: d.slice() })
  }
}
