// The monthly generator for the runner: kanshi-report's runReport for the
// period "YYYY-MM" in report.timezone, its attention list as the mail's summary.

import type { CollectorConfig } from '../../config.js'
import { makeMonth, parseMonth } from '../period.js'
import { runReport } from '../report.js'
import type { Generator } from './runner.js'

export function monthlyGenerator (config: CollectorConfig): Generator {
  return async g => {
    const m = parseMonth(g.period)
    if (m === undefined) throw new Error(`not a month: ${g.period}`)
    const r = await runReport({ config, month: makeMonth(m.year, m.month, config.report.timezone), outDir: g.outDir, lang: g.lang, pdf: g.pdf, now: g.now })
    return { files: r.files, pdfSkipped: r.pdfSkipped, summary: r.attention }
  }
}
