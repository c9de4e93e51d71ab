// The report's security section (セキュリティ): per host, the month's failed
// logons, lockouts, malware detections and logins (log_event tagged `kind` by
// the agent) and the firings of log rules (suspicious log matches, from the
// `alert` points); and logins per day (日別ログイン数), every business day
// listed, closed days only when someone logged in.

import { localTime, type BusinessCalendar } from '../../../common/calendar.js'
import { rawFrom } from '../daily/status.js'
import { col, ident, str, timeCond, type InfluxQL, type InfluxTarget, type Range } from '../influxql.js'
import type { Month } from '../period.js'
import type { SectionColumn as Column, SectionTable as Table } from './table.js'
import { words, type Lang } from '../i18n.js'

export interface SecurityHostRow {
  host: string
  /** Windows 4625, sshd "Failed … for" */
  failures: number
  /** Windows 4740, pam_faillock */
  lockouts: number
  /** Defender 1116 (detections) plus 1118/1119 (actions that failed) */
  malware: number
  /** interactive and remote-interactive logons (4624 types 2/10/11), sshd "Accepted … for" */
  logins: number
  /** firings of log rules (alert points with state=firing) */
  suspicious: number
  /** share of the month's `type: defender` results that were healthy, in percent (null: no defender check) */
  avHealthy: number | null
  /** the last signature age reported in the month, days */
  signatureAgeDays: number | null
}

export interface LoginDay { date: string, business: boolean, logins: number, failures: number, hosts: number }

export interface SecurityFigures { hosts: SecurityHostRow[], days: LoginDay[] }

const KINDS = /^(logon_failure|lockout|logon|malware|malware_action_failed)$/

/** securityFigures queries log_event (raw: events are not rolled up) and alert for the month. */
export async function securityFigures (q: InfluxQL, target: Pick<InfluxTarget, 'rawRp' | 'rollupRp' | 'logsRp'>, m: Month, cal: BusinessCalendar, logRules: readonly string[]): Promise<SecurityFigures> {
  const r: Range = { start: m.start, end: m.end }
  const rawRp = target.rawRp
  // Log events have their own retention (kanshi_logs); alerts stay in the raw policy.
  const logsRp = target.logsRp ?? rawRp
  const ruleRe = logRules.map(n => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')
  const [byKind, daily, fired] = await q.query([
    `SELECT sum("count") AS "n" FROM ${rawFrom(logsRp, 'log_event')} WHERE ${timeCond(r)} AND "kind" =~ ${KINDS} GROUP BY "host", "kind"`,
    `SELECT sum("count") AS "n" FROM ${rawFrom(logsRp, 'log_event')} WHERE ${timeCond(r)} AND "kind" =~ /^(logon|logon_failure)$/ GROUP BY time(1d), "host", "kind" fill(none) tz(${str(m.timezone)})`,
    ...(logRules.length > 0 ? [`SELECT count("active") AS "n" FROM ${rawFrom(rawRp, 'alert')} WHERE ${timeCond(r)} AND "state" = 'firing' AND "rule" =~ /^(?:${ruleRe})$/ GROUP BY "host"`] : [])
  ])
  const hosts = new Map<string, SecurityHostRow>()
  const row = (host: string): SecurityHostRow => {
    let h = hosts.get(host)
    if (h === undefined) { h = { host, failures: 0, lockouts: 0, malware: 0, logins: 0, suspicious: 0, avHealthy: null, signatureAgeDays: null }; hosts.set(host, h) }
    return h
  }
  for (const s of await antivirus(q, target, r)) {
    const h = row(s.host)
    h.avHealthy = s.healthy
    h.signatureAgeDays = s.sig
  }
  for (const s of byKind!) {
    const n = s.values.reduce((a, v) => a + (col(s, 'n')(v) ?? 0), 0)
    const h = row(s.tags['host'] ?? '')
    switch (s.tags['kind']) {
      case 'logon_failure': h.failures += n; break
      case 'lockout': h.lockouts += n; break
      case 'logon': h.logins += n; break
      default: h.malware += n
    }
  }
  for (const s of fired ?? []) row(s.tags['host'] ?? '').suspicious += s.values.reduce((a, v) => a + (col(s, 'n')(v) ?? 0), 0)

  const days = new Map<string, LoginDay>(m.days.map(d => [d, { date: d, business: false, logins: 0, failures: 0, hosts: 0 }]))
  for (const d of m.days) days.get(d)!.business = cal.closedReason({ ...localTime(noonOf(d, m), m.timezone) }) === undefined
  for (const s of daily!) {
    for (const v of s.values) {
      const n = col(s, 'n')(v) ?? 0
      if (n === 0) continue
      const d = days.get(localTime(Number(v[0]), m.timezone).date)
      if (d === undefined) continue
      if (s.tags['kind'] === 'logon') { d.logins += n; d.hosts++ } else d.failures += n
    }
  }
  return {
    hosts: [...hosts.values()].sort((a, b) => a.host.localeCompare(b.host)),
    days: [...days.values()].filter(d => d.business || d.logins > 0 || d.failures > 0)
  }
}

/**
 * antivirus reads the defender check per host: the 5-minute rollups (every numeric
 * field is rolled up) where they hold the month, else the raw results.
 */
async function antivirus (q: InfluxQL, t: Pick<InfluxTarget, 'rawRp' | 'rollupRp'>, r: Range): Promise<Array<{ host: string, healthy: number | null, sig: number | null }>> {
  const from = (rp: string | undefined): string => rp === undefined ? '"service"' : `${ident(rp)}."service"`
  const where = `WHERE ${timeCond(r)} AND "check" = 'defender' GROUP BY "host"`
  const [roll, raw] = await q.query([
    `SELECT mean("up_mean") AS "up", last("signature_age_days_max") AS "sig" FROM ${from(t.rollupRp)} ${where}`,
    `SELECT mean("up") AS "up", last("signature_age_days") AS "sig" FROM ${from(t.rawRp)} ${where}`
  ])
  const rows = (roll!.some(s => s.values.some(v => typeof v[1] === 'number')) ? roll : raw)!
  return rows.map(s => {
    const v = s.values[0] ?? []
    const up = col(s, 'up')(v)
    return { host: s.tags['host'] ?? '', healthy: up === null ? null : 100 * up, sig: col(s, 'sig')(v) }
  })
}

/** noonOf is a moment inside a local date of the month (noon avoids any midnight edge). */
function noonOf (date: string, m: Month): number {
  const day = Number(date.slice(8, 10))
  return m.start + (day - 1) * 86_400_000 + 12 * 3_600_000
}

export function securityTables (f: SecurityFigures, lang: Lang): Table[] {
  const w = words(lang)
  const C = (key: string, header: string, type: Column['type'], width: number): Column => ({ key, header, type, width })
  return [{
    id: 'security', sheet: 'Security', title: w('security'),
    columns: [C('host', w('host'), 'text', 16), C('failures', w('secFailures'), 'int', 12), C('lockouts', w('secLockouts'), 'int', 12), C('malware', w('secMalware'), 'int', 12), C('suspicious', w('secSuspicious'), 'int', 14), C('logins', w('secLogins'), 'int', 12),
      { ...C('avHealthy', w('secAvHealthy'), 'num', 14), digits: 1 }, { ...C('sigAge', w('secSigAge'), 'num', 14), digits: 1 }],
    rows: f.hosts.map(h => ({ host: h.host, failures: h.failures, lockouts: h.lockouts, malware: h.malware, suspicious: h.suspicious, logins: h.logins, avHealthy: h.avHealthy, sigAge: h.signatureAgeDays }))
  }, {
    id: 'logins', sheet: 'Logins', title: w('logins'),
    columns: [C('date', w('date'), 'text', 11), C('dayKind', w('dayKind'), 'text', 9), C('logins', w('secLogins'), 'int', 12), C('hosts', w('secHosts'), 'int', 12), C('failures', w('secFailures'), 'int', 12)],
    rows: f.days.map(d => ({ date: d.date, dayKind: d.business ? w('businessDay') : w('closedDay'), logins: d.logins, hosts: d.hosts, failures: d.failures }))
  }]
}

/** securityAttention: malware and lockouts first, then logins on closed days. */
export function securityAttention (f: SecurityFigures, lang: Lang): string[] {
  const w = words(lang)
  const out: string[] = []
  for (const h of f.hosts.filter(h => h.malware > 0)) out.push(w('aMalware', { host: h.host, n: h.malware }))
  const locked = f.hosts.filter(h => h.lockouts > 0)
  if (locked.length > 0) out.push(w('aLockouts', { n: locked.reduce((a, h) => a + h.lockouts, 0), who: locked.map(h => h.host).slice(0, 3).join(', ') }))
  const closed = f.days.filter(d => !d.business && d.logins > 0)
  if (closed.length > 0) out.push(w('aClosedLogins', { n: closed.reduce((a, d) => a + d.logins, 0), d: closed.map(d => d.date.slice(5)).slice(0, 3).join(', ') }))
  return out
}
