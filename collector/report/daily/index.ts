// kanshi-report --day: the daily operations report (日次業務報告書) for one
// business day: daily.html, daily.xlsx and daily.pdf (when Chromium is there).
// runDailyReport is what the CLI and the scheduler call.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CollectorConfig } from '../../config.js'
import { influxTarget } from '../report.js'
import { writeXlsx } from '../xlsx.js'
import { pdfBeside } from '../pdf.js'
import { words } from '../i18n.js'
import { dailyFigures } from './figures.js'
import { buildDailyTables, needsAction } from './tables.js'
import { renderDailyHtml } from './html.js'
import { parseDay } from './window.js'

export async function runDailyReport (o: { config: CollectorConfig, day: string /* YYYY-MM-DD */, outDir: string, lang: 'ja' | 'en', pdf: boolean, now: number }): Promise<{ files: string[], pdfSkipped?: string, needsAction: string[] /* one line each, for a mail body */, day: string }> {
  if (parseDay(o.day) === undefined) throw new Error(`day: expected a date YYYY-MM-DD, got ${JSON.stringify(o.day)}`)
  const f = await dailyFigures(o.config, influxTarget(o.config), o.day, o.lang, o.now)
  const action = needsAction(f, o.config.report, o.lang)
  const tables = buildDailyTables(f, action, o.config.report, o.lang)
  mkdirSync(o.outDir, { recursive: true })
  const files: string[] = []
  const html = join(o.outDir, 'daily.html')
  writeFileSync(html, renderDailyHtml({ figures: f, tables, action, lang: o.lang, generatedAt: o.now, noRecord: !f.incidents.available }))
  files.push('daily.html')
  await writeXlsx(join(o.outDir, 'daily.xlsx'), tables, f.window.timezone, { title: words(o.lang)('dTitle'), month: o.day })
  files.push('daily.xlsx')
  const lines = action.map(a => `[${a.category}] ${a.text}`)
  const pdf = await pdfBeside(html, o.pdf)
  if ('skipped' in pdf) return { files, pdfSkipped: pdf.skipped, needsAction: lines, day: o.day }
  files.push(pdf.file)
  return { files, needsAction: lines, day: o.day }
}
