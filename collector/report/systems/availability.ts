// A business system's availability and response-time compliance in one month:
// the members' 5-minute host_up and service.up shares combined by the system's
// redundancy, in its own service hours, planned maintenance and exempt (免責)
// incidents excluded. Definitions: docs/report.md "Service levels by system".

import type { Window } from '../../alerting/store.js'
import type { SystemConfig } from '../../config/systems.js'
import { hostInSystem } from '../../config/systems.js'
import { localTime } from '../../../common/calendar.js'
import { maintenanceMatches } from '../availability.js'
import { col, ident, str, timeCond, type InfluxQL, type Range, type Sources } from '../influxql.js'
import { SLOT_MS, serviceIntervals, type Month, type ServiceHours } from '../period.js'

const SLOT_MIN = SLOT_MS / 60_000

export interface SystemAvail {
  /** service-hours minutes of the system in the month, planned stops and exempt time excluded */
  scheduledMin: number
  plannedMin: number
  /** minutes inside exempt (免責) incidents: not counted either way */
  exemptMin: number
  /** minutes inside incidents an operator marked not service-affecting: not counted either way */
  notSaMin: number
  measuredMin: number
  downMin: number
  noDataMin: number
  /** 100 × (measured − down) / measured; null without a measured minute */
  availability: number | null
  /** response_ms samples of the system's service checks in counted minutes, and those whose 5-minute mean met the day's target */
  responseSamples: number
  responseWithin: number
  /** 100 × within / samples; null without a sample */
  compliance: number | null
  /** counted service-hours minutes that fell in a busy season */
  busyMin: number
}

export function emptyAvail (): SystemAvail {
  return { scheduledMin: 0, plannedMin: 0, exemptMin: 0, notSaMin: 0, measuredMin: 0, downMin: 0, noDataMin: 0, availability: null, responseSamples: 0, responseWithin: 0, compliance: null, busyMin: 0 }
}

/** addAvail sums two months' minutes and samples and recomputes the ratios (a quarter, a fiscal year). */
export function addAvail (a: SystemAvail, b: SystemAvail): SystemAvail {
  const s = emptyAvail()
  for (const k of ['scheduledMin', 'plannedMin', 'exemptMin', 'notSaMin', 'measuredMin', 'downMin', 'noDataMin', 'responseSamples', 'responseWithin', 'busyMin'] as const) s[k] = a[k] + b[k]
  return ratios(s)
}

function ratios (s: SystemAvail): SystemAvail {
  s.availability = s.measuredMin > 0 ? 100 * (s.measuredMin - s.downMin) / s.measuredMin : null
  s.compliance = s.responseSamples > 0 ? 100 * s.responseWithin / s.responseSamples : null
  return s
}

/** inSeason: a local date YYYY-MM-DD falls in a busy season from..to (MM-DD, inclusive, may wrap the year end). */
export function inSeason (date: string, s: { from: string, to: string }): boolean {
  const md = date.slice(5)
  return s.from <= s.to ? md >= s.from && md <= s.to : md >= s.from || md <= s.to
}

/** responseTarget is the system's response-time target on a local date: the first busy season covering it, else targets.responseMs. */
export function responseTarget (sys: SystemConfig, date: string): { ms: number, busy: boolean } {
  const s = sys.busySeason.find(x => inSeason(date, x))
  return s !== undefined ? { ms: s.responseMs, busy: true } : { ms: sys.targets.responseMs, busy: false }
}

interface Slot { up: number | null, rMean: number | null, rCount: number }
interface Member { labels: Record<string, string>, slots: Map<number, Slot> }

/** memberCond is the InfluxQL condition selecting a system's hosts (hosts: or where:). */
function memberCond (sys: SystemConfig): string {
  if (sys.hosts !== undefined) return sys.hosts.map(h => `"host" = ${str(h)}`).join(' OR ')
  const w = Object.entries(sys.where ?? {})
  return w.length === 0 ? 'true' : w.map(([k, v]) => `${ident(k)} = ${str(v)}`).join(' AND ')
}

/** fetchMembers reads the month's 5-minute rows of the system's hosts and service checks. */
async function fetchMembers (q: InfluxQL, src: Sources, sys: SystemConfig, r: Range): Promise<{ hosts: Map<string, Member>, services: Map<string, Map<string, Member>> }> {
  const stmts = [`SELECT "up_mean" FROM ${src.from('host_up', r)} WHERE ${timeCond(r)} AND (${memberCond(sys)}) GROUP BY "host", "role", "site"`]
  if (sys.services.length > 0) {
    stmts.push(`SELECT "up_mean", "response_ms_mean", "response_ms_count" FROM ${src.from('service', r)} WHERE ${timeCond(r)} AND "check" != 'job' AND (${sys.services.map(s => `"service" = ${str(s)}`).join(' OR ')}) GROUP BY "host", "role", "site", "service", "check"`)
  }
  const res = await q.query(src.tier('host_up') === 'none' && src.tier('service') === 'none' ? [] : stmts)
  const hosts = new Map<string, Member>()
  const services = new Map<string, Map<string, Member>>()
  for (const s of res[0] ?? []) {
    const h = s.tags['host'] ?? ''
    if (!hostInSystem(sys, h, s.tags)) continue
    const m: Member = hosts.get(h) ?? { labels: { host: h, role: s.tags['role'] ?? '', site: s.tags['site'] ?? '' }, slots: new Map() }
    const up = col(s, 'up_mean')
    for (const row of s.values) { const v = up(row); if (v !== null) m.slots.set(Number(row[0]), { up: v, rMean: null, rCount: 0 }) }
    hosts.set(h, m)
  }
  for (const s of res[1] ?? []) {
    const name = s.tags['service'] ?? ''
    const key = `${s.tags['host']}\u0000${s.tags['check']}`
    const byName = services.get(name) ?? new Map<string, Member>()
    const m: Member = byName.get(key) ?? { labels: { host: s.tags['host'] ?? '', role: s.tags['role'] ?? '', site: s.tags['site'] ?? '', service: name, check: s.tags['check'] ?? '' }, slots: new Map() }
    const [up, mean, count] = [col(s, 'up_mean'), col(s, 'response_ms_mean'), col(s, 'response_ms_count')]
    for (const row of s.values) {
      const u = up(row)
      const c = count(row) ?? 0
      if (u === null && c === 0) continue
      m.slots.set(Number(row[0]), { up: u, rMean: mean(row), rCount: c })
    }
    byName.set(key, m); services.set(name, byName)
  }
  return { hosts, services }
}

export interface SystemAvailInputs {
  month: Month
  serviceHours: ServiceHours
  maintenance: readonly Window[]
  /** [start, end) spans of the system's exempt incidents and of those marked not service-affecting; counted incidents' spans win over both */
  exempt: ReadonlyArray<{ start: number, end: number }>
  notServiceAffecting?: ReadonlyArray<{ start: number, end: number }>
  counted?: ReadonlyArray<{ start: number, end: number }>
}

/**
 * systemAvailability: per 5-minute slot in the system's service hours, each member's down
 * share is 1 − mean(up); hosts combine by redundancy (any: the smallest share, all: the
 * largest), each service's instances the same way, and the slot's down share is the
 * largest of those parts. Members under a matching maintenance window sit the slot out.
 */
export async function systemAvailability (q: InfluxQL, src: Sources, sys: SystemConfig, o: SystemAvailInputs): Promise<SystemAvail> {
  const m = o.month
  const { hosts, services } = await fetchMembers(q, src, sys, { start: m.start, end: m.end })
  const out = emptyAvail()
  const intervals = serviceIntervals(m, o.serviceHours, o.maintenance)
  const withSystem = (l: Record<string, string>): Record<string, string> => ({ ...l, system: sys.name })
  const hostList = [...new Set([...(sys.hosts ?? []), ...hosts.keys()])].map(h => hosts.get(h) ?? { labels: { host: h, role: '', site: '' }, slots: new Map<number, Slot>() })
  const svcLists = [...services.values()].map(byName => [...byName.values()])
  const combine = sys.redundancy === 'any' ? Math.min : Math.max
  let day = ''
  let dayEnd = 0
  let target = { ms: sys.targets.responseMs, busy: false }
  for (const iv of intervals) {
    const ws = iv.windows.map(id => o.maintenance.find(w => w.id === id)).filter(w => w !== undefined)
    const planned = (mb: Member): boolean => ws.some(w => maintenanceMatches(w, withSystem(mb.labels)))
    const hostPlanned = hostList.map(planned)
    const systemWindow = ws.some(w => Object.keys(w.matchers).includes('system') && maintenanceMatches(w, { system: sys.name }))
    const allPlanned = hostList.length > 0 && (sys.redundancy === 'any' ? hostPlanned.every(Boolean) : hostPlanned.some(Boolean))
    const svcActive = svcLists.map(list => list.filter(mb => !planned(mb)))
    for (let t = iv.start; t < iv.end; t += SLOT_MS) {
      if (systemWindow || allPlanned || (hostList.length === 0 && svcLists.length > 0 && svcActive.every(l => l.length === 0))) { out.plannedMin += SLOT_MIN; continue }
      const at = (e: { start: number, end: number }): boolean => t >= e.start && t < e.end
      if (!(o.counted ?? []).some(at)) {
        if (o.exempt.some(at)) { out.exemptMin += SLOT_MIN; continue }
        if ((o.notServiceAffecting ?? []).some(at)) { out.notSaMin += SLOT_MIN; continue }
      }
      if (t >= dayEnd) {
        const l = localTime(t, m.timezone)
        day = l.date
        dayEnd = t + (1440 - l.minute) * 60_000
        target = responseTarget(sys, day)
      }
      out.scheduledMin += SLOT_MIN
      if (target.busy) out.busyMin += SLOT_MIN
      const parts: number[] = []
      const hostShares = hostList.flatMap((h, i) => { const s = hostPlanned[i] === true ? undefined : h.slots.get(t)?.up; return s === undefined || s === null ? [] : [1 - s] })
      if (hostShares.length > 0) parts.push(combine(...hostShares))
      for (const list of svcActive) {
        const shares: number[] = []
        for (const mb of list) {
          const s = mb.slots.get(t)
          if (s === undefined) continue
          if (s.up !== null) shares.push(1 - s.up)
          if (s.rCount > 0 && s.rMean !== null) { out.responseSamples += s.rCount; if (s.rMean <= target.ms) out.responseWithin += s.rCount }
        }
        if (shares.length > 0) parts.push(combine(...shares))
      }
      if (parts.length === 0) { out.noDataMin += SLOT_MIN; continue }
      out.measuredMin += SLOT_MIN
      out.downMin += SLOT_MIN * Math.max(...parts)
    }
  }
  return ratios(out)
}
