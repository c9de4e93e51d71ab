// Availability of hosts (host_up) and services (service.up) in service hours,
// planned maintenance excluded, and HTTP response times in the same hours.
// Definition (docs/report.md): per 5-minute slot in service hours, down
// minutes = 5 × (1 − mean of up in the slot); a service with no sample in a
// slot where its host was down counts the host's down share; a slot with no
// sample at all is "no data", shown, and not counted either way.

import type { Window } from '../alerting/store.js'
import { matcherMatches } from '../alerting/silences.js'
import { col, str, timeCond, type InfluxQL, type Sources } from './influxql.js'
import { SLOT_MS, slotsIn, type Interval } from './period.js'

const SLOT_MIN = SLOT_MS / 60_000

export interface AvailRow {
  kind: 'host' | 'service'
  /** a host row for a device polled by an agent (its host_up carries `poller`): 機器, not サーバ */
  device?: true
  host: string
  role: string
  site: string
  service: string
  check: string
  /** service-hours minutes from the target's first to its last 5-minute slot with data in the month, planned stops excluded */
  scheduledMin: number
  plannedMin: number
  measuredMin: number
  downMin: number
  noDataMin: number
  /** 100 × (measured − down) / measured; null without any measured minute */
  availability: number | null
  /** the availability goal and the service-hours schedule that apply to this target (report.overrides) */
  target: number
  schedule: string
  response: ResponseStat | null
}

export interface ResponseStat {
  /** nearest-rank percentiles of the 5-minute mean response times in service hours, ms */
  p50: number
  p95: number
  max: number
  /** share of those slots whose mean was within targets.responseMs, % */
  withinTarget: number
  slots: number
}

interface Acc {
  row: AvailRow
  labels: Record<string, string>
  /** per interval index: measured slots (n) and up slots (Σ up_mean) */
  per: Map<number, { n: number, up: number }>
  resp: number[]
  respMax: number
}

/** targetLabels are the tags overrides and maintenance windows match against. */
export function targetLabels (r: AvailRow): Record<string, string> {
  const l: Record<string, string> = { host: r.host, role: r.role, site: r.site }
  if (r.kind === 'service') { l['service'] = r.service; l['check'] = r.check }
  return l
}

/** maintenanceMatches ignores rule and severity matchers: a planned stop of a host or service is planned for its availability too. */
export function maintenanceMatches (w: Window, labels: Record<string, string>): boolean {
  const m = { ...w.matchers }
  delete m['rule']; delete m['severity']
  return matcherMatches(m, labels, '')
}

export async function availabilityFigures (q: InfluxQL, src: Sources, intervals: Interval[], maintenance: readonly Window[], responseTargetMs: number): Promise<AvailRow[]> {
  const hostTier = src.tier('host_up')
  const svcTier = src.tier('service')
  if (intervals.length === 0 || (hostTier === 'none' && svcTier === 'none')) return []
  const stmts: string[] = []
  for (const i of intervals) {
    const w = timeCond(i)
    const hu = src.from('host_up', i)
    const sv = src.from('service', i)
    stmts.push(
      `SELECT sum("up_mean") AS "up", count("up_mean") AS "n" FROM ${hu} WHERE ${w} GROUP BY "host", "role", "site", "poller"`,
      `SELECT sum("up_mean") AS "up", count("up_mean") AS "n" FROM ${sv} WHERE ${w} AND "check" != 'job' GROUP BY "host", "role", "site", "service", "check"`,
      `SELECT "up_mean" FROM ${hu} WHERE ${w} AND "up_min" < 1 GROUP BY "host"`,
      `SELECT "response_ms_mean", "response_ms_max" FROM ${sv} WHERE ${w} AND "check" = 'http' AND "response_ms_count" > 0 GROUP BY "host", "service"`
    )
  }
  // Each target's first and last 5-minute slot with data in the month: time before and after is not counted.
  const month = { start: intervals[0]!.start, end: intervals[intervals.length - 1]!.end }
  for (const [m, by] of [['host_up', '"host"'], ['service', '"host", "service", "check"']] as const) {
    const from = src.from(m, month)
    const cond = m === 'service' ? ` AND "check" != 'job'` : ''
    stmts.push(`SELECT first("up_count") FROM ${from} WHERE ${timeCond(month)}${cond} GROUP BY ${by}`, `SELECT last("up_count") FROM ${from} WHERE ${timeCond(month)}${cond} GROUP BY ${by}`)
  }
  const res = await q.query(stmts)
  const spanKey = (kind: string, t: Record<string, string>): string => kind === 'host' ? `h\u0000${t['host']}` : `s\u0000${t['host']}\u0000${t['service']}\u0000${t['check']}`
  const spans = new Map<string, { first: number, last: number }>()
  const base = intervals.length * 4
  for (const [j, kind] of [[0, 'host'], [2, 'service']] as const) {
    for (const s of res[base + j]!) spans.set(spanKey(kind, s.tags), { first: Number(s.values[0]?.[0]), last: Number(s.values[0]?.[0]) })
    for (const s of res[base + j + 1]!) { const sp = spans.get(spanKey(kind, s.tags)); if (sp !== undefined) sp.last = Number(s.values[0]?.[0]) }
  }
  const acc = new Map<string, Acc>()
  const target = (kind: AvailRow['kind'], t: Record<string, string>): Acc => {
    const key = spanKey(kind, t)
    let a = acc.get(key)
    if (a === undefined) {
      const row: AvailRow = { kind, host: t['host'] ?? '', role: t['role'] ?? '', site: t['site'] ?? '', service: kind === 'service' ? t['service'] ?? '' : '', check: kind === 'service' ? t['check'] ?? '' : '', scheduledMin: 0, plannedMin: 0, measuredMin: 0, downMin: 0, noDataMin: 0, availability: null, target: 0, schedule: '', response: null }
      a = { row, labels: targetLabels(row), per: new Map(), resp: [], respMax: 0 }
      acc.set(key, a)
    }
    return a
  }
  // host → interval index → slot start → host up share, for slots where the host was (partly) down
  const hostDown = new Map<string, Map<number, Map<number, number>>>()
  intervals.forEach((_, k) => {
    const [hosts, svcs, bad, resp] = [res[k * 4]!, res[k * 4 + 1]!, res[k * 4 + 2]!, res[k * 4 + 3]!]
    for (const [kind, list] of [['host', hosts], ['service', svcs]] as const) {
      for (const s of list) {
        const row = s.values[0]
        if (row === undefined) continue
        const n = col(s, 'n')(row) ?? 0
        if (n === 0) continue
        const a = target(kind, s.tags)
        if (kind === 'host' && (s.tags['poller'] ?? '') !== '') a.row.device = true
        const p = a.per.get(k) ?? { n: 0, up: 0 }
        p.n += n; p.up += col(s, 'up')(row) ?? 0
        a.per.set(k, p)
      }
    }
    for (const s of bad) {
      const h = s.tags['host']!
      const byI = hostDown.get(h) ?? new Map<number, Map<number, number>>()
      const slots = byI.get(k) ?? new Map<number, number>()
      const up = col(s, 'up_mean')
      for (const row of s.values) slots.set(Number(row[0]), up(row) ?? 0)
      byI.set(k, slots); hostDown.set(h, byI)
    }
    for (const s of resp) {
      const a = acc.get(`s\u0000${s.tags['host']}\u0000${s.tags['service']}\u0000http`)
      if (a === undefined) continue
      if (maintenanceHit(intervals[k]!, maintenance, a.labels)) continue
      const mean = col(s, 'response_ms_mean')
      const max = col(s, 'response_ms_max')
      for (const row of s.values) {
        const v = mean(row)
        if (v !== null) a.resp.push(v)
        a.respMax = Math.max(a.respMax, max(row) ?? v ?? 0)
      }
    }
  })
  const inSpan = (a: Acc, slot: number): boolean => { const sp = spans.get(spanKey('service', a.labels)); return sp === undefined || (slot >= sp.first && slot <= sp.last) }
  await serviceOnDownHosts(q, src, intervals, hostDown, [...acc.values()].filter(a => a.row.kind === 'service'), inSpan)
  const out: AvailRow[] = []
  for (const a of acc.values()) {
    const r = a.row
    const span = spans.get(spanKey(r.kind, a.labels)) ?? { first: month.start, last: month.end }
    intervals.forEach((iv, k) => {
      const from = Math.max(iv.start, span.first)
      const to = Math.min(iv.end, span.last + SLOT_MS)
      if (to <= from) return
      const minutes = slotsIn({ start: from, end: to }) * SLOT_MIN
      if (maintenanceHit(iv, maintenance, a.labels)) { r.plannedMin += minutes; return }
      const p = a.per.get(k)
      r.scheduledMin += minutes
      if (p === undefined) return
      r.measuredMin += p.n * SLOT_MIN
      r.downMin += (p.n - p.up) * SLOT_MIN
    })
    r.measuredMin = Math.min(r.measuredMin, r.scheduledMin)
    r.noDataMin = Math.max(0, r.scheduledMin - r.measuredMin)
    r.availability = r.measuredMin > 0 ? 100 * (r.measuredMin - r.downMin) / r.measuredMin : null
    if (a.resp.length > 0) {
      const sorted = [...a.resp].sort((x, y) => x - y)
      r.response = { p50: nearestRank(sorted, 50), p95: nearestRank(sorted, 95), max: a.respMax, withinTarget: 100 * sorted.filter(v => v <= responseTargetMs).length / sorted.length, slots: sorted.length }
    }
    out.push(r)
  }
  return out.sort((x, y) => x.kind.localeCompare(y.kind) || x.host.localeCompare(y.host) || x.service.localeCompare(y.service))
}

function maintenanceHit (iv: Interval, maintenance: readonly Window[], labels: Record<string, string>): boolean {
  return iv.windows.some(id => { const w = maintenance.find(x => x.id === id); return w !== undefined && maintenanceMatches(w, labels) })
}

/**
 * serviceOnDownHosts: an agent whose host is down sends no service samples, so
 * a service slot without samples where its host_up says down counts as down
 * (by the host's down share) instead of "no data".
 */
async function serviceOnDownHosts (q: InfluxQL, src: Sources, intervals: Interval[], hostDown: Map<string, Map<number, Map<number, number>>>, services: Acc[], inSpan: (a: Acc, slot: number) => boolean): Promise<void> {
  if (hostDown.size === 0 || services.length === 0) return
  const byHost = new Map<string, Acc[]>()
  for (const a of services) byHost.set(a.row.host, [...byHost.get(a.row.host) ?? [], a])
  const work: Array<{ k: number, hosts: string[] }> = []
  for (let k = 0; k < intervals.length; k++) {
    const hosts = [...hostDown.keys()].filter(h => hostDown.get(h)!.has(k) && byHost.has(h))
    if (hosts.length > 0) work.push({ k, hosts })
  }
  const res = await q.query(work.map(({ k, hosts }) => {
    const iv = intervals[k]!
    return `SELECT "up_count" FROM ${src.from('service', iv)} WHERE ${timeCond(iv)} AND "check" != 'job' AND (${hosts.map(h => `"host" = ${str(h)}`).join(' OR ')}) GROUP BY "host", "service", "check"`
  }))
  work.forEach(({ k, hosts }, j) => {
    const seen = new Set<string>()
    for (const s of res[j]!) for (const row of s.values) seen.add(`${s.tags['host']}\u0000${s.tags['service']}\u0000${s.tags['check']}\u0000${Number(row[0])}`)
    for (const h of hosts) {
      for (const [slot, upShare] of hostDown.get(h)!.get(k)!) {
        for (const a of byHost.get(h)!) {
          if (!inSpan(a, slot) || seen.has(`${h}\u0000${a.row.service}\u0000${a.row.check}\u0000${slot}`)) continue
          const p = a.per.get(k) ?? { n: 0, up: 0 }
          p.n += 1; p.up += upShare
          a.per.set(k, p)
        }
      }
    }
  })
}

/** nearestRank is InfluxQL's percentile(): the value at rank floor(n·p/100 + 0.5) of the sorted values. */
export function nearestRank (sorted: number[], p: number): number {
  const i = Math.floor(sorted.length * p / 100 + 0.5) - 1
  return sorted[Math.min(sorted.length - 1, Math.max(0, i))]!
}
