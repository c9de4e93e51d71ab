// Rollups across failover (docs/scaling.md): buckets an agent's failover may have cut are marked
// partial, per (host, tier, bucket start) by the points' own timestamps; at close such a bucket is
// not emitted from memory but queued here, and repaired later from the raw data in InfluxDB
// (rollup-repair-run.ts). Pure: the clock is a parameter; marks and queue go in the rollup cursor.

import type { Position } from '../state/wal/index.js'
import type { Tier } from './rollup.js'

/** the slack a session start reaches back by, beyond the tier's grace and bucket (design step 1a) */
export const START_SLACK_MS = 5 * 60_000

export interface RepairItem {
  host: string
  tier: number
  start: number
  /** wall time from which it may run: bucket end + repairDelay, then + repeatAfter */
  due: number
  /** the WAL position every target must have stored first (past the bucket's last record) */
  pos: Position
  /** runs done (the repair runs twice) and failed tries of the current run */
  runs: number
  tries: number
}

export interface RepairOptions {
  /** how long after a bucket's end the first repair runs (rollup.repairDelay) */
  delayMs: number
  /** how long after the first the second runs (rollup.repeatAfter) */
  againMs: number
}

const key = (host: string, tier: number, start: number): string => `${host}\u0000${tier}\u0000${start}`
export const atOrBefore = (a: Position, b: Position): boolean => a.segment < b.segment || (a.segment === b.segment && a.offset <= b.offset)

export class RepairBook {
  /** partial buckets: key → wall time marked (a mark is forgotten once its bucket cannot close any more) */
  readonly marks = new Map<string, number>()
  readonly queue = new Map<string, RepairItem>()
  /** hosts with marks: the close predicate asks a set lookup first */
  private readonly hosts = new Map<string, number>()

  constructor (readonly tiers: readonly Tier[], readonly o: RepairOptions) {}

  /** markRange marks every bucket of every tier overlapping [from, to] (point times) of host. */
  markRange (host: string, from: number, to: number, now: number): number {
    let n = 0
    for (let i = 0; i < this.tiers.length; i++) n += this.markTier(host, i, from, to, now)
    return n
  }

  /**
   * sessionStart (1a): the previous collector may have held the buckets before first open, or lost
   * their rollup unstored. Those this collector will hold are repaired when they close; those that
   * ended before first and within the tier's grace + 5 min of it (the previous collector closed
   * them last, their rollup may have died in its WAL) get no point here: they are queued now.
   */
  sessionStart (host: string, first: number, now: number, pos: Position): number {
    let n = 0
    for (let i = 0; i < this.tiers.length; i++) {
      const t = this.tiers[i]!
      n += this.markTier(host, i, first - t.graceMs - t.bucketMs - START_SLACK_MS, first, now)
      const size = t.bucketMs
      for (let s = Math.floor(first / size) * size - size; s + size >= first - t.graceMs - START_SLACK_MS; s -= size) this.enqueue(host, i, s, pos)
    }
    return n
  }

  /** markTier marks the buckets of one tier overlapping [from, to]. */
  private markTier (host: string, tier: number, from: number, to: number, now: number): number {
    const size = this.tiers[tier]!.bucketMs
    let n = 0
    for (let s = Math.floor(from / size) * size; s <= to; s += size) {
      const k = key(host, tier, s)
      if (!this.marks.has(k)) { n++; this.hosts.set(host, (this.hosts.get(host) ?? 0) + 1) }
      this.marks.set(k, now)
    }
    return n
  }

  /** partial is the close predicate: a bucket of a series of this host (or polled by this agent) is marked. */
  partial (tags: Record<string, string>, tier: number, start: number): boolean {
    if (this.hosts.size === 0) return false
    const h = tags['host']
    if (h !== undefined && this.hosts.has(h) && this.marks.has(key(h, tier, start))) return true
    const p = tags['poller']
    return p !== undefined && this.hosts.has(p) && this.marks.has(key(p, tier, start))
  }

  /** enqueue queues the repair of a partial bucket (once per host, tier and start). */
  enqueue (host: string, tier: number, start: number, pos: Position): boolean {
    const k = key(host, tier, start)
    const old = this.queue.get(k)
    if (old !== undefined) { if (atOrBefore(old.pos, pos)) old.pos = { ...pos }; return false }
    this.queue.set(k, { host, tier, start, due: start + this.tiers[tier]!.bucketMs + this.o.delayMs, pos: { ...pos }, runs: 0, tries: 0 })
    return true
  }

  /** due lists the repairs that may run now: their time has come and every target stored their records. */
  due (now: number, stored: Position): RepairItem[] {
    const out: RepairItem[] = []
    for (const it of this.queue.values()) if (it.due <= now && atOrBefore(it.pos, stored)) out.push(it)
    return out
  }

  /** ran records a successful run: the first is repeated after repeatAfter, the second ends the item. */
  ran (it: RepairItem, now: number): void {
    it.runs++
    it.tries = 0
    if (it.runs >= 2) this.queue.delete(key(it.host, it.tier, it.start))
    else it.due = now + this.o.againMs
  }

  /** drop removes an item (its raw data has expired). */
  drop (it: RepairItem): void { this.queue.delete(key(it.host, it.tier, it.start)) }

  /** prune forgets marks whose bucket has closed for good: older than the tier's idle bound and both repairs. */
  prune (now: number): void {
    for (const [k, at] of this.marks) {
      const [host, tier] = k.split('\u0000') as [string, string]
      const t = this.tiers[Number(tier)]!
      if (now - at <= t.idleMs + t.graceMs + this.o.delayMs + this.o.againMs || this.queue.has(k)) continue
      this.marks.delete(k)
      const c = (this.hosts.get(host) ?? 1) - 1
      if (c <= 0) this.hosts.delete(host)
      else this.hosts.set(host, c)
    }
  }

  /** snapshot and restore: the marks and the queue as plain data, kept with the rollup cursor. */
  snapshot (): { marks: Array<[string, number]>, queue: RepairItem[] } {
    return { marks: [...this.marks], queue: [...this.queue.values()] }
  }

  restore (s: unknown): void {
    const x = s as { marks?: Array<[string, number]>, queue?: RepairItem[] } | undefined
    for (const [k, at] of x?.marks ?? []) {
      if (this.marks.has(k)) continue
      this.marks.set(k, at)
      const host = k.split('\u0000')[0]!
      this.hosts.set(host, (this.hosts.get(host) ?? 0) + 1)
    }
    for (const it of x?.queue ?? []) this.queue.set(key(it.host, it.tier, it.start), { ...it, pos: { ...it.pos } })
  }
}

/** durationLiteral writes a bucket size as an InfluxQL duration (5m, 1h, 1d). */
function durationLiteral (ms: number): string {
  for (const [u, n] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % n === 0) return `${ms / n}${u}`
  return `${ms}ms`
}

const ident = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
const str = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

/**
 * repairQuery is the one aggregate query of a (host, tier, bucket): every numeric field's
 * mean/max/min/count over the raw points, per series (GROUP BY *), straight from the raw retention
 * policy for every tier (a day is 8,640 points per series at 10 s: one query, exact).
 */
export function repairQuery (o: { db: string, rawRp?: string | undefined }, host: string, start: number, bucketMs: number): string {
  const from = o.rawRp !== undefined ? `${ident(o.db)}.${ident(o.rawRp)}./.*/` : '/.*/'
  return `SELECT mean(*), max(*), min(*), count(*) FROM ${from} WHERE "host" = ${str(host)} AND time >= ${start}ms AND time < ${start + bucketMs}ms GROUP BY time(${durationLiteral(bucketMs)}), *`
}
