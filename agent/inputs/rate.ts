// Rates from monotonically increasing counters (bytes, packets, jiffies), with
// counter resets (reboot, driver reload) and 32/64-bit wraps handled.

const WRAP32 = 2 ** 32

/**
 * counterDelta returns the increase from prev to cur. A decrease is either a
 * 32-bit wrap (prev near the 32-bit limit) or a reset; on a reset the delta is
 * unknown and undefined is returned so that no bogus spike is reported.
 */
export function counterDelta (prev: number, cur: number): number | undefined {
  if (cur >= prev) return cur - prev
  if (prev < WRAP32 && prev > WRAP32 * 0.75 && cur < WRAP32 * 0.25) return WRAP32 - prev + cur
  return undefined
}

/** RateTracker keeps the last value of each named counter and turns new readings into per-second rates. */
export class RateTracker {
  private readonly last = new Map<string, { v: number, t: number }>()

  /** rate returns units per second since the previous reading of key, or undefined on the first reading or a reset. */
  rate (key: string, value: number, t: number): number | undefined {
    const prev = this.last.get(key)
    this.last.set(key, { v: value, t })
    if (prev === undefined) return undefined
    const dt = (t - prev.t) / 1000
    if (dt <= 0) return undefined
    const d = counterDelta(prev.v, value)
    return d === undefined ? undefined : d / dt
  }

  /** forget drops keys not seen in the latest round (unplugged NICs, unmounted disks). */
  retain (seen: Set<string>): void {
    for (const k of this.last.keys()) if (!seen.has(k)) this.last.delete(k)
  }
}
