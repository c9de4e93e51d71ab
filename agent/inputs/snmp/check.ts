// type: snmp — one poll of a device: sysUpTime (reachability, restarts) and
// sysName always, then the preset's points (interfaces, ups) and the custom
// OIDs. The session lives for the poll; an unreachable device is up=0 with
// the reason, never a crash.

import type { Check, CheckPoint, CheckResult } from '../checks/types.js'
import { SnmpRates } from './counters.js'
import { readCustom, readInterfaces, readUps, SYS, type CustomOid } from './presets.js'
import { SnmpConversation, type SnmpTarget } from './session.js'

export type SnmpPreset = 'system' | 'interfaces' | 'ups'

export interface SnmpCheckSpec {
  target: SnmpTarget
  preset: SnmpPreset
  oids: readonly CustomOid[]
  /** interface names or globs the interfaces preset keeps (none: all) */
  interfaces: readonly string[]
  now?: () => number
}

/** uptimeText writes TimeTicks (1/100 s) as "12d 03:04:05". */
export function uptimeText (ticks: number): string {
  const s = Math.floor(ticks / 100)
  const d = Math.floor(s / 86400)
  const hms = [Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60].map(n => String(n).padStart(2, '0')).join(':')
  return d > 0 ? `${d}d ${hms}` : hms
}

/** snmpCheck polls one device per run, keeping its counters between runs for rates. */
export function snmpCheck (spec: SnmpCheckSpec): Check & { rates: SnmpRates } {
  const rates = new SnmpRates()
  const now = spec.now ?? Date.now
  const check = async (signal: AbortSignal): Promise<CheckResult> => {
    let conv: SnmpConversation | undefined
    try {
      conv = await SnmpConversation.open(spec.target, signal)
      const [descr, upTime, name] = await conv.get([SYS.descr, SYS.upTime, SYS.name])
      const t = now()
      const fields: Record<string, number | string> = {}
      const notes: string[] = []
      const sysName = name?.kind === 'string' ? name.s : undefined
      if (sysName !== undefined) fields['sys_name'] = sysName
      if (upTime !== undefined && upTime.kind !== 'string' && upTime.kind !== 'counter64') {
        fields['uptime_s'] = Math.floor(upTime.n / 100)
        if (rates.observeUptime(upTime.n, t)) notes.push('device restarted since the last poll: rates start again')
      }
      const points: CheckPoint[] = []
      if (spec.preset === 'interfaces') {
        const ifs = await readInterfaces(conv, rates, t, spec.interfaces)
        points.push(...ifs)
        const down = ifs.filter(p => p.fields['admin_up'] === 1 && p.fields['oper_up'] === 0).map(p => p.tags!['ifname']!)
        notes.push(`${ifs.length} interfaces` + (down.length > 0 ? `, down: ${down.slice(0, 10).join(', ')}${down.length > 10 ? ' …' : ''}` : ''))
      } else if (spec.preset === 'ups') {
        const ups = await readUps(conv, t)
        if (ups === undefined) notes.push('no UPS-MIB (1.3.6.1.2.1.33) on this device')
        else {
          points.push(ups)
          if (ups.fields['on_battery'] === 1) notes.push(`ON BATTERY, charge ${ups.fields['charge_percent'] ?? '?'}%, runtime ${ups.fields['runtime_s'] ?? '?'} s`)
          else notes.push('on mains')
        }
      }
      if (spec.oids.length > 0) {
        const c = await readCustom(conv, spec.oids, rates, t)
        if (c.point !== undefined) points.push(c.point)
        if (c.missing.length > 0) notes.push(`not on the device: ${c.missing.join(', ')}`)
      }
      const who = sysName !== undefined && sysName !== '' ? sysName : spec.target.host
      const head = `${who} up ${upTime !== undefined && upTime.kind === 'ticks' ? uptimeText(upTime.n) : '?'}`
      const text = descr?.kind === 'string' ? ` (${descr.s.split(/\r?\n/)[0]!.slice(0, 120)})` : ''
      return { up: true, message: [head + text, ...notes].join('; '), fields, points }
    } catch (err) {
      return { up: false, message: (err as Error).message }
    } finally {
      conv?.close()
    }
  }
  return Object.assign(check, { rates })
}
