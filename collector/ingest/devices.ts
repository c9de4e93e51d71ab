// The devices seen in stamped batches (points with a poller tag): who polls each, what it hangs on,
// and its last liveness, for /api/v1/devices, the console and the dependency check. In memory: it
// fills again within one polling interval after a restart.

import type { Point } from '../../protocol/messages.js'

export interface DeviceStatus {
  name: string
  poller: string
  role: string
  site: string
  /** the device or agent it hangs on (its points' parent tag) */
  parent?: string
  /** when its poller last reported it (collector clock, ms) */
  lastSeen: number
  /** 1 up, 0 down, from its ping (or SNMP) result; undefined before the first */
  up?: number
  /** since when the current up value holds (ms) */
  since?: number
  rttMs?: number
  lossPercent?: number
  /** measurements seen for it: service, snmp_if, ups … */
  measurements: string[]
}

/** At most this many devices are tracked (a poller allowed any name cannot grow the collector's memory without bound). */
export const MAX_DEVICES = 10_000

export class DeviceRegistry {
  private readonly byName = new Map<string, DeviceStatus>()
  /** devices not tracked because the registry was full (their points are stored all the same) */
  untracked = 0

  /** observe takes a stamped batch's points (only batches that had device points). */
  observe (points: readonly Point[], received: number): void {
    for (const p of points) {
      const tags = p.tags
      const poller = tags?.['poller']
      if (tags === undefined || poller === undefined) continue
      const name = tags['host']!
      let d = this.byName.get(name)
      if (d === undefined) {
        if (this.byName.size >= MAX_DEVICES) { this.untracked++; continue }
        d = { name, poller, role: tags['role'] ?? 'device', site: tags['site'] ?? '', lastSeen: received, measurements: [] }
        this.byName.set(name, d)
      }
      d.poller = poller
      d.lastSeen = received
      d.role = tags['role'] ?? d.role
      d.site = tags['site'] ?? d.site
      if (tags['parent'] !== undefined) d.parent = tags['parent']
      if (!d.measurements.includes(p.m)) d.measurements.push(p.m)
      if (p.m === 'host_up' && typeof p.f['up'] === 'number') {
        if (d.up !== p.f['up']) d.since = p.t
        d.up = p.f['up']
      } else if (p.m === 'service' && tags['check'] === 'ping') {
        const rtt = p.f['rtt_ms']
        const loss = p.f['loss_percent']
        if (typeof rtt === 'number') d.rttMs = rtt
        if (typeof loss === 'number') d.lossPercent = loss
      }
    }
  }

  get (name: string): DeviceStatus | undefined { return this.byName.get(name) }

  list (): DeviceStatus[] {
    return [...this.byName.values()].sort((a, b) => a.site.localeCompare(b.site) || a.name.localeCompare(b.name))
  }

  /** parents lists [device, parent] for every device with a parent tag. */
  * parents (): Iterable<[string, string]> {
    for (const d of this.byName.values()) if (d.parent !== undefined) yield [d.name, d.parent]
  }

  /** forgetPoller drops the devices of an agent that is no longer configured. */
  forgetPollersExcept (allowed: ReadonlySet<string>): void {
    for (const [k, d] of this.byName) if (!allowed.has(d.poller)) this.byName.delete(k)
  }
}
