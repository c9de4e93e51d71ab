// The daily report's tables and its "what needs action" lines, built once
// from the figures: the page, the workbook and the mail body render these.

import type { ReportConfig } from '../config.js'
import { localStamp, type Cell, type ColType, type Column, type Table } from '../tables.js'
import { words, type Lang, type WordKey } from '../i18n.js'
import type { DailyFigures } from './figures.js'
import { isError } from './status.js'

export interface DailyTable extends Omit<Table, 'id'> {
  id: 'action' | 'overview' | 'incidents' | 'runs' | 'expected' | 'status' | 'disks' | 'certs' | 'logs' | 'agents'
}

export interface ActionItem { category: string, text: string }

/** needsAction lists what needs someone, in the order of the page: incidents, jobs, status, disks, certificates, logs, agents. */
export function needsAction (f: DailyFigures, c: ReportConfig, lang: Lang): ActionItem[] {
  const w = words(lang)
  const tz = f.window.timezone
  const ts = (t: number): string => localStamp(t, tz).slice(5)
  const out: ActionItem[] = []
  const add = (k: WordKey, text: string): void => { out.push({ category: w(k), text }) }
  const n = c.targets.notifyWithinMin
  for (const i of f.incidents.rows.filter(x => x.open)) add('cIncident', w('aOpenIncident', { id: i.id, host: i.host, summary: i.summary, at: ts(i.detectedAt) }))
  for (const i of f.incidents.rows.filter(x => x.notifiedInTime === false)) {
    add('cIncident', w('aLateNotice', { id: i.id, host: i.host, n, v: i.notifyMin === null ? w('aNotNotified') : w('aNoticeAfter', { m: round1(i.notifyMin) }) }))
  }
  const who = (host: string, job: string): string => host === '' ? job : `${host} / ${job}`
  for (const e of f.expected.filter(x => x.state === 'missed')) add('cJob', w('aJobMissed', { who: who(e.host, e.job), at: ts(e.due) }))
  for (const r of f.runs.filter(x => x.state === 'failed')) add('cJob', w('aJobFailed', { who: who(r.host, r.job), code: r.exitCode, at: ts(r.finished) }))
  for (const r of lateRuns(f)) add('cJob', w('aJobLate', { who: who(r.host, r.job), at: ts(r.finished) }))
  for (const s of f.status.filter(x => x.state !== 'up')) {
    const name = s.kind === 'host' ? s.host : `${s.host} / ${s.service}`
    add('cStatus', s.state === 'down' ? w('aDown', { who: name, at: s.lastUpAt === null ? '—' : ts(s.lastUpAt) }) : w('aStale', { who: name, at: s.at === null ? '—' : ts(s.at) }))
  }
  for (const d of f.disks) add('cDisk', w('aDiskDaily', { who: `${d.host} ${d.mount}`, d: d.fullAt === null ? '—' : localStamp(Math.max(d.fullAt, d.endAt), tz).slice(0, 10), v: d.end.toFixed(1) }))
  for (const x of f.certs) add('cCert', w('aCert', { who: `${x.host} / ${x.service}`, d: x.daysLeft }))
  const errors = new Map<string, { n: number, top: { message: string, count: number } | undefined }>()
  for (const l of f.logs.filter(x => isError(x.level))) {
    const e = errors.get(l.host) ?? { n: 0, top: undefined }
    e.n += l.count
    if (l.top[0] !== undefined && (e.top === undefined || l.top[0].count > e.top.count)) e.top = l.top[0]
    errors.set(l.host, e)
  }
  for (const [host, e] of errors) add('cLog', w('aLogErrors', { host, n: e.n, m: e.top === undefined ? '—' : `${clip(e.top.message)} ×${e.top.count}` }))
  const d = c.daily
  for (const a of f.agents) {
    if (a.spoolLast !== null && a.spoolLast >= d.spoolBatches) add('cAgent', w('aSpool', { host: a.host, n: a.spoolLast }))
    if (a.skewLast !== null && Math.abs(a.skewLast) >= d.clockSkewMs) add('cAgent', w('aSkew', { host: a.host, n: Math.round(a.skewLast) }))
  }
  return out
}

export function buildDailyTables (f: DailyFigures, action: ActionItem[], c: ReportConfig, lang: Lang): DailyTable[] {
  const w = words(lang)
  const C = (key: WordKey, type: ColType, width: number, digits?: number, header?: string): Column =>
    ({ key, header: header ?? w(key), type, width, ...(digits !== undefined ? { digits } : {}) })
  const n = c.targets.notifyWithinMin
  const state = (s: string): string => ({ ok: w('sOk'), failed: w('sFailed'), late: w('sLate'), missed: w('sMissed'), up: w('sUp'), down: w('sDown'), stale: w('sStale') })[s] ?? s
  const inc = f.incidents.rows
  const errorsN = f.logs.filter(l => isError(l.level)).reduce((s, l) => s + l.count, 0)
  const warnN = f.logs.filter(l => !isError(l.level)).reduce((s, l) => s + l.count, 0)
  const agentsToCheck = f.agents.filter(a => (a.spoolLast ?? 0) >= c.daily.spoolBatches || Math.abs(a.skewLast ?? 0) >= c.daily.clockSkewMs).length
  const overview: Array<[WordKey, number, Record<string, number>?]> = [
    ['oOpened', inc.filter(i => i.opened).length], ['oOpen', inc.filter(i => i.open).length], ['oResolved', inc.filter(i => i.resolvedIn).length],
    ['oLateNotice', inc.filter(i => i.notifiedInTime === false).length, { n }],
    ['oRuns', f.runs.length], ['oFailed', f.runs.filter(r => r.state === 'failed').length], ['oLate', lateRuns(f).length],
    ['oMissed', f.expected.filter(e => e.state === 'missed').length], ['oDown', f.status.filter(s => s.state !== 'up').length],
    ['oDisks', f.disks.length], ['oCerts', f.certs.length], ['oLogErrors', errorsN], ['oLogWarnings', warnN], ['oAgents', agentsToCheck]
  ]
  return [
    { id: 'action', sheet: 'Action', title: w('dNeedsAction'), columns: [C('category', 'text', 12), C('item', 'text', 90)], rows: action.map(a => ({ category: a.category, item: a.text })) },
    { id: 'overview', sheet: 'Overview', title: w('dOverview'), columns: [C('item', 'text', 36), C('count', 'int', 10)], rows: overview.map(([k, v, vars]) => ({ item: w(k, vars), count: v })) },
    {
      id: 'incidents', sheet: 'Incidents', title: w('dIncidents'),
      columns: [C('id', 'int', 6), C('severity', 'text', 9), C('host', 'text', 14), C('summaryCol', 'text', 36), C('detected', 'datetime', 17), C('notified', 'datetime', 17),
        C('notifyMin', 'num', 10, 1), C('inTime', 'text', 10, undefined, w('inTime', { n })), C('acked', 'datetime', 17), C('ackedBy', 'text', 12), C('resolved', 'datetime', 17),
        C('duration', 'num', 10, 1), C('state', 'text', 8), C('openedIn', 'text', 10), C('muted', 'text', 10), C('rule', 'text', 18)],
      rows: inc.map(i => ({
        id: i.id, severity: i.severity, host: i.host, summaryCol: i.summary, detected: i.detectedAt, notified: i.notifiedAt, notifyMin: i.notifyMin,
        inTime: i.notifiedInTime === null ? w('na') : i.notifiedInTime ? w('yes') : w('no'), acked: i.ackedAt, ackedBy: i.ackedBy, resolved: i.resolvedAt,
        duration: i.durationMin, state: i.open ? w('open') : w('sResolved'), openedIn: i.opened ? w('yes') : '',
        muted: i.muted === 'maintenance' ? w('mutedMaintenance') : i.muted === 'silence' ? w('mutedSilence') : '', rule: i.rule
      }))
    },
    {
      id: 'runs', sheet: 'Jobs', title: w('dRuns'),
      columns: [C('host', 'text', 14), C('jobName', 'text', 20), C('started', 'datetime', 17), C('finished', 'datetime', 17), C('exitCode', 'int', 9), C('state', 'text', 8), C('message', 'text', 50)],
      rows: f.runs.map(r => ({ host: r.host, jobName: r.job, started: r.started, finished: r.finished, exitCode: r.exitCode, state: state(r.state), message: r.message }))
    },
    {
      id: 'expected', sheet: 'Expected', title: w('dExpected'),
      columns: [C('host', 'text', 14), C('jobName', 'text', 20), C('due', 'datetime', 17), C('finished', 'datetime', 17), C('exitCode', 'int', 9), C('state', 'text', 8)],
      rows: f.expected.map(e => ({ host: e.host === '' ? (e.run?.host ?? w('anyHost')) : e.host, jobName: e.job, due: e.due, finished: e.run?.finished ?? null, exitCode: e.run?.exitCode ?? null, state: state(e.state) }))
    },
    {
      id: 'status', sheet: 'Status', title: w('dStatus'),
      columns: [C('kind', 'text', 9), C('host', 'text', 14), C('role', 'text', 9), C('service', 'text', 16), C('check', 'text', 9), C('state', 'text', 9), C('lastSample', 'datetime', 17), C('lastUp', 'datetime', 17), C('message', 'text', 40)],
      rows: f.status.map(s => ({ kind: s.kind === 'host' ? w('kindHost') : w('kindService'), host: s.host, role: s.role, service: s.service, check: s.check, state: state(s.state), lastSample: s.at, lastUp: s.lastUpAt, message: s.message }))
    },
    {
      id: 'disks', sheet: 'Disks', title: w('dDisks', { n: c.daily.diskFullWithinDays }),
      columns: [C('host', 'text', 14), C('mount', 'text', 14), C('size', 'num', 9, 1), C('endPct', 'num', 11, 1, w('percentNow')), C('growth', 'num', 13, 2), C('fullAt', 'date', 12)],
      rows: f.disks.map(d => ({ host: d.host, mount: d.mount, size: d.sizeBytes === null ? null : d.sizeBytes / 1e9, endPct: d.end, growth: d.growth30d, fullAt: d.fullAt === null ? null : Math.max(d.fullAt, d.endAt) }))
    },
    {
      id: 'certs', sheet: 'Certificates', title: w('dCerts', { n: c.daily.certDays }),
      columns: [C('host', 'text', 14), C('service', 'text', 20), C('daysLeft', 'int', 10), C('lastSample', 'datetime', 17)],
      rows: f.certs.map(x => ({ host: x.host, service: x.service, daysLeft: x.daysLeft, lastSample: x.at }))
    },
    {
      id: 'logs', sheet: 'Logs', title: w('dLogs'),
      columns: [C('host', 'text', 14), C('level', 'text', 9), C('count', 'int', 9), C('topMessages', 'text', 80)],
      rows: f.logs.map(l => ({ host: l.host, level: l.level, count: l.count, topMessages: [...l.top.map(m => `${clip(m.message)} ×${m.count}`), ...(l.hidden > 0 ? [w('logsHidden', { n: l.hidden })] : [])].join(' / ') }))
    },
    {
      id: 'agents', sheet: 'Agents', title: w('dAgents'),
      columns: [C('host', 'text', 14), C('spoolLast', 'int', 12), C('spoolMax', 'int', 12), C('skewLast', 'int', 12), C('skewMax', 'int', 12)],
      rows: f.agents.map(a => ({ host: a.host, spoolLast: a.spoolLast, spoolMax: a.spoolMax, skewLast: a.skewLast, skewMax: a.skewMaxAbs } satisfies Record<string, Cell>))
    }
  ]
}

/** lateRuns: runs past the wrapper's own --deadline, or past their report.jobs deadline. */
function lateRuns (f: DailyFigures): DailyFigures['runs'] {
  const lateExpected = new Set(f.expected.filter(e => e.state === 'late').map(e => e.run))
  return f.runs.filter(x => x.state === 'late' || (x.state === 'ok' && lateExpected.has(x)))
}

function round1 (x: number): number {
  return Math.round(x * 10) / 10
}

function clip (s: string): string {
  return s.length > 120 ? `${s.slice(0, 119)}…` : s
}
