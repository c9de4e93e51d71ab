// What each SNMP preset reads and the points it makes: interfaces (IF-MIB
// ifTable + ifXTable → snmp_if), ups (UPS-MIB → ups), custom OIDs (→ snmp).
// Pure functions of what a reader returns, so they are tested without a device.

import type { CheckPoint } from '../checks/types.js'
import { globMatch } from '../proc.js'
import type { SnmpRates } from './counters.js'
import type { SnmpValue } from './session.js'

/** SnmpReader is what a preset needs from a session (SnmpConversation, or a test's table). */
export interface SnmpReader {
  get(oids: string[]): Promise<Array<SnmpValue | undefined>>
  walk(column: string): Promise<Map<string, SnmpValue>>
}

export const SYS = { descr: '1.3.6.1.2.1.1.1.0', upTime: '1.3.6.1.2.1.1.3.0', name: '1.3.6.1.2.1.1.5.0' } as const

const IF = '1.3.6.1.2.1.2.2.1'
const IFX = '1.3.6.1.2.1.31.1.1.1'
/** The IF-MIB columns the interfaces preset walks. */
export const IF_COLUMNS = {
  descr: `${IF}.2`,
  admin: `${IF}.7`,
  oper: `${IF}.8`,
  inOctets: `${IF}.10`,
  inDiscards: `${IF}.13`,
  inErrors: `${IF}.14`,
  outOctets: `${IF}.16`,
  outDiscards: `${IF}.19`,
  outErrors: `${IF}.20`,
  name: `${IFX}.1`,
  hcInOctets: `${IFX}.6`,
  hcOutOctets: `${IFX}.10`,
  highSpeed: `${IFX}.15`,
  alias: `${IFX}.18`,
  discontinuity: `${IFX}.19`
} as const

const num = (v: SnmpValue | undefined): number | undefined => v === undefined ? undefined : v.kind === 'string' ? undefined : Number(v.n)
const big = (v: SnmpValue | undefined): bigint | undefined => v === undefined || v.kind === 'string' ? undefined : BigInt(v.n)
const str = (v: SnmpValue | undefined): string | undefined => v === undefined ? undefined : v.kind === 'string' ? v.s : String(v.n)

/**
 * readInterfaces walks IF-MIB and makes one snmp_if point per interface
 * (tag ifname: ifName, else ifDescr, else the index): bytes per second from
 * the 64-bit HC counters (32-bit ifIn/OutOctets when the device has no
 * ifXTable), error and discard counters as the device counts them (totals
 * since its start; a rule takes their increase), and *_errors_per_sec rates.
 */
export async function readInterfaces (r: SnmpReader, rates: SnmpRates, t: number, include: readonly string[] = []): Promise<CheckPoint[]> {
  const cols = Object.entries(IF_COLUMNS) as Array<[keyof typeof IF_COLUMNS, string]>
  const walked = await Promise.all(cols.map(async ([k, oid]) => [k, await r.walk(oid)] as const))
  const c = Object.fromEntries(walked) as Record<keyof typeof IF_COLUMNS, Map<string, SnmpValue>>
  const indexes = [...new Set([...c.descr.keys(), ...c.name.keys(), ...c.oper.keys()])].sort((a, b) => Number(a) - Number(b))
  const points: CheckPoint[] = []
  const seen = new Set<string>()
  for (const i of indexes) {
    const ifname = str(c.name.get(i)) || str(c.descr.get(i)) || `if${i}`
    if (include.length > 0 && !globMatch(ifname, include)) continue
    const fields: Record<string, number | string> = { ifindex: Number(i) }
    const oper = num(c.oper.get(i))
    const admin = num(c.admin.get(i))
    if (oper !== undefined) { fields['oper_up'] = oper === 1 ? 1 : 0; fields['oper_status'] = oper }
    if (admin !== undefined) fields['admin_up'] = admin === 1 ? 1 : 0
    const speed = num(c.highSpeed.get(i))
    if (speed !== undefined && speed > 0) fields['speed_bps'] = speed * 1_000_000
    const alias = str(c.alias.get(i))
    if (alias !== undefined && alias !== '') fields['alias'] = alias
    for (const [f, col] of [['rx_errors', 'inErrors'], ['tx_errors', 'outErrors'], ['rx_discards', 'inDiscards'], ['tx_discards', 'outDiscards']] as const) {
      const v = num(c[col].get(i))
      if (v !== undefined) fields[f] = v
    }
    // A changed ifCounterDiscontinuityTime means the counters were cleared: no rate across it.
    const discChanged = rates.discontinuity(i, num(c.discontinuity.get(i)))
    const counters: Array<[string, bigint | undefined, 32 | 64]> = [
      ['rx_bytes_per_sec', big(c.hcInOctets.get(i)) ?? big(c.inOctets.get(i)), c.hcInOctets.has(i) ? 64 : 32],
      ['tx_bytes_per_sec', big(c.hcOutOctets.get(i)) ?? big(c.outOctets.get(i)), c.hcOutOctets.has(i) ? 64 : 32],
      ['rx_errors_per_sec', big(c.inErrors.get(i)), 32],
      ['tx_errors_per_sec', big(c.outErrors.get(i)), 32]
    ]
    for (const [f, v, bits] of counters) {
      if (v === undefined) continue
      const key = `if:${f}:${i}:${bits}`
      seen.add(key)
      if (discChanged) rates.forget(key)
      const rate = rates.rate(key, v, bits, t)
      if (rate !== undefined) fields[f] = f.includes('bytes') ? Math.round(rate) : Math.round(rate * 1000) / 1000
    }
    points.push({ m: 'snmp_if', fields, tags: { ifname }, t })
  }
  rates.retain(seen, 'if:')
  return points
}

const UPS = '1.3.6.1.2.1.33.1'
/** The UPS-MIB (RFC 1628) objects the ups preset reads; the tables' first line only. */
export const UPS_OIDS = {
  batteryStatus: `${UPS}.2.1.0`,
  secondsOnBattery: `${UPS}.2.2.0`,
  minutesRemaining: `${UPS}.2.3.0`,
  chargeRemaining: `${UPS}.2.4.0`,
  batteryTemperature: `${UPS}.2.7.0`,
  inputVoltage: `${UPS}.3.3.1.3.1`,
  outputSource: `${UPS}.4.1.0`,
  outputLoad: `${UPS}.4.4.1.5.1`,
  alarmsPresent: `${UPS}.6.1.0`
} as const

/**
 * readUps makes the ups point: on_battery (output source battery(5), or
 * seconds on battery > 0), charge_percent, runtime_s, battery_low
 * (batteryLow(3)/batteryDepleted(4)), and what else the UPS reports.
 * undefined when the device has no UPS-MIB.
 */
export async function readUps (r: SnmpReader, t: number): Promise<CheckPoint | undefined> {
  const keys = Object.keys(UPS_OIDS) as Array<keyof typeof UPS_OIDS>
  const got = await r.get(keys.map(k => UPS_OIDS[k]))
  const v = Object.fromEntries(keys.map((k, i) => [k, num(got[i])])) as Record<keyof typeof UPS_OIDS, number | undefined>
  if (keys.every(k => v[k] === undefined)) return undefined
  const fields: Record<string, number> = {}
  const onBattery = v.outputSource === 5 || (v.secondsOnBattery ?? 0) > 0
  if (v.outputSource !== undefined || v.secondsOnBattery !== undefined) fields['on_battery'] = onBattery ? 1 : 0
  if (v.chargeRemaining !== undefined) fields['charge_percent'] = v.chargeRemaining
  if (v.minutesRemaining !== undefined) fields['runtime_s'] = v.minutesRemaining * 60
  if (v.batteryStatus !== undefined) { fields['battery_status'] = v.batteryStatus; fields['battery_low'] = v.batteryStatus === 3 || v.batteryStatus === 4 ? 1 : 0 }
  if (v.secondsOnBattery !== undefined) fields['seconds_on_battery'] = v.secondsOnBattery
  if (v.batteryTemperature !== undefined) fields['battery_temp_c'] = v.batteryTemperature
  if (v.inputVoltage !== undefined) fields['input_voltage_v'] = v.inputVoltage
  if (v.outputLoad !== undefined) fields['load_percent'] = v.outputLoad
  if (v.alarmsPresent !== undefined) fields['alarms'] = v.alarmsPresent
  return { m: 'ups', fields, t }
}

/** CustomOid is one entry of a check's oids: list. */
export interface CustomOid { oid: string, name: string, type: 'gauge' | 'counter' | 'string' }

/**
 * readCustom GETs the listed OIDs into one snmp point: gauges as read,
 * counters as a per-second rate (from the second poll on), strings as text.
 * Returns the point and the names the device did not have.
 */
export async function readCustom (r: SnmpReader, oids: readonly CustomOid[], rates: SnmpRates, t: number): Promise<{ point?: CheckPoint, missing: string[] }> {
  const got = await r.get(oids.map(o => o.oid))
  const fields: Record<string, number | string> = {}
  const missing: string[] = []
  oids.forEach((o, i) => {
    const v = got[i]
    if (v === undefined) { missing.push(o.name); return }
    if (o.type === 'string') { fields[o.name] = str(v)!; return }
    if (o.type === 'gauge') { const n = num(v); if (n === undefined) missing.push(o.name); else fields[o.name] = n; return }
    const b = big(v)
    if (b === undefined) { missing.push(o.name); return }
    const rate = rates.rate(`oid:${o.oid}`, b, v.kind === 'counter64' ? 64 : 32, t)
    if (rate !== undefined) fields[o.name] = Math.round(rate * 1000) / 1000
  })
  return { ...(Object.keys(fields).length > 0 ? { point: { m: 'snmp', fields, t } } : {}), missing }
}
