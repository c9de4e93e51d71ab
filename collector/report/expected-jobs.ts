// The expected runs of collector.yaml jobs: in a report's range, from the
// calendar, each matched to the runs reported for it (as the collector's job
// tracker matches them); an expected run with no run reported at all is missed.

import type { BusinessCalendar } from '../../common/calendar.js'
import type { ScheduleSpec } from '../calendar/schedules.js'
import type { JobConfig } from '../jobs/config.js'
import type { ReportConfig } from './config.js'
import { dueTimes, jobDays, runFor } from '../jobs/expected.js'
import { col, timeCond, type InfluxQL, type InfluxTarget, type Range, type Sources } from './influxql.js'
import { rawFrom } from './daily/status.js'

export interface ExpectedJobs {
  jobs: readonly JobConfig[]
  calendar: BusinessCalendar
  schedules: readonly ScheduleSpec[]
  /** expected runs due after this are not counted yet (a report of the month under way) */
  now: number
}

export interface ExpectedRow { host: string, job: string, expected: number, missed: number, missedDue: number[] }

const DAY = 86_400_000

interface Run { started: number, ok: boolean }

/** reportedRuns reads the ends of job runs (exit_code) per host and job, around the range. */
async function reportedRuns (q: InfluxQL, src: Sources, target: InfluxTarget, r: Range): Promise<Map<string, Run[]>> {
  const wide = { start: r.start - 9 * DAY, end: r.end + DAY }
  const tier = src.tier('service')
  const out = new Map<string, Run[]>()
  if (tier === 'none') return out
  // Rollups keep one row per 5 minutes: the earliest start in it, and exit_code_min 0 when a run in it succeeded.
  const sql = tier === 'raw'
    ? `SELECT "started_ms" AS "s", "exit_code" AS "e" FROM ${rawFrom(target.rawRp, 'service')} WHERE ${timeCond(wide)} AND "check" = 'job' GROUP BY "host", "service"`
    : `SELECT "started_ms_min" AS "s", "exit_code_min" AS "e" FROM ${rawFrom(target.rollupRp, 'service')} WHERE ${timeCond(wide)} AND "check" = 'job' AND "exit_code_count" > 0 GROUP BY "host", "service"`
  const [res] = await q.query([sql])
  for (const s of res!) {
    const [st, e] = [col(s, 's'), col(s, 'e')]
    const list: Run[] = []
    for (const row of s.values) {
      const exit = e!(row)
      if (exit === null) continue // a file check or a start: not a run's end
      list.push({ started: st!(row) ?? Number(row[0]), ok: exit === 0 })
    }
    out.set(`${s.tags['host'] ?? ''}\u0000${s.tags['service'] ?? ''}`, list.sort((a, b) => a.started - b.started))
  }
  return out
}

/** expectedFigures counts, per configured job, the runs expected in the range and those never reported. */
export async function expectedFigures (q: InfluxQL, src: Sources, target: InfluxTarget, r: Range, e: ExpectedJobs): Promise<ExpectedRow[]> {
  if (e.jobs.length === 0) return []
  const runs = await reportedRuns(q, src, target, r)
  const tz = e.calendar.timezone
  return e.jobs.map(j => {
    const days = jobDays(j.schedule, e.calendar, e.schedules)
    const all = dueTimes(j, days, tz, r.start - 9 * DAY, r.end + DAY)
    const succeeded = new Set<number>()
    const reported = new Set<number>()
    for (const run of runs.get(`${j.host}\u0000${j.name}`) ?? []) {
      const due = runFor(run.started, all, d => succeeded.has(d))
      if (due === undefined) continue
      reported.add(due)
      if (run.ok) succeeded.add(due)
    }
    const inRange = all.filter(d => d >= r.start && d < r.end && d <= e.now)
    const missedDue = inRange.filter(d => !reported.has(d))
    return { host: j.host, job: j.name, expected: inRange.length, missed: missedDue.length, missedDue }
  })
}

/**
 * dailyJobs is what the daily report expects: report.jobs, plus each collector.yaml jobs: entry
 * not already there (same name and host), with its schedule's days.
 */
export function dailyJobs (reportJobs: ReportConfig['jobs'], jobs: readonly JobConfig[], schedules: readonly ScheduleSpec[]): ReportConfig['jobs'] {
  const out = [...reportJobs]
  for (const j of jobs) {
    if (reportJobs.some(r => r.name === j.name && (r.host === undefined || r.host === j.host))) continue
    const days = j.schedule === 'daily' ? 'all' : j.schedule === 'business-days' ? 'business' : schedules.find(s => s.name === j.schedule)?.days ?? 'business'
    out.push({ name: j.name, host: j.host, deadline: j.deadline, days: days === 'business' || days === 'all' ? days : [...days] })
  }
  return out
}
