// The runner's generators and its construction: the monthly report (runReport, period "YYYY-MM")
// and the daily one (runDailyReport, period "YYYY-MM-DD", the business day it is delivered on),
// each returning the files to attach and the lines for the mail's summary.

import type { Logger } from 'pino'
import type { CollectorConfig } from '../../config.js'
import type { Alerting } from '../../alerting/index.js'
import type { AuditLog } from '../../audit/log.js'
import { makeMonth, parseMonth } from '../period.js'
import { runReport } from '../report.js'
import { runDailyReport } from '../daily/index.js'
import { ReportRunner, type Generator, type Generators } from './runner.js'

export function monthlyGenerator (config: CollectorConfig): Generator {
  return async g => {
    const m = parseMonth(g.period)
    if (m === undefined) throw new Error(`not a month: ${g.period}`)
    const r = await runReport({ config, month: makeMonth(m.year, m.month, config.report.timezone), outDir: g.outDir, lang: g.lang, pdf: g.pdf, now: g.now })
    return { files: r.files, pdfSkipped: r.pdfSkipped, summary: r.attention }
  }
}

export function dailyGenerator (config: CollectorConfig): Generator {
  return async g => {
    const r = await runDailyReport({ config, day: g.period, outDir: g.outDir, lang: g.lang, pdf: g.pdf, now: g.now })
    return { files: r.files, pdfSkipped: r.pdfSkipped, summary: r.needsAction }
  }
}

/** createReportRunner builds the runner when a schedule is configured (it mails through alerting's outbox). */
export function createReportRunner (o: {
  config: CollectorConfig, alerting: Alerting | undefined, audit: AuditLog, now: () => number, logger: Logger, generators?: Partial<Generators>
}): ReportRunner | undefined {
  const { config, alerting } = o
  if (alerting === undefined || config.alerting === undefined) return undefined
  if (config.reports.daily === undefined && config.reports.monthly === undefined) return undefined
  return new ReportRunner({
    config: config.reports, calendar: alerting.calendar, store: alerting.store, audit: o.audit, receivers: config.alerting.receivers,
    deliver: async t => await alerting.notifier.deliver(t), now: o.now, logger: o.logger, publicUrl: config.alerting.publicUrl,
    generators: { monthly: monthlyGenerator(config), daily: dailyGenerator(config), ...o.generators }
  })
}
