// net: bytes per second and error counters per interface, from /proc/net/dev
// on Linux (loopback skipped by default), systeminformation elsewhere.

import si from 'systeminformation'
import type { Accumulator, Input } from './input.js'
import { RateTracker } from '../rate.js'
import { globMatch, readProc, useProc } from './proc.js'

export interface NetOptions { ignoreInterfaces?: readonly string[] }
export interface IfStat { iface: string, rxBytes: number, rxErrors: number, txBytes: number, txErrors: number }

export function parseNetDev (text: string): IfStat[] {
  const out: IfStat[] = []
  for (const line of text.split('\n')) {
    const i = line.indexOf(':')
    if (i < 0 || line.includes('|')) continue
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number)
    out.push({ iface: line.slice(0, i).trim(), rxBytes: f[0]!, rxErrors: f[2]!, txBytes: f[8]!, txErrors: f[10]! })
  }
  return out
}

export class NetInput implements Input {
  readonly name = 'net'
  private readonly rates = new RateTracker()
  private readonly ignore: readonly string[]

  constructor (o: NetOptions = {}, private readonly procRoot = '/proc', private readonly platform: NodeJS.Platform = process.platform) {
    this.ignore = o.ignoreInterfaces ?? ['lo', 'Loopback*']
  }

  async gather (acc: Accumulator, now: number): Promise<void> {
    const stats = useProc(this.platform) ? parseNetDev(await readProc(this.procRoot, 'net/dev')) : await generic()
    const seen = new Set<string>()
    for (const s of stats) {
      if (globMatch(s.iface, this.ignore)) continue
      seen.add(`rx:${s.iface}`).add(`tx:${s.iface}`)
      const rx = this.rates.rate(`rx:${s.iface}`, s.rxBytes, now)
      const tx = this.rates.rate(`tx:${s.iface}`, s.txBytes, now)
      const fields: Record<string, number> = { rx_errors: s.rxErrors, tx_errors: s.txErrors }
      if (rx !== undefined && tx !== undefined) Object.assign(fields, { rx_bytes_per_sec: Math.round(rx), tx_bytes_per_sec: Math.round(tx) })
      acc.add('net', fields, { iface: s.iface })
    }
    this.rates.retain(seen)
  }
}

async function generic (): Promise<IfStat[]> {
  const list = await si.networkStats('*')
  return list.map(n => ({ iface: n.iface, rxBytes: n.rx_bytes, rxErrors: n.rx_errors, txBytes: n.tx_bytes, txErrors: n.tx_errors }))
}
