// The 障害報告書's tables, built once: incident.html and incident.xlsx both render these.

import type { Column, Cell } from '../tables.js'
import type { IncidentData } from './data.js'
import { incidentWords, type IncidentWord } from './words.js'
import type { Lang } from '../i18n.js'

export interface IncidentTable { id: string, sheet: string, title: string, columns: Column[], rows: Array<Record<string, Cell>> }

/** timeline: the six moments of a 障害, with minutes from detection (null when not recorded). */
export function timeline (d: Pick<IncidentData, 'row'>): Array<{ key: IncidentWord, at: number | null }> {
  const r = d.row
  return [
    { key: 'detected', at: r.detectedAt }, { key: 'notified', at: r.notifiedAt }, { key: 'acknowledged', at: r.ackedAt },
    { key: 'userNotice', at: r.userNoticeAt }, { key: 'recovered', at: r.resolvedAt }, { key: 'confirmed', at: r.confirmedRecoveryAt }
  ]
}

const MEASURE = { recovery: 'measureRecovery', report: 'measureReport', notice: 'measureNotice' } as const

export function buildIncidentTables (d: IncidentData, lang: Lang): IncidentTable[] {
  const w = incidentWords(lang)
  const C = (key: string, header: IncidentWord, type: Column['type'], width: number, digits?: number): Column => ({ key, header: w(header), type, width, ...(digits !== undefined ? { digits } : {}) })
  const r = d.row
  const yes = (b: boolean): string => b ? w('yes') : w('no')
  const summary: Array<[IncidentWord, Cell]> = [
    ['id', r.id], ['systems', r.systems.join(', ')], ['hosts', r.hosts.join(', ')], ['severity', r.severity],
    ['serviceAffecting', yes(r.serviceAffecting)], ['major', yes(r.major)], ['exempt', r.exempt === null ? w('no') : r.exempt.category],
    ['exemptReason', r.exempt?.reason ?? ''], ['durationMin', Math.round(r.durationMin)],
    ['cause', r.writeUp.cause], ['impact', r.writeUp.impact], ['affectedUsers', r.writeUp.affectedUsers], ['actions', r.writeUp.actions], ['prevention', r.writeUp.prevention]
  ]
  return [
    { id: 'summary', sheet: w('sheetSummary'), title: w('writeUp'), columns: [C('k', 'event', 'text', 22), C('v', 'writeUp', 'text', 80)], rows: summary.map(([k, v]) => ({ k: w(k), v })) },
    {
      id: 'timeline', sheet: w('sheetTimeline'), title: w('timeline'),
      columns: [C('event', 'event', 'text', 22), C('at', 'time', 'datetime', 18), C('min', 'fromDetection', 'num', 12, 0)],
      rows: timeline(d).map(e => ({ event: w(e.key), at: e.at, min: e.at === null ? null : Math.round((e.at - r.detectedAt) / 60_000) }))
    },
    {
      id: 'alerts', sheet: w('sheetAlerts'), title: w('alerts'),
      columns: [C('id', 'id', 'int', 8), C('severity', 'severity', 'text', 10), C('host', 'host', 'text', 14), C('rule', 'rule', 'text', 16), C('summary', 'summary', 'text', 40), C('detected', 'detected', 'datetime', 18), C('resolved', 'resolved', 'datetime', 18)],
      rows: d.alerts.map(a => ({ id: a.id, severity: a.severity, host: a.host, rule: a.rule, summary: a.summary, detected: a.detectedAt, resolved: a.resolvedAt }))
    },
    {
      id: 'notices', sheet: w('sheetNotices'), title: w('notices'),
      columns: [C('published', 'published', 'datetime', 18), C('message', 'message', 'text', 60), C('expected', 'expected', 'datetime', 18), C('by', 'by', 'text', 20), C('corrected', 'corrected', 'datetime', 18), C('withdrawn', 'withdrawn', 'datetime', 18)],
      rows: d.notices.map(n => ({ published: n.published_at, message: n.message, expected: n.expected_recovery_at, by: n.published_by, corrected: n.corrected_at ?? null, withdrawn: n.withdrawn_at ?? null }))
    },
    {
      id: 'targets', sheet: w('sheetTargets'), title: w('targets'),
      columns: [C('system', 'systems', 'text', 16), C('measure', 'measure', 'text', 22), C('limit', 'targetMin', 'num', 12, 0), C('took', 'tookMin', 'num', 12, 0), C('result', 'result', 'text', 10), C('counted', 'counted', 'text', 14)],
      rows: d.judgements.map(j => ({ system: j.system, measure: w(MEASURE[j.key]), limit: j.limitMin, took: j.tookMin === null ? null : Math.round(j.tookMin), result: w(j.met === null ? 'notJudged' : j.met ? 'met' : 'missed'), counted: w(j.counted ? 'countedYes' : 'countedNo') }))
    },
    {
      id: 'matched', sheet: w('sheetMatched'), title: w('matched'),
      columns: [C('id', 'id', 'int', 8), C('host', 'host', 'text', 14), C('rule', 'rule', 'text', 16), C('n', 'lineNo', 'int', 6), C('line', 'message', 'text', 90)],
      rows: d.matched.map(m => ({ id: m.id, host: m.host, rule: m.rule, n: m.n, line: m.line }))
    },
    {
      id: 'logs', sheet: w('sheetLogs'), title: d.logsHidden > 0 ? `${w('logs')} — ${w('logsHidden').replace('{n}', String(d.logsHidden))}` : w('logs'),
      columns: [C('t', 'time', 'datetime', 18), C('host', 'host', 'text', 14), C('level', 'level', 'text', 8), C('source', 'source', 'text', 24), C('message', 'message', 'text', 80)],
      rows: d.logs.map(l => ({ t: l.t, host: l.host, level: l.level, source: l.source, message: l.message }))
    },
    {
      id: 'history', sheet: w('sheetHistory'), title: w('history'),
      columns: [C('at', 'time', 'datetime', 18), C('actor', 'actor', 'text', 22), C('action', 'action', 'text', 16), C('before', 'before', 'text', 40), C('after', 'after', 'text', 40)],
      rows: d.history.map(h => ({ at: h.at, actor: h.actor, action: h.action, before: h.before, after: h.after }))
    }
  ]
}
