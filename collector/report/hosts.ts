// Per host: who reported in the month (first and last 5-minute slot), and CPU
// and memory use over the whole month from the 5-minute rows: mean, p95 and
// max, hours above the warning threshold, and when the peak was.

import { col, ident, timeCond, type InfluxQL, type Range, type Sources } from './influxql.js'
import { SLOT_MS } from './period.js'

export interface UseStat {
  /** mean of the 5-minute means, % */
  mean: number
  /** 95th percentile (nearest rank) of the 5-minute means, % */
  p95: number
  /** highest single sample (max of the 5-minute maxima), % */
  max: number
  maxAt: number
  /** 5-minute slots whose mean was above the warning threshold, as hours */
  hoursAbove: number
}

export interface HostRow {
  host: string
  role: string
  site: string
  firstSeen: number | null
  lastSeen: number | null
  cpu: UseStat | null
  mem: UseStat | null
}

const USE = [['cpu', 'usage_percent'], ['mem', 'used_percent']] as const

export async function hostFigures (q: InfluxQL, src: Sources, r: Range, thresholds: { cpu: number, mem: number }): Promise<HostRow[]> {
  const hosts = new Map<string, HostRow>()
  const get = (h: string): HostRow => {
    let x = hosts.get(h)
    if (x === undefined) { x = { host: h, role: '', site: '', firstSeen: null, lastSeen: null, cpu: null, mem: null }; hosts.set(h, x) }
    return x
  }
  const stmts: string[] = []
  const w = timeCond(r)
  // percentile() reads every 5-minute row (the other aggregates are computed per block), so
  // each measurement's goes in a request of its own, in parallel with the rest.
  const p95 = USE.map(([m, f]) => q.query([`SELECT percentile(${ident(`${f}_mean`)}, 95) AS "p95" FROM ${src.from(m, r)} WHERE ${w} GROUP BY "host"`]))
  for (const [m, f] of USE) {
    const from = src.from(m, r)
    const mean = ident(`${f}_mean`)
    stmts.push(
      `SELECT mean(${mean}) AS "mean" FROM ${from} WHERE ${w} GROUP BY "host"`,
      `SELECT max(${ident(`${f}_max`)}) AS "max" FROM ${from} WHERE ${w} GROUP BY "host"`,
      `SELECT count(${mean}) AS "n" FROM ${from} WHERE ${w} AND ${mean} > ${thresholds[m]} GROUP BY "host"`
    )
  }
  // Identity and presence: host_up is written for every agent batch and while an agent is down.
  const present = ['host_up', 'cpu', 'mem'].find(m => src.tier(m) !== 'none') ?? 'host_up'
  const pf = present === 'host_up' ? 'up_count' : present === 'cpu' ? 'usage_percent_count' : 'used_percent_count'
  stmts.push(`SELECT first(${ident(pf)}) FROM ${src.from(present, r)} WHERE ${w} GROUP BY "host", "role", "site"`)
  stmts.push(`SELECT last(${ident(pf)}) FROM ${src.from(present, r)} WHERE ${w} GROUP BY "host", "role", "site"`)
  const [res, ...pct] = await Promise.all([q.query(stmts), ...p95])
  USE.forEach(([m], k) => {
    if (src.tier(m) === 'none') return
    const [agg, mx, above] = [res[k * 3]!, res[k * 3 + 1]!, res[k * 3 + 2]!]
    for (const s of agg) {
      const row = s.values[0]
      if (row === undefined) continue
      const mean = col(s, 'mean')(row)
      if (mean === null) continue
      get(s.tags['host']!)[m] = { mean, p95: mean, max: mean, maxAt: r.start, hoursAbove: 0 }
    }
    for (const s of pct[k]![0]!) {
      const st = hosts.get(s.tags['host']!)?.[m]
      const row = s.values[0]
      if (st != null && row !== undefined) st.p95 = col(s, 'p95')(row) ?? st.p95
    }
    for (const s of mx) {
      const st = hosts.get(s.tags['host']!)?.[m]
      const row = s.values[0]
      if (st == null || row === undefined) continue
      st.max = col(s, 'max')(row) ?? st.max
      st.maxAt = Number(row[0])
    }
    for (const s of above) {
      const st = hosts.get(s.tags['host']!)?.[m]
      const row = s.values[0]
      if (st == null || row === undefined) continue
      st.hoursAbove = (col(s, 'n')(row) ?? 0) * SLOT_MS / 3_600_000
    }
  })
  const [first, last] = [res[6]!, res[7]!]
  for (const s of first) {
    const h = get(s.tags['host']!)
    const t = Number(s.values[0]?.[0])
    if (s.tags['role'] !== undefined && s.tags['role'] !== '') h.role = s.tags['role']
    if (s.tags['site'] !== undefined) h.site = s.tags['site']
    if (h.firstSeen === null || t < h.firstSeen) h.firstSeen = t
  }
  for (const s of last) {
    const h = get(s.tags['host']!)
    const t = Number(s.values[0]?.[0])
    if (h.lastSeen === null || t > h.lastSeen) h.lastSeen = t
  }
  return [...hosts.values()].sort((a, b) => a.host.localeCompare(b.host))
}
