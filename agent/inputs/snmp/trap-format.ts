// SNMP traps as log events: the trap's name and level from its OID (SNMPv2-MIB
// generic traps, IF-MIB, UPS-MIB; agent.yaml snmpTraps.levels overrides), and
// a one-line message with the varbinds by name. Pure, tested on recorded PDUs.

import type { Level } from '../logs/logline.js'

/** Known notifications: OID → name and default level. */
export const TRAPS: Readonly<Record<string, { name: string, level: Level }>> = {
  '1.3.6.1.6.3.1.1.5.1': { name: 'coldStart', level: 'notice' },
  '1.3.6.1.6.3.1.1.5.2': { name: 'warmStart', level: 'notice' },
  '1.3.6.1.6.3.1.1.5.3': { name: 'linkDown', level: 'warning' },
  '1.3.6.1.6.3.1.1.5.4': { name: 'linkUp', level: 'notice' },
  '1.3.6.1.6.3.1.1.5.5': { name: 'authenticationFailure', level: 'warning' },
  '1.3.6.1.6.3.1.1.5.6': { name: 'egpNeighborLoss', level: 'warning' },
  '1.3.6.1.2.1.33.2.1': { name: 'upsTrapOnBattery', level: 'crit' },
  '1.3.6.1.2.1.33.2.2': { name: 'upsTrapTestCompleted', level: 'info' },
  '1.3.6.1.2.1.33.2.3': { name: 'upsTrapAlarmEntryAdded', level: 'error' },
  '1.3.6.1.2.1.33.2.4': { name: 'upsTrapAlarmEntryRemoved', level: 'notice' },
  '1.3.6.1.4.1.8072.4.0.1': { name: 'nsNotifyStart', level: 'notice' },
  '1.3.6.1.4.1.8072.4.0.2': { name: 'nsNotifyShutdown', level: 'warning' },
  '1.3.6.1.4.1.8072.4.0.3': { name: 'nsNotifyRestart', level: 'notice' }
}

/** The level of a trap nobody told us about: a device sends a trap when something happened. */
export const DEFAULT_TRAP_LEVEL: Level = 'warning'

/** Varbind names by OID prefix (the rest of the OID is the instance, shown as .N). */
const OBJECTS: ReadonlyArray<[string, string]> = [
  ['1.3.6.1.2.1.1.3', 'sysUpTime'],
  ['1.3.6.1.2.1.1.5', 'sysName'],
  ['1.3.6.1.2.1.2.2.1.1', 'ifIndex'],
  ['1.3.6.1.2.1.2.2.1.2', 'ifDescr'],
  ['1.3.6.1.2.1.2.2.1.7', 'ifAdminStatus'],
  ['1.3.6.1.2.1.2.2.1.8', 'ifOperStatus'],
  ['1.3.6.1.2.1.31.1.1.1.1', 'ifName'],
  ['1.3.6.1.2.1.31.1.1.1.18', 'ifAlias'],
  ['1.3.6.1.2.1.33.1.2.2', 'upsSecondsOnBattery'],
  ['1.3.6.1.2.1.33.1.2.3', 'upsEstimatedMinutesRemaining'],
  ['1.3.6.1.2.1.33.1.2.4', 'upsEstimatedChargeRemaining'],
  ['1.3.6.1.6.3.1.1.4.3', 'snmpTrapEnterprise']
]
const IF_STATUS: Record<number, string> = { 1: 'up', 2: 'down', 3: 'testing', 4: 'unknown', 5: 'dormant', 6: 'notPresent', 7: 'lowerLayerDown' }

export const SNMP_TRAP_OID = '1.3.6.1.6.3.1.1.4.1.0'
const SYS_UPTIME = '1.3.6.1.2.1.1.3.0'
const GENERIC_V1 = ['coldStart', 'warmStart', 'linkDown', 'linkUp', 'authenticationFailure', 'egpNeighborLoss'].map((_n, i) => `1.3.6.1.6.3.1.1.5.${i + 1}`)

/** A trap's varbind as the receiver decoded it (value already text or number). */
export interface TrapVarbind { oid: string, value: string | number }

/** objectName names a varbind's OID: ifOperStatus.2, or the OID itself. */
export function objectName (oid: string): string {
  for (const [prefix, name] of OBJECTS) {
    if (oid === prefix) return name
    if (oid.startsWith(prefix + '.')) return name + oid.slice(prefix.length)
  }
  return oid
}

/** v1TrapOid gives a v1 trap the OID a v2 trap of the same meaning has (RFC 3584 3.1). */
export function v1TrapOid (enterprise: string, generic: number, specific: number): string {
  return generic >= 0 && generic < 6 ? GENERIC_V1[generic]! : `${enterprise}.0.${specific}`
}

export interface FormattedTrap { name: string, level: Level, message: string }

/**
 * formatTrap writes a trap as an event: `linkDown (1.3.6.1.6.3.1.1.5.3) from
 * core-switch: ifIndex.2=2 ifAdminStatus.2=up(1) ifOperStatus.2=down(2)`.
 * levels (by trap name or OID) overrides the defaults.
 */
export function formatTrap (trapOid: string, varbinds: readonly TrapVarbind[], device: string, levels: Readonly<Record<string, Level>> = {}): FormattedTrap {
  const known = TRAPS[trapOid]
  const name = known?.name ?? trapOid
  const level = levels[trapOid] ?? levels[name] ?? known?.level ?? DEFAULT_TRAP_LEVEL
  const parts: string[] = []
  for (const v of varbinds) {
    if (v.oid === SNMP_TRAP_OID || v.oid === SYS_UPTIME) continue
    const n = objectName(v.oid)
    const value = typeof v.value === 'number' && /^if(Oper|Admin)Status/.test(n) && IF_STATUS[v.value] !== undefined
      ? `${IF_STATUS[v.value]}(${v.value})`
      : typeof v.value === 'string' ? JSON.stringify(v.value) : String(v.value)
    parts.push(`${n}=${value}`)
  }
  const head = known !== undefined ? `${name} (${trapOid})` : `trap ${trapOid}`
  return { name, level, message: `${head} from ${device}${parts.length > 0 ? ': ' + parts.join(' ') : ''}` }
}
