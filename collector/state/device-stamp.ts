// Devices (switches, UPS, printers) polled by an agent: their points carry a `device` tag. Such a
// point keeps host = the device, gains poller = the agent, and a ping/SNMP up result becomes the
// device's host_up; a device the agent may not poll is refused (counted by the caller, not stored).

import type { LogEvent, Point } from '../../protocol/messages.js'

/** DevicePolicy says which device names one agent may write as (agents[].devices). */
export interface DevicePolicy {
  allows(name: string): boolean
  /** device → time of its last ping result from this agent: while recent, ping alone decides host_up */
  readonly pinged: Map<string, number>
}

/**
 * A device pinged within this long decides its liveness by ping only: an SNMP answer in another
 * batch must not flap host_up while ICMP fails. A device whose ping check was removed goes over to
 * SNMP after this long; after a collector restart SNMP may decide until the first ping arrives.
 */
export const PING_MEMORY_MS = 10 * 60_000
/** At most this many pinged devices are remembered per agent (the oldest go first). */
export const MAX_PINGED = 10_000

/** DeviceSink is what stamp reports about a batch's device points; the caller owns and resets it. */
export interface DeviceSink {
  /** points or events that carried a device tag (stored or refused) */
  seen: number
  /** of those, refused: the agent may not poll that device */
  refused: number
  /** the first refused device name, for the log */
  refusedName: string
}

/**
 * isDevice: a device's point or event names the device twice, as `device` and as `host` (DESIGN:
 * "Devices carry a device tag and host = the device's name"). A `device` tag alone is an agent's
 * own series, e.g. diskio's disk (device=vda), and is stamped with the agent's identity.
 */
export function isDevice (tags: Readonly<Record<string, string>> | undefined): tags is Record<string, string> {
  if (tags === undefined) return false
  const d = tags['device']
  return d !== undefined && d === tags['host']
}

export function newDeviceSink (): DeviceSink { return { seen: 0, refused: 0, refusedName: '' } }

export function resetDeviceSink (s: DeviceSink): void { s.seen = 0; s.refused = 0; s.refusedName = '' }

/**
 * devicePolicy builds the check for one agent: spec true (any name), a list of names and `*`
 * patterns, or false (none); a configured agent id is never a device name (a kiosk must not write
 * as a server). pinged: the memory of a previous policy of the same agent, kept over a reload.
 */
export function devicePolicy (spec: boolean | readonly string[], agentIds: ReadonlySet<string>, pinged = new Map<string, number>()): DevicePolicy | undefined {
  if (spec === false || (Array.isArray(spec) && spec.length === 0)) return undefined
  const patterns = spec === true ? undefined : (spec as readonly string[]).map(globRegExp)
  return {
    allows: name => name !== '' && !agentIds.has(name) && (patterns === undefined || patterns.some(re => re.test(name))),
    pinged
  }
}

function globRegExp (glob: string): RegExp {
  return new RegExp('^' + glob.split('*').map(s => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$')
}

interface Poller { id: string, site: string, devices?: DevicePolicy | undefined }

/** stampDevice sets a device point's identity in place; false when the poller may not write it. */
export function stampDevice (tags: Record<string, string>, poller: Poller): boolean {
  const name = tags['device']!
  if (poller.devices === undefined || !poller.devices.allows(name)) return false
  tags['host'] = name
  tags['poller'] = poller.id
  if (tags['role'] === undefined || tags['role'] === '') tags['role'] = 'device'
  if (tags['site'] === undefined || tags['site'] === '') tags['site'] = poller.site
  return true
}

/**
 * finishDevices drops the refused points (marked by a null slot) and adds host_up for each
 * device's liveness: its ping results; SNMP results only for a device not pinged in this batch nor
 * within PING_MEMORY_MS before (memory: the poller's `pinged` map, updated here).
 */
export function finishDevices (p: Array<Point | null>, refused: number, memory?: Map<string, number>): Point[] {
  const out = (refused > 0 ? p.filter(x => x !== null) : p) as Point[]
  const pinged = new Set<string>()
  for (const pt of out) {
    if (pt.m !== 'service' || pt.tags?.['poller'] === undefined || pt.tags['check'] !== 'ping' || typeof pt.f['up'] !== 'number') continue
    const host = pt.tags['host']!
    pinged.add(host)
    if (memory !== undefined) remember(memory, host, pt.t)
  }
  const pingDecides = (host: string, t: number): boolean => {
    if (pinged.has(host)) return true
    const last = memory?.get(host)
    return last !== undefined && t - last <= PING_MEMORY_MS
  }
  const n = out.length
  for (let i = 0; i < n; i++) {
    const pt = out[i]!
    const tags = pt.tags
    if (pt.m !== 'service' || tags?.['poller'] === undefined) continue
    const check = tags['check']
    if (check !== 'ping' && (check !== 'snmp' || pingDecides(tags['host']!, pt.t))) continue
    const up = pt.f['up']
    if (typeof up !== 'number') continue
    const hu: Record<string, string> = { host: tags['host']!, role: tags['role']!, site: tags['site']!, poller: tags['poller'] }
    if (tags['parent'] !== undefined) hu['parent'] = tags['parent']
    out.push({ m: 'host_up', t: pt.t, tags: hu, f: { up: up >= 1 ? 1 : 0 } })
  }
  return out
}

/** remember keeps the newest ping time of a device, dropping the least recently pinged beyond MAX_PINGED. */
function remember (memory: Map<string, number>, host: string, t: number): void {
  const last = memory.get(host)
  if (last !== undefined && last >= t) return
  memory.delete(host)
  memory.set(host, t)
  if (memory.size > MAX_PINGED) memory.delete(memory.keys().next().value!)
}

/** stampDeviceEvents stamps the events with a device tag; refused ones are removed and counted. */
export function stampDeviceEvents (events: LogEvent[], poller: Poller, sink: DeviceSink | undefined): LogEvent[] {
  let refused = 0
  const out = events.filter(e => {
    const tags = e.tags
    if (!isDevice(tags)) return true
    if (sink !== undefined) sink.seen++
    if (stampDevice(tags, poller)) return true
    refused++
    if (sink !== undefined && sink.refusedName === '') sink.refusedName = tags['device']
    return false
  })
  if (sink !== undefined) sink.refused += refused
  return out
}
