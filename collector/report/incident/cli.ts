// The --incident branch of kanshi-report: checks the id, writes the 障害報告書, says what it wrote.

import type { CollectorConfig } from '../../config.js'
import { runIncidentReport } from './index.js'

export const INCIDENT_HELP = `  kanshi-report --incident ID --out DIR [--config FILE] [--lang ja|en] [--no-pdf]
`

export const INCIDENT_OPTION = `  --incident ID     one incident's report (障害報告書): incident.html, incident.xlsx and
                    incident.pdf — timeline, write-up, notices, ±1 h charts of its
                    hosts, the first log lines; a merged alert's id gives its 障害
`

export async function incidentCli (config: CollectorConfig, arg: string, others: { month?: string | undefined, day?: string | undefined }, out: string, lang: 'ja' | 'en', pdf: boolean, now: number): Promise<number> {
  if (others.month !== undefined || others.day !== undefined) { process.stderr.write('kanshi-report: --incident: expected alone, got it with --month or --day\n'); return 2 }
  if (!/^[1-9]\d{0,15}$/.test(arg)) { process.stderr.write(`kanshi-report: --incident: expected an incident id (a positive integer), got ${JSON.stringify(arg)}\n`); return 2 }
  let r
  try {
    r = await runIncidentReport({ config, id: Number(arg), outDir: out, lang, pdf, now })
  } catch (err) {
    process.stderr.write(`kanshi-report: ${process.env['KANSHI_DEBUG'] === '1' ? (err as Error).stack : (err as Error).message}\n`)
    return 1
  }
  process.stdout.write(`kanshi-report: incident ${r.primary}${r.primary !== r.id ? ` (${r.id} is merged into it)` : ''}: wrote ${r.files.join(', ')} in ${out}\n`)
  if (r.metricsProblem !== undefined) process.stderr.write(`kanshi-report: no charts or log lines: ${r.metricsProblem}\n`)
  if (r.pdfSkipped !== undefined) process.stderr.write(`kanshi-report: no incident.pdf: ${r.pdfSkipped}\n`)
  return 0
}
