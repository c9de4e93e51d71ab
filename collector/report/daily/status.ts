// What the daily report reads from raw data: hosts and services at opening
// (host_up, service.up), certificates (cert_days_left), log errors and
// warnings (log_event), and the agents' spool and clock (agent).

import { col, ident, type InfluxQL, type Series } from '../influxql.js'
import { keptWhere, shortLivedWhere, type ShortLivedRule } from '../short-lived.js'

const DAY = 86_400_000
/** how far before opening a host or service must have reported to be listed */
export const LOOKBACK_MS = 7 * DAY
/** log levels counted as errors, and as warnings */
export const ERROR_LEVELS = ['emerg', 'alert', 'crit', 'critical', 'fatal', 'err', 'error']
export const WARNING_LEVELS = ['warn', 'warning']

export function rawFrom (rp: string | undefined, m: string): string {
  return rp === undefined ? ident(m) : `${ident(rp)}.${ident(m)}`
}

export interface TargetStatus {
  kind: 'host' | 'service'
  host: string
  role: string
  service: string
  check: string
  /** the last sample's up value at or before opening */
  up: number | null
  /** when that sample was taken */
  at: number | null
  /** the last sample with up = 1 (in the lookback) */
  lastUpAt: number | null
  message: string
  /** up: the last sample is 1 and fresh; down: it is 0; stale: a 1 older than staleAfter, or none */
  state: 'up' | 'down' | 'stale'
}

const lastUp = (s: Series): { up: number | null, at: number | null } => {
  const row = s.values[0]
  return row === undefined ? { up: null, at: null } : { up: col(s, 'up')(row), at: Number(row[0]) }
}

/** statusAtOpening reads each host's host_up and each service's up (check=job aside) as of `end`. */
export async function statusAtOpening (q: InfluxQL, rawRp: string | undefined, end: number, staleMs: number): Promise<TargetStatus[]> {
  // A sample taken in the opening minute itself counts as "at opening".
  const w = `time >= ${end - LOOKBACK_MS}ms AND time < ${end + 60_000}ms`
  const [hosts, services, messages, hostsUp, servicesUp] = await q.query([
    `SELECT last("up") AS "up" FROM ${rawFrom(rawRp, 'host_up')} WHERE ${w} GROUP BY "host", "role"`,
    `SELECT last("up") AS "up" FROM ${rawFrom(rawRp, 'service')} WHERE ${w} AND "check" != 'job' GROUP BY "host", "role", "service", "check"`,
    `SELECT last("message") AS "message" FROM ${rawFrom(rawRp, 'service')} WHERE ${w} AND "check" != 'job' GROUP BY "host", "service", "check"`,
    `SELECT last("up") AS "up" FROM ${rawFrom(rawRp, 'host_up')} WHERE ${w} AND "up" = 1 GROUP BY "host"`,
    `SELECT last("up") AS "up" FROM ${rawFrom(rawRp, 'service')} WHERE ${w} AND "check" != 'job' AND "up" = 1 GROUP BY "host", "service", "check"`
  ])
  const key = (t: Record<string, string>): string => `${t['host']}\u0000${t['service'] ?? ''}\u0000${t['check'] ?? ''}`
  const msg = new Map((messages ?? []).map(s => [key(s.tags), String(s.values[0]?.[1] ?? '')]))
  const upAt = new Map([...hostsUp!, ...servicesUp!].map(s => [key(s.tags), s.values[0] === undefined ? null : Number(s.values[0][0])]))
  // The collector writes host_up 0 once when it judges a host down: a last 0 is down however old.
  const state = (up: number | null, t: number | null): TargetStatus['state'] => up === 0 ? 'down' : t === null || t < end - staleMs ? 'stale' : 'up'
  const out: TargetStatus[] = []
  for (const s of hosts!) {
    const l = lastUp(s)
    out.push({ kind: 'host', host: s.tags['host'] ?? '', role: s.tags['role'] ?? '', service: '', check: '', ...l, lastUpAt: upAt.get(key(s.tags)) ?? null, message: '', state: state(l.up, l.at) })
  }
  for (const s of services!) {
    const l = lastUp(s)
    const t = s.tags
    out.push({ kind: 'service', host: t['host'] ?? '', role: t['role'] ?? '', service: t['service'] ?? '', check: t['check'] ?? '', ...l, lastUpAt: upAt.get(key(t)) ?? null, message: msg.get(key(t)) ?? '', state: state(l.up, l.at) })
  }
  return out.sort((a, b) => a.kind.localeCompare(b.kind) || a.host.localeCompare(b.host) || a.service.localeCompare(b.service))
}

export interface CertRow { host: string, service: string, daysLeft: number, at: number }

/** certificates: the last cert_days_left of each check in the week before `end`. */
export async function certificates (q: InfluxQL, rawRp: string | undefined, end: number): Promise<CertRow[]> {
  const [res] = await q.query([`SELECT last("cert_days_left") AS "d" FROM ${rawFrom(rawRp, 'service')} WHERE time >= ${end - LOOKBACK_MS}ms AND time < ${end + 60_000}ms GROUP BY "host", "service"`])
  return res!.flatMap(s => {
    const row = s.values[0]
    const d = row === undefined ? null : col(s, 'd')(row)
    return d === null ? [] : [{ host: s.tags['host'] ?? '', service: s.tags['service'] ?? '', daysLeft: d, at: Number(row![0]) }]
  }).sort((a, b) => a.daysLeft - b.daysLeft || a.host.localeCompare(b.host))
}

/** LogRow: hidden counts the events whose text is left out (a logsBy role/site: short-lived.ts). */
export interface LogRow { host: string, level: string, count: number, top: Array<{ message: string, count: number }>, hidden: number }

/** logCounts: events per host and level (errors and warnings) in [start, end), and the most frequent messages (none of shortLived's roles/sites). */
export async function logCounts (q: InfluxQL, logsRp: string | undefined, start: number, end: number, topN: number, shortLived: readonly ShortLivedRule[] = []): Promise<LogRow[]> {
  const levels = [...ERROR_LEVELS, ...WARNING_LEVELS].join('|')
  const w = `time >= ${start}ms AND time < ${end}ms AND "level" =~ /^(${levels})$/`
  const kept = keptWhere(shortLived)
  const short = shortLivedWhere(shortLived)
  const [sums, rows, hiddenSums] = await q.query([
    `SELECT sum("count") AS "n" FROM ${rawFrom(logsRp, 'log_event')} WHERE ${w} GROUP BY "host", "level"`,
    // the messages of the latest 10,000 events per host and level rank the top ones
    `SELECT "message", "count" FROM ${rawFrom(logsRp, 'log_event')} WHERE ${w}${kept === '' ? '' : ` AND ${kept}`} GROUP BY "host", "level" ORDER BY time DESC LIMIT 10000`,
    ...(short === undefined ? [] : [`SELECT sum("count") AS "n" FROM ${rawFrom(logsRp, 'log_event')} WHERE ${w} AND ${short} GROUP BY "host", "level"`])
  ])
  const key = (t: Record<string, string>): string => `${t['host']}\u0000${t['level']}`
  const top = new Map<string, Map<string, number>>()
  for (const s of rows!) {
    const m = new Map<string, number>()
    const mi = s.columns.indexOf('message')
    const n = col(s, 'count')
    for (const row of s.values) { const text = String(row[mi] ?? ''); m.set(text, (m.get(text) ?? 0) + (n(row) ?? 1)) }
    top.set(key(s.tags), m)
  }
  const hidden = new Map((hiddenSums ?? []).map(s => [key(s.tags), s.values[0] === undefined ? 0 : col(s, 'n')(s.values[0]) ?? 0]))
  return sums!.map(s => ({
    host: s.tags['host'] ?? '',
    level: s.tags['level'] ?? '',
    count: s.values[0] === undefined ? 0 : col(s, 'n')(s.values[0]) ?? 0,
    top: [...(top.get(key(s.tags)) ?? new Map<string, number>())].map(([message, count]) => ({ message, count }))
      .sort((a, b) => b.count - a.count || a.message.localeCompare(b.message)).slice(0, topN),
    hidden: hidden.get(key(s.tags)) ?? 0
  })).filter(r => r.count > 0).sort((a, b) => a.host.localeCompare(b.host) || levelRank(a.level) - levelRank(b.level))
}

export function isError (level: string): boolean {
  return ERROR_LEVELS.includes(level)
}

function levelRank (l: string): number {
  const all = [...ERROR_LEVELS, ...WARNING_LEVELS]
  return all.indexOf(l)
}

export interface AgentRow { host: string, spoolLast: number | null, spoolMax: number | null, skewLast: number | null, skewMaxAbs: number | null }

/** agentHealth: each agent's spool depth and clock skew in [start, end]. */
export async function agentHealth (q: InfluxQL, rawRp: string | undefined, start: number, end: number): Promise<AgentRow[]> {
  const w = `time >= ${start}ms AND time < ${end + 60_000}ms`
  const from = rawFrom(rawRp, 'agent')
  const [last, range] = await q.query([
    `SELECT last("spool_batches") AS "spool", last("clock_skew_ms") AS "skew" FROM ${from} WHERE ${w} GROUP BY "host"`,
    `SELECT max("spool_batches") AS "spool_max", max("clock_skew_ms") AS "skew_max", min("clock_skew_ms") AS "skew_min" FROM ${from} WHERE ${w} GROUP BY "host"`
  ])
  const by = new Map<string, AgentRow>()
  const get = (h: string): AgentRow => { let r = by.get(h); if (r === undefined) { r = { host: h, spoolLast: null, spoolMax: null, skewLast: null, skewMaxAbs: null }; by.set(h, r) } return r }
  for (const s of last!) { const r = get(s.tags['host'] ?? ''); const row = s.values[0]; if (row !== undefined) { r.spoolLast = col(s, 'spool')(row); r.skewLast = col(s, 'skew')(row) } }
  for (const s of range!) {
    const r = get(s.tags['host'] ?? ''); const row = s.values[0]
    if (row === undefined) continue
    r.spoolMax = col(s, 'spool_max')(row)
    const a = col(s, 'skew_max')(row); const b = col(s, 'skew_min')(row)
    r.skewMaxAbs = a === null || b === null ? null : Math.max(Math.abs(a), Math.abs(b))
  }
  return [...by.values()].sort((a, b) => a.host.localeCompare(b.host))
}
