// Traffic per local day per host: each 5-minute mean rate (bytes/s, summed
// over the host's interfaces) times 300 s, added up per day. Slots without
// data add nothing.

import { col, str, timeCond, type InfluxQL, type Range, type Sources } from './influxql.js'
import { localTime } from '../../common/calendar.js'

export interface TrafficDay {
  host: string
  /** YYYY-MM-DD local */
  date: string
  rxBytes: number
  txBytes: number
}

export async function trafficFigures (q: InfluxQL, src: Sources, r: Range, tz: string): Promise<TrafficDay[]> {
  if (src.tier('net') === 'none') return []
  const [res] = await q.query([
    `SELECT sum("rx_bytes_per_sec_mean") * 300 AS "rx", sum("tx_bytes_per_sec_mean") * 300 AS "tx" FROM ${src.from('net', r)} WHERE ${timeCond(r)} GROUP BY time(1d), "host" fill(none) tz(${str(tz)})`
  ])
  const out: TrafficDay[] = []
  for (const s of res!) {
    const rx = col(s, 'rx')
    const tx = col(s, 'tx')
    for (const row of s.values) {
      out.push({ host: s.tags['host']!, date: localTime(Number(row[0]), tz).date, rxBytes: rx(row) ?? 0, txBytes: tx(row) ?? 0 })
    }
  }
  return out.sort((a, b) => a.host.localeCompare(b.host) || a.date.localeCompare(b.date))
}
