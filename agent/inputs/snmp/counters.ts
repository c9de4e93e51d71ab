// Rates from SNMP counters: the width of each counter is known from its type
// (Counter32, Counter64), so a wrap is exact; a device restart (sysUpTime went
// back, not by its own 497-day wrap) or a counter discontinuity forgets the
// previous readings instead of reporting a bogus spike, like agent/inputs/rate.ts.

export type CounterBits = 32 | 64

const TICKS_WRAP = 2 ** 32
/** slack in ticks (1/100 s) between the device's uptime and our clock when telling a wrap from a restart */
const TICK_SLACK = 30 * 100

/**
 * uptimeRestarted tells whether a device restarted between two readings of
 * sysUpTime (TimeTicks, 1/100 s, wrapping at 2^32 after 497 days): it went
 * back, and not by a wrap that the time elapsed on our clock explains.
 */
export function uptimeRestarted (prevTicks: number, curTicks: number, elapsedMs: number): boolean {
  if (curTicks >= prevTicks) return false
  const expected = prevTicks + elapsedMs / 10
  if (expected + TICK_SLACK < TICKS_WRAP) return true
  return Math.abs(expected - TICKS_WRAP - curTicks) > TICK_SLACK + elapsedMs / 10
}

const TOP64 = 1n << 64n

/**
 * snmpCounterDelta is the increase of a counter of the given width. A 32-bit
 * counter that went down wrapped once. A 64-bit one wraps only from its top
 * quarter to its bottom quarter (2^64 bytes at 100 Gbit/s take 46 years);
 * any other decrease means it was reset and the delta is unknown (undefined).
 */
export function snmpCounterDelta (prev: bigint, cur: bigint, bits: CounterBits): bigint | undefined {
  if (cur >= prev) return cur - prev
  if (bits === 32) return (1n << 32n) - prev + cur
  if (prev >= TOP64 - (TOP64 >> 2n) && cur < (TOP64 >> 2n)) return TOP64 - prev + cur
  return undefined
}

/** SnmpRates keeps the last reading of each counter of one device and gives per-second rates. */
export class SnmpRates {
  private readonly last = new Map<string, { v: bigint, t: number }>()
  private readonly disc = new Map<string, number>()
  private uptime: { ticks: number, t: number } | undefined
  /** restarts counts the device restarts seen (sysUpTime went back) */
  restarts = 0

  /**
   * observeUptime records sysUpTime at time t (ms); on a restart every
   * previous reading is forgotten, so the next rates start afresh.
   */
  observeUptime (ticks: number, t: number): boolean {
    const prev = this.uptime
    this.uptime = { ticks, t }
    if (prev === undefined || !uptimeRestarted(prev.ticks, ticks, t - prev.t)) return false
    this.last.clear()
    this.disc.clear()
    this.restarts++
    return true
  }

  /** rate returns units per second since the previous reading of key, or undefined (first reading, reset). */
  rate (key: string, value: bigint, bits: CounterBits, t: number): number | undefined {
    const prev = this.last.get(key)
    this.last.set(key, { v: value, t })
    if (prev === undefined) return undefined
    const dt = (t - prev.t) / 1000
    if (dt <= 0) return undefined
    const d = snmpCounterDelta(prev.v, value, bits)
    return d === undefined ? undefined : Number(d) / dt
  }

  /**
   * discontinuity records an interface's ifCounterDiscontinuityTime and tells
   * whether it changed since the last poll (its counters were cleared).
   */
  discontinuity (index: string, ticks: number | undefined): boolean {
    if (ticks === undefined) return false
    const prev = this.disc.get(index)
    this.disc.set(index, ticks)
    return prev !== undefined && prev !== ticks
  }

  /** forget drops one counter (its discontinuity time changed: it was cleared). */
  forget (key: string): void { this.last.delete(key) }

  /** retain drops the keys under scope (a key prefix) not seen in the latest poll (an interface removed). */
  retain (seen: Set<string>, scope = ''): void {
    for (const k of this.last.keys()) if (k.startsWith(scope) && !seen.has(k)) this.last.delete(k)
  }
}
