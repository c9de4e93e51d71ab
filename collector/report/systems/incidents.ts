// A business system's incidents (障害) against its targets: recovery time, the
// report to the client's staff (mail) and the notice to users (告知) within
// noticeMinutes, major incidents. Only service-affecting, non-exempt incidents count.

import type { SystemConfig } from '../../config/systems.js'
import { hostInSystem } from '../../config/systems.js'
import type { IncidentRow } from '../incidents.js'

export interface SystemIncident {
  row: IncidentRow
  /** counts for the SLA: service-affecting, not exempt, not in planned maintenance */
  counted: boolean
  /** minutes from detection to the confirmed recovery (復旧確認時刻), else to the recovery; null while open */
  recoveryMin: number | null
  recoveryMet: boolean | null
  /** mail (障害発生報告) and user notice (障害発生告知) within noticeMinutes; null when not judged */
  reportMet: boolean | null
  noticeMet: boolean | null
}

export interface SystemIncidentStats {
  counted: number
  /** counted incidents judged for recovery (recovered, or open past the target) and those recovered in time */
  recoveryJudged: number
  recoveryMet: number
  /** longest recovery among the counted, recovered incidents, minutes */
  recoveryMaxMin: number | null
  reportJudged: number
  reportInTime: number
  noticeJudged: number
  noticeInTime: number
  major: number
  exempt: number
  /** incidents of the system that did not affect service (warnings and the like) */
  notServiceAffecting: number
}

/** belongsTo: the incident names the system, or (an older record without systems) its host is one of the system's. */
export function belongsTo (r: IncidentRow, sys: SystemConfig): boolean {
  return r.systems.length > 0 ? r.systems.includes(sys.name) : hostInSystem(sys, r.host, {})
}

/** judged: a step due within limit minutes is met when done in time, missed when late or not done; not judged when recovery came first. */
function judged (doneMin: number | null, r: IncidentRow, limitMin: number): boolean | null {
  if (doneMin !== null) return doneMin <= limitMin
  if (r.resolvedAt !== null && (r.resolvedAt - r.detectedAt) / 60_000 <= limitMin) return null
  return false
}

/** systemIncident judges one incident; asOf (the period's end) decides an incident still open: missed once it has outlasted the target. */
export function systemIncident (r: IncidentRow, sys: SystemConfig, asOf = Number.NEGATIVE_INFINITY): SystemIncident {
  const recoveredAt = r.confirmedRecoveryAt ?? r.resolvedAt
  const recoveryMin = recoveredAt === null ? null : (recoveredAt - r.detectedAt) / 60_000
  const limit = sys.targets.recoveryMinutes
  return {
    row: r,
    counted: r.serviceAffecting && r.exempt === null && r.muted !== 'maintenance',
    recoveryMin,
    recoveryMet: recoveryMin !== null ? recoveryMin <= limit : (asOf - r.detectedAt) / 60_000 > limit ? false : null,
    reportMet: r.muted !== '' ? null : judged(r.notifyMin, r, sys.targets.noticeMinutes),
    noticeMet: r.muted !== '' ? null : judged(r.userNoticeMin, r, sys.targets.noticeMinutes)
  }
}

export function systemIncidentStats (list: readonly SystemIncident[]): SystemIncidentStats {
  const c = list.filter(i => i.counted)
  const rec = c.filter(i => i.recoveryMet !== null)
  const done = c.filter(i => i.recoveryMin !== null)
  const rep = c.filter(i => i.reportMet !== null)
  const not = c.filter(i => i.noticeMet !== null)
  return {
    counted: c.length,
    recoveryJudged: rec.length,
    recoveryMet: rec.filter(i => i.recoveryMet === true).length,
    recoveryMaxMin: done.length > 0 ? Math.max(...done.map(i => i.recoveryMin!)) : null,
    reportJudged: rep.length,
    reportInTime: rep.filter(i => i.reportMet === true).length,
    noticeJudged: not.length,
    noticeInTime: not.filter(i => i.noticeMet === true).length,
    major: c.filter(i => i.row.major).length,
    exempt: list.filter(i => i.row.exempt !== null).length,
    notServiceAffecting: list.filter(i => !i.row.serviceAffecting && i.row.exempt === null).length
  }
}

export function addStats (a: SystemIncidentStats, b: SystemIncidentStats): SystemIncidentStats {
  const out = { ...a }
  for (const k of ['counted', 'recoveryJudged', 'recoveryMet', 'reportJudged', 'reportInTime', 'noticeJudged', 'noticeInTime', 'major', 'exempt', 'notServiceAffecting'] as const) out[k] = a[k] + b[k]
  out.recoveryMaxMin = a.recoveryMaxMin === null ? b.recoveryMaxMin : b.recoveryMaxMin === null ? a.recoveryMaxMin : Math.max(a.recoveryMaxMin, b.recoveryMaxMin)
  return out
}

export interface Span { start: number, end: number }

/**
 * excludedSpans are the [detection, recovery) spans availability leaves out: exempt incidents, and
 * those an operator marked not service-affecting (a warning judged by its severity is not a span).
 * Time inside a counted incident always counts.
 */
export function excludedSpans (list: readonly SystemIncident[], end: number): { exempt: Span[], notServiceAffecting: Span[], counted: Span[] } {
  const span = (i: SystemIncident): Span => ({ start: i.row.detectedAt, end: i.row.confirmedRecoveryAt ?? i.row.resolvedAt ?? end })
  const unplanned = list.filter(i => i.row.muted !== 'maintenance')
  return {
    exempt: unplanned.filter(i => i.row.exempt !== null).map(span),
    notServiceAffecting: unplanned.filter(i => i.row.exempt === null && i.row.serviceAffectingSet && !i.row.serviceAffecting).map(span),
    counted: list.filter(i => i.counted).map(span)
  }
}

/** writeUpFlags are what the review meeting must still settle for an incident: blank write-up parts, no confirmed recovery, impact judged automatically. */
export function writeUpFlags (i: SystemIncident): { missing: Array<'cause' | 'actions' | 'prevention'>, unconfirmed: boolean, autoImpact: boolean } {
  const wu = i.row.writeUp
  const missing = i.counted ? (['cause', 'actions', 'prevention'] as const).filter(k => wu[k].trim() === '') : []
  return { missing, unconfirmed: i.counted && i.row.confirmedRecoveryAt === null, autoImpact: i.row.muted !== 'maintenance' && i.row.exempt === null && !i.row.serviceAffectingSet }
}
