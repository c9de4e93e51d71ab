// What one 障害報告書 is made of: the 障害 (primary alert and its merged members, folded), its
// notices to users and edit history from the collector's files (read-only), and around the event
// (±1 h) the affected hosts' cpu/mem/host_up and the first log lines at detection, from InfluxDB.

import Database from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { readRecord, type IncidentRow } from '../incidents.js'
import type { Notice } from '../../alerting/incident-store.js'
import { InfluxQL, col, ident, str, type InfluxTarget } from '../influxql.js'
import { rawFrom } from '../daily/status.js'
import { keptWhere, shortLivedWhere } from '../short-lived.js'

export interface AlertLine { id: number, rule: string, severity: string, host: string, summary: string, detectedAt: number, resolvedAt: number | null }
export interface HistoryLine { at: number, actor: string, action: string, fields: string, before: string, after: string }
export interface MetricPoint { host: string, metric: 'cpu' | 'mem' | 'host_up', t: number, v: number }
export interface LogLine { t: number, host: string, level: string, source: string, message: string }
/** a line a log rule matched, as stored with its alert when it fired */
export interface MatchedLine { id: number, host: string, rule: string, n: number, line: string }
/** one target of one system the 障害 belongs to: the time it took against the minutes allowed */
export interface Judgement { system: string, key: 'recovery' | 'report' | 'notice', limitMin: number, tookMin: number | null, met: boolean | null, counted: boolean }

export interface IncidentData {
  row: IncidentRow
  alerts: AlertLine[]
  /** the lines its log rules matched (first 20 per alert) */
  matched: MatchedLine[]
  /** its times judged against the targets of each of its systems (none without systems: in the config) */
  judgements: Judgement[]
  notices: Notice[]
  history: HistoryLine[]
  metrics: MetricPoint[]
  logs: LogLine[]
  /** log lines left out: their role/site has a short log retention (influx.retention.logsBy) */
  logsHidden: number
  /** the chart window: detection − 1 h to recovery (or detection) + 1 h */
  window: { start: number, end: number }
}

const HOUR = 3_600_000
type Row = Record<string, unknown>

/** readIncident reads the 障害 with this id (a member id reads its primary); undefined when unknown. */
export function readIncident (dataDir: string, id: number, lang: 'ja' | 'en', o: Parameters<typeof readRecord>[4]): Omit<IncidentData, 'metrics' | 'logs' | 'logsHidden' | 'window' | 'judgements'> | undefined {
  const file = join(dataDir, 'alerting.db')
  if (!existsSync(file)) throw new Error(`no incident record at ${file} (is alerting: configured, and --config the collector's?)`)
  const db = new Database(file, { readonly: true, fileMustExist: true })
  let primary: Row | undefined
  let members: Row[]
  let notices: Notice[]
  try {
    db.pragma('busy_timeout = 5000')
    primary = db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as Row | undefined
    for (let hops = 0; primary !== undefined && primary['merged_into'] !== null && primary['merged_into'] !== undefined && hops < 16; hops++) {
      primary = db.prepare('SELECT * FROM incidents WHERE id = ?').get(primary['merged_into']) as Row | undefined
    }
    if (primary === undefined) return undefined
    members = db.prepare('SELECT * FROM incidents WHERE merged_into = ? ORDER BY detected_at, id').all(primary['id']) as Row[]
    const hasNotices = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'incident_notices'").get() !== undefined
    notices = hasNotices ? db.prepare('SELECT * FROM incident_notices WHERE incident_id = ? ORDER BY published_at, id').all(primary['id']) as Notice[] : []
  } finally {
    db.close()
  }
  const pid = Number(primary['id'])
  const detected = Number(primary['detected_at'])
  // readRecord folds the members and judges the figures the same way the monthly report does.
  const row = readRecord(dataDir, detected, detected + 1, lang, o).incidents.find(r => r.id === pid)
  if (row === undefined) return undefined
  const en = lang === 'en'
  const alerts = [primary, ...members].map((r): AlertLine => ({
    id: Number(r['id']), rule: String(r['rule']), severity: String(r['severity']), host: String(r['host']),
    summary: String((en ? r['summary_en'] : r['summary']) || r['summary'] || ''),
    detectedAt: Number(r['detected_at']), resolvedAt: r['resolved_at'] === null ? null : Number(r['resolved_at'])
  }))
  const matched = [primary, ...members].flatMap(r => (JSON.parse(String(r['matched_lines'] ?? '[]')) as string[])
    .map((line, i): MatchedLine => ({ id: Number(r['id']), host: String(r['host']), rule: String(r['rule']), n: i + 1, line })))
  return { row, alerts, matched, notices, history: readHistory(dataDir, alerts.map(a => a.id)) }
}

/** readHistory lists the audited edits, merges and notices of these incidents, oldest first. */
function readHistory (dataDir: string, ids: readonly number[]): HistoryLine[] {
  const file = join(dataDir, 'audit.db')
  if (!existsSync(file)) return []
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    db.pragma('busy_timeout = 5000')
    const rows = db.prepare(`SELECT id, at, actor, action, detail FROM audit WHERE action LIKE 'incident.%' AND json_extract(detail, '$.incident') IN (${ids.map(() => '?').join(',')}) ORDER BY id`).all(...ids) as Row[]
    return rows.map(r => {
      const d = JSON.parse(String(r['detail'])) as { before?: Record<string, unknown>, after?: Record<string, unknown>, message?: string }
      const fields = Object.keys(d.after ?? {})
      return {
        at: Number(r['at']), actor: String(r['actor']), action: String(r['action']), fields: fields.join(', '),
        before: fields.map(f => `${f}: ${show(d.before?.[f])}`).join('\n'),
        after: d.message !== undefined ? d.message : fields.map(f => `${f}: ${show(d.after?.[f])}`).join('\n')
      }
    })
  } finally {
    db.close()
  }
}

function show (v: unknown): string {
  if (v === null || v === undefined) return '—'
  return typeof v === 'string' ? v : JSON.stringify(v)
}

/** aroundEvent reads cpu, mem and host_up per minute for the hosts, and the first log lines at detection (none of logsBy's roles/sites, counted). */
export async function aroundEvent (target: InfluxTarget, hosts: readonly string[], detectedAt: number, resolvedAt: number | null, maxLogLines = 20): Promise<Pick<IncidentData, 'metrics' | 'logs' | 'logsHidden' | 'window'>> {
  const window = { start: detectedAt - HOUR, end: (resolvedAt ?? detectedAt) + HOUR }
  if (hosts.length === 0) return { metrics: [], logs: [], logsHidden: 0, window }
  const q = new InfluxQL(target)
  const hostCond = `(${hosts.map(h => `"host" = ${str(h)}`).join(' OR ')})`
  const w = `time >= ${window.start}ms AND time < ${window.end}ms AND ${hostCond}`
  const fields: Array<[MetricPoint['metric'], string]> = [['cpu', 'usage_percent'], ['mem', 'used_percent'], ['host_up', 'up']]
  // Log lines from 10 minutes before detection: what the hosts said as the trouble began.
  const logW = `time >= ${detectedAt - 10 * 60_000}ms AND time < ${detectedAt + 30 * 60_000}ms AND ${hostCond}`
  const kept = keptWhere(target.logsBy ?? [])
  const short = shortLivedWhere(target.logsBy ?? [])
  const logFrom = rawFrom(target.logsRp ?? target.rawRp, 'log_event')
  const res = await q.query([
    ...fields.map(([m, f]) => `SELECT mean(${ident(f)}) AS "v" FROM ${rawFrom(target.rawRp, m)} WHERE ${w} GROUP BY time(1m), "host" fill(none)`),
    `SELECT "message", "level", "source", "host" FROM ${logFrom} WHERE ${logW}${kept === '' ? '' : ` AND ${kept}`} ORDER BY time ASC LIMIT ${maxLogLines}`,
    ...(short === undefined ? [] : [`SELECT count("message") AS "n" FROM ${logFrom} WHERE ${logW} AND ${short}`])
  ])
  const metrics: MetricPoint[] = []
  fields.forEach(([m], i) => {
    for (const s of res[i]!) {
      const v = col(s, 'v')
      const t = col(s, 'time')
      for (const r of s.values) { const x = v(r); const at = t(r); if (x !== null && at !== null) metrics.push({ host: s.tags['host'] ?? '', metric: m, t: at, v: x }) }
    }
  })
  const logs: LogLine[] = []
  for (const s of res[fields.length]!) {
    const ix = (n: string): number => s.columns.indexOf(n)
    for (const r of s.values) logs.push({ t: Number(r[ix('time')]), host: String(r[ix('host')] ?? s.tags['host'] ?? ''), level: String(r[ix('level')] ?? ''), source: String(r[ix('source')] ?? ''), message: String(r[ix('message')] ?? '') })
  }
  logs.sort((a, b) => a.t - b.t)
  const hidden = res[fields.length + 1]?.[0]
  const logsHidden = hidden?.values[0] === undefined ? 0 : col(hidden, 'n')(hidden.values[0]) ?? 0
  return { metrics, logs: logs.slice(0, maxLogLines), logsHidden, window }
}
