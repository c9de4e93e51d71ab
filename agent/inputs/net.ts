// net: bytes per second and cumulative error counters per interface, from
// /proc/net/dev on Linux (loopback skipped by default), systeminformation elsewhere.

import type { Accumulator, Input } from './input.js'
import { RateTracker } from './rate.js'
import { globMatch, readProc, useProc } from './proc.js'

/** NetOptions (agent.yaml inputs.net); each default is shown. */
export interface NetOptions {
  /** ignoreInterfaces: interface names or globs to skip. Default ['lo', 'Loopback*'] (Linux and Windows loopback). */
  ignoreInterfaces?: readonly string[]
}
const DEFAULT_IGNORE_INTERFACES: readonly string[] = ['lo', 'Loopback*']

export interface IfStat { iface: string, rxBytes: number, rxErrors: number, txBytes: number, txErrors: number }

/**
 * parseNetDev reads /proc/net/dev. The name ends at the colon, which a long
 * name can touch with no space before the first counter ("enp0s31f6:1234567890").
 */
export function parseNetDev (text: string): IfStat[] {
  const out: IfStat[] = []
  for (const line of text.split('\n')) {
    const i = line.indexOf(':')
    if (i < 0 || line.includes('|')) continue
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number)
    if (f.length < 16 || f.some(x => !Number.isFinite(x))) throw new Error(`/proc/net/dev: unreadable line "${line.trim()}"`)
    out.push({ iface: line.slice(0, i).trim(), rxBytes: f[0]!, rxErrors: f[2]!, txBytes: f[8]!, txErrors: f[10]! })
  }
  return out
}

export class NetInput implements Input {
  readonly name = 'net'
  private readonly rates = new RateTracker()
  private readonly ignore: readonly string[]

  constructor (o: NetOptions = {}, private readonly procRoot = '/proc', private readonly platform: NodeJS.Platform = process.platform) {
    this.ignore = o.ignoreInterfaces ?? DEFAULT_IGNORE_INTERFACES
  }

  async gather (acc: Accumulator, now: number): Promise<void> {
    const stats = useProc(this.platform) ? parseNetDev(await readProc(this.procRoot, 'net/dev')) : await generic()
    const seen = new Set<string>()
    for (const s of stats) {
      if (globMatch(s.iface, this.ignore)) continue
      const rx = this.rates.rate(`rx:${s.iface}`, s.rxBytes, now)
      const tx = this.rates.rate(`tx:${s.iface}`, s.txBytes, now)
      seen.add(`rx:${s.iface}`).add(`tx:${s.iface}`)
      // Error counters go out as they are (an alert rule can take their difference), rates once there are two readings.
      const fields: Record<string, number> = { rx_errors: s.rxErrors, tx_errors: s.txErrors }
      if (rx !== undefined && tx !== undefined) Object.assign(fields, { rx_bytes_per_sec: Math.round(rx), tx_bytes_per_sec: Math.round(tx) })
      acc.add('net', fields, { iface: s.iface })
    }
    // Forget interfaces that went away (a kiosk's USB NIC unplugged), so a returning one starts afresh.
    this.rates.retain(seen)
  }
}

async function generic (): Promise<IfStat[]> {
  const si = await import('systeminformation') // loaded on first use: Linux never needs it
  const list = await si.networkStats('*')
  return list.map(n => ({ iface: n.iface, rxBytes: n.rx_bytes, rxErrors: n.rx_errors, txBytes: n.tx_bytes, txErrors: n.tx_errors }))
}
