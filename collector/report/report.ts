// kanshi-report's work: figures for the month and the month before, the
// tables, charts, and the files (report.html, report.xlsx, one CSV per
// table, report.pdf when Chromium is there).

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CollectorConfig } from '../config.js'
import type { Window } from '../alerting/store.js'
import { InfluxQL, type InfluxTarget } from './influxql.js'
import { makeServiceHours, previousMonth, type Month } from './period.js'
import { monthFigures, type FigureInputs, type MonthFigures } from './figures.js'
import { buildTables, type Table } from './tables.js'
import { attention } from './summary.js'
import { charts } from './charts.js'
import { renderHtml } from './html.js'
import { writeXlsx } from './xlsx.js'
import { writeCsvs } from './csv.js'
import { findChromium, printPdf } from './pdf.js'
import { words, type Lang } from './i18n.js'

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
    timeoutMs: 300_000
  }
}

function figureInputs (c: CollectorConfig, lang: Lang): FigureInputs {
  const a = c.alerting
  const cal = { timezone: c.report.timezone, ...(a?.calendar ?? {}) }
  const sh = makeServiceHours(c.report.serviceHours, cal)
  const overrideHours = c.report.overrides.map(o => o.serviceHours === undefined ? undefined : makeServiceHours(o.serviceHours, cal))
  const configMaintenance: Window[] = (a?.maintenance ?? []).map((m, i) => ({
    id: -1 - i, kind: 'maintenance', name: m.name, matchers: m.match, starts_at: Date.parse(m.start), ends_at: Date.parse(m.end),
    recur_days: m.days ?? null, recur_hours: m.hours ?? null, created_by: 'config', comment: '', created_at: 0, deleted_at: null
  }))
  return { influx: influxTarget(c), dataDir: c.dataDir, report: c.report, serviceHours: sh, overrideHours, configMaintenance, lang }
}

export async function runReport (o: ReportRun): Promise<ReportResult> {
  const inputs = figureInputs(o.config, o.lang)
  const q = new InfluxQL(inputs.influx)
  const t0 = performance.now()
  const [cur, prev] = await Promise.all([monthFigures(o.month, inputs, q), monthFigures(previousMonth(o.month), inputs, q, true)])
  const queryMs = performance.now() - t0
  const tables = buildTables(cur, prev, o.config.report, o.lang)
  const att = attention(cur, o.config.report, o.lang)
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
  let pdfSkipped: string | undefined
  if (!o.pdf) pdfSkipped = 'not asked for (--no-pdf)'
  else {
    const chromium = findChromium()
    if (chromium === undefined) pdfSkipped = 'Chromium not found (install the chromium package, or set KANSHI_CHROMIUM to its path); report.html prints to PDF from any browser'
    else {
      await printPdf(chromium, html, join(o.outDir, 'report.pdf'))
      files.push('report.pdf')
    }
  }
  return { files, pdfSkipped, cur, prev, tables, attention: att, queryMs, statements: q.statements, influxUrl: inputs.influx.url }
}
