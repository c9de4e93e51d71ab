// kanshi-report --quarter / --fiscal-year / --from --to: each business system
// against its targets month by month with the fiscal-year-to-date major count,
// and the host- and service-level figures per month; the same files as the
// monthly report (report.html, report.xlsx, <table>.csv, report.pdf).

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CollectorConfig } from '../../config.js'
import { figureInputs } from '../report.js'
import { monthFigures, type MonthFigures } from '../figures.js'
import { InfluxQL } from '../influxql.js'
import { startedMonths, type Period } from '../period.js'
import type { Table } from '../tables.js'
import { writeXlsx } from '../xlsx.js'
import { writeCsvs } from '../csv.js'
import { pdfBeside } from '../pdf.js'
import type { Lang } from '../i18n.js'
import { systemFigures, type SystemPeriod } from './figures.js'
import { systemTables } from './tables.js'
import { monthTables } from './month-tables.js'
import { periodHtml, periodTitle } from './period-html.js'

export interface PeriodRun {
  config: CollectorConfig
  period: Period
  outDir: string
  lang: Lang
  pdf: boolean
  now: number
}

export interface PeriodResult {
  files: string[]
  pdfSkipped: string | undefined
  /** the months reported (a fiscal year run mid-year stops at the current month) */
  months: MonthFigures[]
  systems: SystemPeriod[]
  tables: Table[]
  influxUrl: string
}

export async function runPeriodReport (o: PeriodRun): Promise<PeriodResult> {
  const inputs = figureInputs(o.config, o.lang)
  const q = new InfluxQL(inputs.influx)
  const months = startedMonths(o.period, o.now)
  if (months.length === 0) throw new Error(`${o.period.id} has not begun yet (it starts on ${o.period.months[0]!.days[0]})`)
  // All months at once: InfluxDB answers them on every core while the record is read.
  const [figures, systems] = await Promise.all([Promise.all(months.map(async m => await monthFigures(m, inputs, q, true))), systemFigures(o.config, inputs, months, q)])
  const tables = [...systemTables(systems, o.lang, o.config.alerting?.publicUrl), ...monthTables(figures, o.lang, o.config.report.targets.notifyWithinMin)]
  mkdirSync(o.outDir, { recursive: true })
  const tz = o.period.timezone
  const files: string[] = []
  const html = join(o.outDir, 'report.html')
  writeFileSync(html, periodHtml({ period: o.period, months, systems, tables, lang: o.lang, generatedAt: o.now, noData: figures.every(f => Object.values(f.tiers).every(x => x === 'none')) }))
  files.push('report.html')
  await writeXlsx(join(o.outDir, 'report.xlsx'), tables, tz, { title: periodTitle(o.period, o.lang), month: o.period.id })
  files.push('report.xlsx')
  files.push(...writeCsvs(o.outDir, tables, tz))
  const pdf = await pdfBeside(html, o.pdf)
  if ('file' in pdf) files.push(pdf.file)
  const pdfSkipped = 'skipped' in pdf ? pdf.skipped : undefined
  return { files, pdfSkipped, months: figures, systems, tables, influxUrl: inputs.influx.url }
}
