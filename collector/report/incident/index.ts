// kanshi-report --incident ID: one 障害報告書 (incident.html, incident.xlsx, incident.pdf when
// Chromium is there) from the collector's incident record and InfluxDB.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CollectorConfig } from '../../config.js'
import { influxTarget } from '../report.js'
import { writeXlsx } from '../xlsx.js'
import { pdfBeside } from '../pdf.js'
import { aroundEvent, readIncident, type IncidentData } from './data.js'
import { buildIncidentTables } from './tables.js'
import { incidentCharts, renderIncidentHtml } from './html.js'
import { incidentWords } from './words.js'
import { judge } from './judge.js'

export interface IncidentReportResult { files: string[], pdfSkipped?: string, id: number, primary: number, metricsProblem?: string }

export async function runIncidentReport (o: { config: CollectorConfig, id: number, outDir: string, lang: 'ja' | 'en', pdf: boolean, now: number }): Promise<IncidentReportResult> {
  const r = o.config.report
  const base = readIncident(o.config.dataDir, o.id, o.lang, { notifyWithinMin: r.targets.notifyWithinMin, majorSeverities: r.major.severities, majorMinMs: r.major.minDuration })
  if (base === undefined) throw new Error(`--incident: no incident ${o.id} in ${join(o.config.dataDir, 'alerting.db')}`)
  let around: Pick<IncidentData, 'metrics' | 'logs' | 'logsHidden' | 'window'>
  let metricsProblem: string | undefined
  try {
    around = await aroundEvent(influxTarget(o.config), base.row.hosts, base.row.detectedAt, base.row.resolvedAt)
  } catch (err) {
    // InfluxDB down still leaves the write-up worth printing: the report says the charts are missing.
    metricsProblem = (err as Error).message
    around = { metrics: [], logs: [], logsHidden: 0, window: { start: base.row.detectedAt - 3_600_000, end: (base.row.resolvedAt ?? base.row.detectedAt) + 3_600_000 } }
  }
  const data: IncidentData = { ...base, ...around, judgements: judge(base.row, o.config.systems, o.now) }
  const tz = r.timezone
  const tables = buildIncidentTables(data, o.lang)
  const charts = await incidentCharts(data, o.lang, tz)
  mkdirSync(o.outDir, { recursive: true })
  const files: string[] = []
  const html = join(o.outDir, 'incident.html')
  writeFileSync(html, renderIncidentHtml({ data, tables, charts, lang: o.lang, tz, generatedAt: o.now }))
  files.push('incident.html')
  await writeXlsx(join(o.outDir, 'incident.xlsx'), tables, tz, { title: incidentWords(o.lang)('title'), month: `#${data.row.id}` })
  files.push('incident.xlsx')
  const done = { id: o.id, primary: data.row.id, ...(metricsProblem !== undefined ? { metricsProblem } : {}) }
  const pdf = await pdfBeside(html, o.pdf)
  if ('skipped' in pdf) return { files, pdfSkipped: pdf.skipped, ...done }
  files.push(pdf.file)
  return { files, ...done }
}
