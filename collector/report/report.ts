// kanshi-report's work: figures for the month and the month before, the
// tables, charts, and the files (report.html, report.xlsx, one CSV per
// table, report.pdf when Chromium is there).

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CollectorConfig } from '../config.js'
import type { Window } from '../alerting/store.js'
import { DEFAULT_SCHEDULES } from '../alerting/config.js'
import { japanCalendar } from '../../common/holidays.js'
import { InfluxQL, type InfluxTarget } from './influxql.js'
import { makeServiceHours, previousMonth, type Month } from './period.js'
import { monthFigures, type FigureInputs, type MonthFigures } from './figures.js'
import { buildTables, type Table } from './tables.js'
import { attention } from './summary.js'
import { charts } from './charts.js'
import { renderHtml } from './html.js'
import { writeXlsx } from './xlsx.js'
import { writeCsvs } from './csv.js'
import { pdfBeside } from './pdf.js'
import { words, type Lang } from './i18n.js'
import { securityAttention } from './sections/security.js'
import { inventoryAttention } from './sections/inventory.js'
import { loadRules } from '../alerting/rules.js'
import { systemFigures, type SystemPeriod } from './systems/figures.js'
import { systemTables } from './systems/tables.js'
import { systemAttention } from './systems/attention.js'

export interface ReportRun {
  config: CollectorConfig
  month: Month
  outDir: string
  lang: Lang
  /** false: do not look for Chromium */
  pdf: boolean
  now: number
}

export interface ReportResult {
  files: string[]
  /** why there is no report.pdf, when there is none */
  pdfSkipped: string | undefined
  cur: MonthFigures
  prev: MonthFigures
  /** the business systems' figures for the month (empty without systems:) */
  systems: SystemPeriod[]
  tables: Table[]
  attention: string[]
  queryMs: number
  statements: number
  influxUrl: string
}

/** influxTarget reads where and how to query from the collector config. */
export function influxTarget (c: CollectorConfig): InfluxTarget {
  const i = c.influx
  const managed = i.retention.manage
  return {
    url: i.url ?? `http://127.0.0.1:${i.embedded.port}`,
    db: i.db,
    token: i.version === 2 ? i.token : undefined,
    username: i.username,
    password: i.password,
    rawRp: i.rp ?? (managed ? i.retention.rawPolicy : undefined),
    rollupRp: managed ? i.retention.rollupPolicy : undefined,
    logsRp: managed ? i.retention.logsPolicy : i.rp,
    logsBy: c.influxTargets.flatMap(t => t.retention.logsBy),
    timeoutMs: 300_000
  }
}

export function figureInputs (c: CollectorConfig, lang: Lang, now = Date.now()): FigureInputs {
  const a = c.alerting
  const cal = { timezone: c.report.timezone, ...(a?.calendar ?? {}) }
  const sh = makeServiceHours(c.report.serviceHours, cal)
  const overrideHours = c.report.overrides.map(o => o.serviceHours === undefined ? undefined : makeServiceHours(o.serviceHours, cal))
  const configMaintenance: Window[] = (a?.maintenance ?? []).map((m, i) => ({
    id: -1 - i, kind: 'maintenance', name: m.name, matchers: m.match, starts_at: Date.parse(m.start), ends_at: Date.parse(m.end),
    recur_days: m.days ?? null, recur_hours: m.hours ?? null, created_by: 'config', comment: '', created_at: 0, deleted_at: null
  }))
  const expectedJobs = { jobs: c.jobs, calendar: japanCalendar(cal), schedules: a?.schedules ?? DEFAULT_SCHEDULES, now }
  return { influx: influxTarget(c), dataDir: c.dataDir, report: c.report, serviceHours: sh, overrideHours, configMaintenance, lang, logRules: logRuleNames(c), expectedJobs }
}

/** logRuleNames lists the log rules of alerting.rulesDir; none without alerting (the report then counts no suspicious matches). */
function logRuleNames (c: CollectorConfig): string[] {
  const a = c.alerting
  if (a === undefined) return []
  try {
    return loadRules(a.rulesDir, new Set(a.schedules.map(s => s.name))).filter(r => r.type === 'log').map(r => r.name)
  } catch { return [] }
}

export async function runReport (o: ReportRun): Promise<ReportResult> {
  const inputs = figureInputs(o.config, o.lang, o.now)
  const q = new InfluxQL(inputs.influx)
  const t0 = performance.now()
  const [cur, prev, systems] = await Promise.all([monthFigures(o.month, inputs, q), monthFigures(previousMonth(o.month), inputs, q, true), systemFigures(o.config, inputs, [o.month], q)])
  const queryMs = performance.now() - t0
  const tables = [...buildTables(cur, prev, o.config.report, o.lang), ...systemTables(systems, o.lang, o.config.alerting?.publicUrl)]
  // A missed system target leads the list: it is what the client's SLA judges.
  const att = [...systemAttention(systems, o.lang, 3), ...attention(cur, o.config.report, o.lang), ...securityAttention(cur.security, o.lang), ...inventoryAttention(cur.inventory, o.lang, o.config.report.inventory.maxUpdateAgeDays)]
  const svg = await charts(cur, o.config.report, o.lang)
  mkdirSync(o.outDir, { recursive: true })
  const tz = o.month.timezone
  const files: string[] = []
  const html = join(o.outDir, 'report.html')
  writeFileSync(html, renderHtml({ cur, tables, attention: att, charts: svg, config: o.config.report, lang: o.lang, generatedAt: o.now }))
  files.push('report.html')
  await writeXlsx(join(o.outDir, 'report.xlsx'), tables, tz, { title: words(o.lang)('title'), month: o.month.id })
  files.push('report.xlsx')
  files.push(...writeCsvs(o.outDir, tables, tz))
  const pdf = await pdfBeside(html, o.pdf)
  if ('file' in pdf) files.push(pdf.file)
  const pdfSkipped = 'skipped' in pdf ? pdf.skipped : undefined
  return { files, pdfSkipped, cur, prev, systems, tables, attention: att, queryMs, statements: q.statements, influxUrl: inputs.influx.url }
}
