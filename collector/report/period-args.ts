// kanshi-report's period arguments (--quarter, --fiscal-year, --from/--to) read
// into a Period, or one line saying which argument is wrong and what was expected.

import { fiscalYearPeriod, parseFiscalYear, parseQuarter, quarterPeriod, rangePeriod, type Period } from './period.js'

export interface PeriodArgs {
  quarter?: string | undefined
  'fiscal-year'?: string | undefined
  from?: string | undefined
  to?: string | undefined
}

/** periodArg: undefined when no period argument is given (the monthly or daily report); a period still to come is an error. */
export function periodArg (a: PeriodArgs, tz: string, now = Date.now()): { period: Period } | { error: string } | undefined {
  const r = read(a, tz)
  if (r === undefined || 'error' in r || r.period.start <= now) return r
  const arg = a.quarter !== undefined ? '--quarter' : a['fiscal-year'] !== undefined ? '--fiscal-year' : '--from'
  return { error: `${arg}: ${r.period.id} starts on ${r.period.months[0]!.days[0]}, which is still to come` }
}

function read (a: PeriodArgs, tz: string): { period: Period } | { error: string } | undefined {
  if (a.quarter !== undefined) {
    const q = parseQuarter(a.quarter)
    return q === undefined ? { error: `--quarter: expected a calendar quarter YYYYQn (n 1-4, e.g. 2026Q3), got ${JSON.stringify(a.quarter)}` } : { period: quarterPeriod(q.year, q.quarter, tz) }
  }
  if (a['fiscal-year'] !== undefined) {
    const fy = parseFiscalYear(a['fiscal-year'])
    return fy === undefined ? { error: `--fiscal-year: expected a fiscal year YYYY (April YYYY – March YYYY+1), got ${JSON.stringify(a['fiscal-year'])}` } : { period: fiscalYearPeriod(fy, tz) }
  }
  if (a.from !== undefined && a.to !== undefined) {
    try { return { period: rangePeriod(a.from, a.to, tz) } } catch (err) { return { error: (err as Error).message } }
  }
  return undefined
}
