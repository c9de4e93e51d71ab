// Batch jobs run under `kanshi-agent job run`: one `service` point per run
// (check=job, with exit_code; file-freshness checks share check=job but have
// no exit_code and are not runs). Runs, failures, late finishes, runs expected
// by collector.yaml jobs: that never reported (missed), on-time rate.

import { col, timeCond, type InfluxQL, type InfluxTarget, type Range, type Sources } from './influxql.js'
import { expectedFigures, type ExpectedJobs } from './expected-jobs.js'

export interface JobRow {
  host: string
  service: string
  runs: number
  /** exit code other than 0 (or killed) */
  failures: number
  /** finished after the deadline (on_time = 0) */
  late: number
  /** exit code 0 and deadline met (or no deadline): up = 1 */
  onTime: number
  /** runs expected by jobs: (on the calendar) in the range; null for a job not configured there */
  expected: number | null
  /** expected runs with no run reported at all: they count as not on time */
  missed: number
  /** 100 × onTime / (runs + missed) */
  onTimeRate: number | null
}

export async function jobFigures (q: InfluxQL, src: Sources, r: Range, expected?: ExpectedJobs & { target: InfluxTarget }): Promise<JobRow[]> {
  const rows = await reportedFigures(q, src, r)
  if (expected === undefined) return rows
  for (const x of await expectedFigures(q, src, expected.target, r, expected)) {
    let j = rows.find(row => row.host === x.host && row.service === x.job)
    if (j === undefined) rows.push(j = { host: x.host, service: x.job, runs: 0, failures: 0, late: 0, onTime: 0, expected: null, missed: 0, onTimeRate: null })
    j.expected = x.expected
    j.missed = x.missed
    j.onTimeRate = j.runs + j.missed > 0 ? 100 * j.onTime / (j.runs + j.missed) : null
  }
  return rows.sort((a, b) => a.host.localeCompare(b.host) || a.service.localeCompare(b.service))
}

async function reportedFigures (q: InfluxQL, src: Sources, r: Range): Promise<JobRow[]> {
  if (src.tier('service') === 'none') return []
  const [res] = await q.query([
    `SELECT "exit_code_count", "exit_code_min", "exit_code_max", "up_mean", "up_count", "on_time_mean", "on_time_count" FROM ${src.from('service', r)} WHERE ${timeCond(r)} AND "check" = 'job' AND "exit_code_count" > 0 GROUP BY "host", "service"`
  ])
  const out: JobRow[] = []
  for (const s of res!) {
    const c = Object.fromEntries(['exit_code_count', 'exit_code_min', 'exit_code_max', 'up_mean', 'up_count', 'on_time_mean', 'on_time_count'].map(n => [n, col(s, n)]))
    const j: JobRow = { host: s.tags['host']!, service: s.tags['service']!, runs: 0, failures: 0, late: 0, onTime: 0, expected: null, missed: 0, onTimeRate: null }
    for (const row of s.values) {
      const runs = c['exit_code_count']!(row) ?? 0
      const ok = Math.round((c['up_mean']!(row) ?? 0) * (c['up_count']!(row) ?? 0))
      const late = Math.round((1 - (c['on_time_mean']!(row) ?? 1)) * (c['on_time_count']!(row) ?? 0))
      const allZero = c['exit_code_min']!(row) === 0 && c['exit_code_max']!(row) === 0
      // Exact with one run per job and 5 minutes; with several, failures are the runs neither ok nor only late.
      const failures = allZero ? 0 : runs === 1 ? 1 : Math.min(runs, Math.max(1, runs - ok - late))
      j.runs += runs; j.onTime += ok; j.late += late; j.failures += failures
    }
    j.onTimeRate = j.runs > 0 ? 100 * j.onTime / j.runs : null
    out.push(j)
  }
  return out.sort((a, b) => a.host.localeCompare(b.host) || a.service.localeCompare(b.service))
}
