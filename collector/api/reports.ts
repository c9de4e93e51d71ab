// The generated reports for download (viewer role): the list from the kept
// manifests, and each listed file; a name not in a manifest is not found.

import { createReadStream } from 'node:fs'
import { extname } from 'node:path'
import type { FastifyPluginAsync } from 'fastify'
import { KanshiError } from '../../protocol/errors.js'
import { listReports, reportFile } from '../report/delivery/archive.js'
import type { Guard } from './auth.js'

export interface ReportApiOptions {
  /** reports.outDir */
  outDir: string
  need: Guard
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.pdf': 'application/pdf',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json; charset=utf-8'
}

export const reportApi: FastifyPluginAsync<ReportApiOptions> = async (app, o) => {
  app.get('/v1/reports', { onRequest: o.need('viewer') }, async () => ({
    reports: listReports(o.outDir).map(m => ({ kind: m.kind, period: m.period, files: m.files, generatedAt: m.generatedAt, pdfSkipped: m.pdfSkipped ?? null }))
  }))

  app.get('/v1/reports/:kind/:period/:file', { onRequest: o.need('viewer') }, async (req, reply) => {
    const { kind, period, file } = req.params as { kind: string, period: string, file: string }
    const path = reportFile(o.outDir, kind, period, file)
    if (path === undefined) throw new KanshiError('E_NOT_FOUND', `no report file ${kind}/${period}/${file}`)
    // A generated HTML page is offered as a download, never rendered in the collector's origin.
    return await reply
      .type(TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
      .header('content-disposition', `attachment; filename="${savedName(kind, period, file)}"`)
      .header('x-content-type-options', 'nosniff')
      .send(createReadStream(path))
  })
}

/** savedName tells one day's file from another's once saved: kanshi-daily-2026-07-17.xlsx, kanshi-monthly-2026-07-hosts.csv. */
function savedName (kind: string, period: string, file: string): string {
  const ext = extname(file)
  const base = file.slice(0, file.length - ext.length)
  const name = base === 'report' || base === kind ? `kanshi-${kind}-${period}${ext}` : `kanshi-${kind}-${period}-${file}`
  return name.replace(/[^\w.-]/g, '_')
}
