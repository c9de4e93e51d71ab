// Device interface traffic for section 4 (ネットワーク通信量): per device and interface (snmp_if,
// host = the device), each 5-minute mean rate (bytes/s) times 300 s added up per local day, like
// the hosts' traffic (network.ts); the month's busiest interfaces, report.topInterfaces of them.

import { localTime } from '../../../common/calendar.js'
import { col, str, timeCond, type InfluxQL, type Range, type Sources } from '../influxql.js'
import type { SectionColumn as Column, SectionTable as Table } from './table.js'
import { words, type Lang } from '../i18n.js'

export interface DeviceIfTraffic {
  device: string
  ifname: string
  rxBytes: number
  txBytes: number
  /** local days with data */
  days: number
  /** the local day with the most bytes (rx + tx), YYYY-MM-DD */
  peakDay: string
  peakBytes: number
}

export interface DeviceTraffic {
  /** the busiest interfaces, most bytes first */
  rows: DeviceIfTraffic[]
  /** interfaces with data in the month (rows holds at most report.topInterfaces of them) */
  interfaces: number
}

/** deviceTrafficFigures reads snmp_if (rollups, else raw rolled up alike) for the month. */
export async function deviceTrafficFigures (q: InfluxQL, src: Sources, r: Range, tz: string, top: number): Promise<DeviceTraffic> {
  if (src.tier('snmp_if') === 'none') return { rows: [], interfaces: 0 }
  const [res] = await q.query([
    `SELECT sum("rx_bytes_per_sec_mean") * 300 AS "rx", sum("tx_bytes_per_sec_mean") * 300 AS "tx" FROM ${src.from('snmp_if', r)} WHERE ${timeCond(r)} GROUP BY time(1d), "host", "ifname" fill(none) tz(${str(tz)})`
  ])
  const all: DeviceIfTraffic[] = []
  for (const s of res!) {
    const rx = col(s, 'rx')
    const tx = col(s, 'tx')
    const x: DeviceIfTraffic = { device: s.tags['host'] ?? '', ifname: s.tags['ifname'] ?? '', rxBytes: 0, txBytes: 0, days: 0, peakDay: '', peakBytes: -1 }
    for (const row of s.values) {
      const a = rx(row) ?? 0
      const b = tx(row) ?? 0
      x.rxBytes += a
      x.txBytes += b
      x.days++
      if (a + b > x.peakBytes) { x.peakBytes = a + b; x.peakDay = localTime(Number(row[0]), tz).date }
    }
    if (x.days > 0) all.push(x)
  }
  all.sort((a, b) => (b.rxBytes + b.txBytes) - (a.rxBytes + a.txBytes) || a.device.localeCompare(b.device) || a.ifname.localeCompare(b.ifname))
  return { rows: all.slice(0, top), interfaces: all.length }
}

const GB = 1e9

/** deviceTrafficTable is the section's table (GB, like the hosts' traffic). */
export function deviceTrafficTable (f: DeviceTraffic, lang: Lang): Table {
  const w = words(lang)
  const C = (key: Parameters<typeof w>[0], type: Column['type'], width: number): Column => ({ key, header: w(key), type, width })
  return {
    id: 'deviceTraffic',
    sheet: 'Device traffic',
    title: f.rows.length < f.interfaces ? w('devTrafficTop', { n: f.rows.length, m: f.interfaces }) : w('devTraffic'),
    columns: [C('device', 'text', 16), C('ifname', 'text', 14), C('rx', 'gb', 11), C('tx', 'gb', 11), C('total', 'gb', 11), C('dailyMean', 'gb', 11), C('peakDay', 'text', 11), C('peakDayGb', 'gb', 10)],
    rows: f.rows.map(x => ({
      device: x.device, ifname: x.ifname, rx: x.rxBytes / GB, tx: x.txBytes / GB, total: (x.rxBytes + x.txBytes) / GB,
      dailyMean: (x.rxBytes + x.txBytes) / x.days / GB, peakDay: x.peakDay, peakDayGb: x.peakBytes / GB
    }))
  }
}
