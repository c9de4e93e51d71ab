// Batch jobs and backups in the daily window: every run recorded by
// `kanshi-agent job run` (service, check=job, with exit_code), and each run
// expected by report.jobs matched to its deadline, or missed.

import type { BusinessCalendar } from '../../../common/calendar.js'
import type { ReportConfig } from '../config.js'
import { col, type InfluxQL } from '../influxql.js'
import { addDays, at, isServiceDay, type DayWindow } from './window.js'
import { rawFrom } from './status.js'

const DAY = 86_400_000

export interface JobRun {
  host: string
  job: string
  started: number | null
  finished: number
  exitCode: number
  /** on_time from the wrapper's own --deadline; null without one */
  onTime: boolean | null
  message: string
  state: 'ok' | 'failed' | 'late'
}

export interface Expected {
  job: string
  /** the expectation's host, or '' for any */
  host: string
  /** the deadline instant */
  due: number
  /** the matched run, or undefined: missed */
  run: JobRun | undefined
  state: 'ok' | 'failed' | 'late' | 'missed'
}

/** jobRuns reads the runs that finished in [from, to). */
export async function jobRuns (q: InfluxQL, rawRp: string | undefined, from: number, to: number): Promise<JobRun[]> {
  const [res] = await q.query([
    `SELECT "exit_code", "on_time", "started_ms", "message" FROM ${rawFrom(rawRp, 'service')} WHERE time >= ${from}ms AND time < ${to}ms AND "check" = 'job' GROUP BY "host", "service"`
  ])
  const out: JobRun[] = []
  for (const s of res!) {
    const [code, onTime, started] = ['exit_code', 'on_time', 'started_ms'].map(n => col(s, n))
    const mi = s.columns.indexOf('message')
    for (const row of s.values) {
      const exitCode = code!(row)
      // file-freshness checks share check=job but have no exit_code: not runs
      if (exitCode === null) continue
      const ot = onTime!(row)
      const state = exitCode !== 0 ? 'failed' : ot === 0 ? 'late' : 'ok'
      out.push({ host: s.tags['host'] ?? '', job: s.tags['service'] ?? '', started: started!(row), finished: Number(row[0]), exitCode, onTime: ot === null ? null : ot === 1, message: mi < 0 ? '' : String(row[mi] ?? ''), state })
    }
  }
  return out.sort((a, b) => a.finished - b.finished || a.host.localeCompare(b.host) || a.job.localeCompare(b.job))
}

/**
 * expectedRuns lists each report.jobs deadline that falls in the window and
 * matches it to the earliest unused run of that job (and host) that finished
 * after the deadline 24 hours before and before the window's end; none is "missed".
 */
export function expectedRuns (jobs: ReportConfig['jobs'], runs: readonly JobRun[], w: DayWindow, cal: BusinessCalendar): Expected[] {
  const out: Expected[] = []
  const used = new Set<JobRun>()
  for (const j of jobs) {
    const m = /^(\d{2}):(\d{2})$/.exec(j.deadline)!
    const minute = Number(m[1]) * 60 + Number(m[2])
    for (let d = addDays(w.previous, 0); d <= w.day; d = addDays(d, 1)) {
      if (!isServiceDay(d, j.days, cal)) continue
      const due = at(d, minute, w.timezone)
      if (due < w.start || due >= w.end) continue
      const run = runs.find(r => !used.has(r) && r.job === j.name && (j.host === undefined || r.host === j.host) && r.finished > due - DAY && r.finished < w.end)
      if (run !== undefined) used.add(run)
      const state = run === undefined ? 'missed' : run.exitCode !== 0 ? 'failed' : run.finished > due || run.onTime === false ? 'late' : 'ok'
      out.push({ job: j.name, host: j.host ?? '', due, run, state })
    }
  }
  return out.sort((a, b) => a.due - b.due || a.job.localeCompare(b.job))
}
