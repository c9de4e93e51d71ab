// kanshi-report: the monthly capacity and SLA report (月次報告書) or the daily
// operations report (日次業務報告書) from InfluxDB and the collector's incident record.

import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { runMain } from '../../common/config.js'
import { VERSION } from '../../protocol/version.js'
import { checkCollectorConfig, loadCollectorConfig } from '../config.js'
import { lastMonth, makeMonth, parseMonth, type Month } from './period.js'
import { runReport } from './report.js'
import { periodArg } from './period-args.js'
import { runPeriodReport } from './systems/period-report.js'
import { runDailyReport } from './daily/index.js'
import { dayWindow, parseDay, today } from './daily/window.js'
import { calendarOf } from './daily/figures.js'
import { INCIDENT_HELP, INCIDENT_OPTION, incidentCli } from './incident/cli.js'

const HELP = `kanshi-report — the monthly capacity and SLA report (月次報告書), the quarter and
fiscal-year service-level report (サービスレベル報告書) and the daily operations report (日次業務報告書)

Usage:
  kanshi-report --month YYYY-MM --out DIR [--config FILE] [--lang ja|en] [--no-pdf]
  kanshi-report --quarter YYYYQn | --fiscal-year YYYY --out DIR [...]
  kanshi-report --from YYYY-MM-DD --to YYYY-MM-DD --out DIR [...]
  kanshi-report --day YYYY-MM-DD --out DIR [--config FILE] [--lang ja|en] [--no-pdf]
${INCIDENT_HELP}  kanshi-report --help | --version

  --month YYYY-MM   the month, in report.timezone (default: the month before this one)
  --quarter YYYYQn  a calendar quarter (2026Q3 = Jul–Sep 2026 = 令和8年度 第2四半期): each
                    business system (systems:) against its targets month by month, the
                    fiscal-year-to-date major incidents, and the host-level figures per month
  --fiscal-year YYYY  the fiscal year April YYYY – March YYYY+1, the same way; run before
                    its end it covers the months begun so far
  --from YYYY-MM-DD --to YYYY-MM-DD
                    the days from..to, both included: within one month, the monthly report
                    of those days (a March report due before month end); else like --quarter
  --day YYYY-MM-DD  the daily report of that day (or "today", in report.timezone): from
                    the previous business day's opening to this day's opening
                    (report.serviceHours and the calendar); writes daily.html,
                    daily.xlsx and daily.pdf and prints what needs action
${INCIDENT_OPTION}  --out DIR         where to write report.html, report.xlsx, <table>.csv and report.pdf
                    (daily.* with --day)
  --config FILE     the collector's config: InfluxDB (influx:), the incident record
                    (dataDir/alerting.db), calendar and maintenance (alerting:),
                    targets (report:); default: every default
  --lang ja|en      language of the report (default ja)
  --no-pdf          do not print report.pdf even when Chromium is installed

report.pdf needs Chromium (chromium on PATH, or KANSHI_CHROMIUM=/path/to/chrome).
Every figure is defined in docs/report.md.
`

async function main (argv: string[]): Promise<number> {
  let values
  try {
    values = parseArgs({
      args: argv,
      options: {
        month: { type: 'string' }, day: { type: 'string' }, quarter: { type: 'string' }, 'fiscal-year': { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, incident: { type: 'string' }, out: { type: 'string' }, config: { type: 'string', short: 'c' },
        lang: { type: 'string', default: 'ja' }, 'no-pdf': { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' }
      }
    }).values
  } catch (err) {
    process.stderr.write(`kanshi-report: ${(err as Error).message} (see --help)\n`)
    return 2
  }
  if (values.help === true) { process.stdout.write(HELP); return 0 }
  if (values.version === true) { process.stdout.write(`${VERSION}\n`); return 0 }
  if (values.out === undefined) { process.stderr.write('kanshi-report: --out: expected an output directory, got missing (see --help)\n'); return 2 }
  if (values.lang !== 'ja' && values.lang !== 'en') { process.stderr.write(`kanshi-report: --lang: expected ja or en, got ${JSON.stringify(values.lang)}\n`); return 2 }
  const given = (['month', 'day', 'quarter', 'fiscal-year', 'from'] as const).filter(k => values[k] !== undefined)
  if (given.length > 1) { process.stderr.write(`kanshi-report: ${given.map(k => `--${k}`).join(' and ')}: expected one of them, got ${given.length === 2 ? 'both' : given.length}\n`); return 2 }
  if ((values.from === undefined) !== (values.to === undefined)) { process.stderr.write(`kanshi-report: ${values.from === undefined ? '--from' : '--to'}: expected a date YYYY-MM-DD with ${values.from === undefined ? '--to' : '--from'}, got missing\n`); return 2 }
  if (values.day !== undefined && values.day !== 'today' && parseDay(values.day) === undefined) { process.stderr.write(`kanshi-report: --day: expected a date YYYY-MM-DD or today, got ${JSON.stringify(values.day)}\n`); return 2 }
  const config = values.config !== undefined ? loadCollectorConfig(values.config) : checkCollectorConfig('(defaults)', {})
  const tz = config.report.timezone
  const now = Date.now()
  if (values.incident !== undefined) {
    const period = (['quarter', 'fiscal-year', 'from'] as const).filter(k => values[k] !== undefined)
    if (period.length > 0) { process.stderr.write(`kanshi-report: --incident: expected alone, got it with --${period[0]!}\n`); return 2 }
    return await incidentCli(config, values.incident, values, resolve(values.out), values.lang, values['no-pdf'] !== true, now)
  }
  let month: Month = lastMonth(now, tz)
  const pa = periodArg(values, tz, now)
  if (pa !== undefined && 'error' in pa) { process.stderr.write(`kanshi-report: ${pa.error}\n`); return 2 }
  if (pa?.period !== undefined) {
    if (pa.period.kind !== 'range' || pa.period.months.length > 1) return await period(config, pa.period, resolve(values.out), values.lang, values['no-pdf'] !== true, now)
    month = pa.period.months[0]!
  }
  if (values.month !== undefined) {
    const m = parseMonth(values.month)
    if (m === undefined) { process.stderr.write(`kanshi-report: --month: expected a month YYYY-MM, got ${JSON.stringify(values.month)}\n`); return 2 }
    month = makeMonth(m.year, m.month, tz)
  }
  const out = resolve(values.out)
  if (values.day !== undefined) {
    const day = values.day === 'today' ? today(now, tz) : values.day
    // A day whose window has not begun is a bad argument, like a malformed one.
    try { dayWindow(day, config.report.serviceHours, calendarOf(config), now) } catch (err) { process.stderr.write(`kanshi-report: --day: ${(err as Error).message}\n`); return 2 }
    return await daily(config, day, out, values.lang, values['no-pdf'] !== true, now)
  }
  let r
  try {
    r = await runReport({ config, month, outDir: out, lang: values.lang, pdf: values['no-pdf'] !== true, now })
  } catch (err) {
    // Operators get one line (InfluxDB down, output not writable); KANSHI_DEBUG=1 shows the stack.
    process.stderr.write(`kanshi-report: ${process.env['KANSHI_DEBUG'] === '1' ? (err as Error).stack : (err as Error).message}\n`)
    return 1
  }
  process.stdout.write(`kanshi-report: ${month.id}: wrote ${r.files.join(', ')} in ${out}\n`)
  if (Object.values(r.cur.tiers).every(x => x === 'none')) process.stderr.write(`kanshi-report: ${month.id}: InfluxDB at ${r.influxUrl} (db ${config.influx.db}) holds no data for this month; the report is empty\n`)
  if (r.pdfSkipped !== undefined) process.stderr.write(`kanshi-report: no report.pdf: ${r.pdfSkipped}\n`)
  return 0
}

/** period writes the quarter, fiscal-year or multi-month report. */
async function period (config: ReturnType<typeof checkCollectorConfig>, p: Parameters<typeof runPeriodReport>[0]['period'], out: string, lang: 'ja' | 'en', pdf: boolean, now: number): Promise<number> {
  let r
  try {
    r = await runPeriodReport({ config, period: p, outDir: out, lang, pdf, now })
  } catch (err) {
    process.stderr.write(`kanshi-report: ${process.env['KANSHI_DEBUG'] === '1' ? (err as Error).stack : (err as Error).message}\n`)
    return 1
  }
  process.stdout.write(`kanshi-report: ${p.id}: wrote ${r.files.join(', ')} in ${out}\n`)
  if (r.months.every(f => Object.values(f.tiers).every(x => x === 'none'))) process.stderr.write(`kanshi-report: ${p.id}: InfluxDB at ${r.influxUrl} (db ${config.influx.db}) holds no data for this period; the report is empty\n`)
  if (r.pdfSkipped !== undefined) process.stderr.write(`kanshi-report: no report.pdf: ${r.pdfSkipped}\n`)
  return 0
}

/** daily writes the daily report and prints what needs action, one line each. */
async function daily (config: ReturnType<typeof checkCollectorConfig>, day: string, out: string, lang: 'ja' | 'en', pdf: boolean, now: number): Promise<number> {
  let r
  try {
    r = await runDailyReport({ config, day, outDir: out, lang, pdf, now })
  } catch (err) {
    process.stderr.write(`kanshi-report: ${process.env['KANSHI_DEBUG'] === '1' ? (err as Error).stack : (err as Error).message}\n`)
    return 1
  }
  process.stdout.write(`kanshi-report: ${r.day}: wrote ${r.files.join(', ')} in ${out}\n`)
  for (const l of r.needsAction) process.stdout.write(`  ${l}\n`)
  if (r.pdfSkipped !== undefined) process.stderr.write(`kanshi-report: no daily.pdf: ${r.pdfSkipped}\n`)
  return 0
}

runMain('kanshi-report', main)
