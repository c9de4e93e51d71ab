// The report's batch on-time rate (バッチ処理完了時間順守率) with expected runs
// from collector.yaml jobs: on a real influxd: runs that never reported count
// as missed and in the denominator, in rollups and in raw data alike; and the
// real kanshi-report reads the top-level jobs: of collector.yaml.

import t from 'tap'
import { InfluxQL, Sources, type InfluxTarget } from '../../collector/report/influxql.js'
import { jobFigures } from '../../collector/report/jobs.js'
import { japanCalendar } from '../../common/holidays.js'
import { withReportDb, writeLines } from '../helpers/influxd.js'
import { runReport } from '../helpers/report-cli.js'
import { sheetRows } from '../helpers/report-month.js'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

const jst = (s: string): number => Date.parse(`${s}+09:00`)
const DAY = 86_400_000
// November 2026 in Tokyo: national holidays on the 3rd (文化の日) and the 23rd (勤労感謝の日).
const HOLIDAYS = new Set(['2026-11-03', '2026-11-23'])
const month = { start: jst('2026-11-01T00:00:00'), end: jst('2026-12-01T00:00:00') }

/** businessDates lists the month's business days, computed here from weekdays and the two holidays. */
function businessDates (): string[] {
  const out: string[] = []
  for (let d = 1; d <= 30; d++) {
    const date = `2026-11-${String(d).padStart(2, '0')}`
    const wd = new Date(Date.UTC(2026, 10, d)).getUTCDay()
    if (wd !== 0 && wd !== 6 && !HOLIDAYS.has(date)) out.push(date)
  }
  return out
}

const line = (tags: Record<string, string>, f: Record<string, number>, ts: number): string =>
  `service,${Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(',')} ${Object.entries(f).map(([k, v]) => `${k}=${v}`).join(',')} ${ts}`

t.test('missed runs from jobs: and the calendar count against the on-time rate', async t => {
  const { influx, dir } = await withReportDb(t)
  const dates = businessDates()
  t.equal(dates.length, 19, '21 weekdays less two holidays')
  const skipped = new Set([dates[4]!, dates[11]!]) // never ran
  const failed = dates[7]! // ran and failed, no retry
  const late = dates[15]! // started 07:00 for the 06:00 deadline, succeeded
  const tags = { host: 'db01', role: 'server', site: 'honcho', service: 'nightly-backup', check: 'job' }
  const raw: string[] = []
  const rollup: string[] = []
  let runs = 0; let onTime = 0; let lateN = 0; let failures = 0
  for (const d of dates) {
    if (skipped.has(d)) continue
    const started = d === late ? jst(`${d}T07:00:00`) : jst(`${d}T01:00:00`)
    const finished = started + 20 * 60_000
    const exit = d === failed ? 2 : 0
    const ot = d === late ? 0 : 1
    runs++
    if (exit !== 0) failures++
    else if (ot === 0) lateN++
    else onTime++
    const up = exit === 0 && ot === 1 ? 1 : 0
    raw.push(line(tags, { up, exit_code: exit, on_time: ot, started_ms: started, duration_s: 1200 }, finished))
    const slot = finished - (finished % 300_000)
    rollup.push(line(tags, { up_mean: up, up_max: up, up_min: up, up_count: 1, exit_code_mean: exit, exit_code_max: exit, exit_code_min: exit, exit_code_count: 1, on_time_mean: ot, on_time_max: ot, on_time_min: ot, on_time_count: 1, started_ms_min: started, started_ms_max: started, started_ms_mean: started, started_ms_count: 1 }, slot))
    // the start report of the run: no exit_code, not a run's end
    raw.push(line(tags, { running: 1, started_ms: started }, started))
  }
  // a Saturday run and a run of a job nobody expects do not change the expected counts
  raw.push(line({ ...tags, service: 'adhoc' }, { up: 1, exit_code: 0, started_ms: jst('2026-11-07T01:00:00') }, jst('2026-11-07T01:10:00')))
  const cal = japanCalendar({ timezone: 'Asia/Tokyo' })
  const jobs = [
    { name: 'nightly-backup', host: 'db01', schedule: 'business-days', deadline: '06:00' },
    { name: 'month-end', host: 'batch01', schedule: 'business-days', deadline: '07:30' }
  ]
  for (const tier of ['raw', 'rollup'] as const) {
    await writeLines(influx.url, tier === 'raw' ? 'kanshi_raw' : 'kanshi_5m', tier === 'raw' ? raw : rollup)
    const target: InfluxTarget = { url: influx.url, db: 'kanshi', rawRp: 'kanshi_raw', rollupRp: 'kanshi_5m' }
    const q = new InfluxQL(target)
    const src = new Sources(q, target)
    await src.probe(month)
    t.equal(src.tier('service'), tier)
    const rows = await jobFigures(q, src, month, { jobs, calendar: cal, schedules: [], now: month.end + DAY, target })
    const nb = rows.find(r => r.service === 'nightly-backup')!
    t.match(nb, { host: 'db01', runs, failures, late: lateN, onTime, expected: dates.length, missed: skipped.size }, `${tier}: the two skipped days are missed; the failed and the late run are not`)
    t.equal(nb.onTimeRate, 100 * onTime / (runs + skipped.size), `${tier}: missed runs are in the denominator`)
    const me = rows.find(r => r.service === 'month-end')!
    t.match(me, { host: 'batch01', runs: 0, expected: dates.length, missed: dates.length, onTimeRate: 0 }, `${tier}: a job that never reported misses every day`)
    const adhoc = rows.find(r => r.service === 'adhoc')
    if (tier === 'raw') t.match(adhoc, { runs: 1, expected: null, missed: 0 }, 'a job not in jobs: keeps its old figures')
    // mid-month: runs due after now are not counted yet
    const mid = await jobFigures(q, src, month, { jobs, calendar: cal, schedules: [], now: jst('2026-11-10T12:00:00'), target })
    t.equal(mid.find(r => r.service === 'month-end')!.expected, dates.filter(d => d <= '2026-11-10').length)
  }
  // The CLI: collector.yaml's top-level jobs: reach the report (report.ts figureInputs), figures as above.
  const config = join(dir, 'collector.yaml')
  writeFileSync(config, `influx: { url: '${influx.url}' }\ndataDir: ./collector\njobs:\n${jobs.map(j => `  - { name: ${j.name}, host: ${j.host}, schedule: ${j.schedule}, deadline: '${j.deadline}' }`).join('\n')}\n`)
  const out = join(dir, 'nov')
  const r = await runReport(['--month', '2026-11', '--out', out, '--config', config, '--no-pdf'])
  t.equal(r.code, 0, `kanshi-report exit 0 (stderr: ${r.stderr})`)
  const sheet = await sheetRows(join(out, 'report.xlsx'), 'Jobs')
  const nb = sheet.find(x => x['ジョブ'] === 'nightly-backup')
  t.same([nb?.['実行回数'], nb?.['未実行（予定）'], nb?.['定刻完了']], [runs, skipped.size, onTime], 'nightly-backup: runs, the two missed days, on time')
  t.ok(Math.abs(Number(nb?.['定刻完了率 %']) - onTime / (runs + skipped.size)) < 1e-9, `its rate counts the missed runs: ${String(nb?.['定刻完了率 %'])}`)
  const me = sheet.find(x => x['ジョブ'] === 'month-end')
  t.same([me?.['実行回数'], me?.['未実行（予定）'], me?.['定刻完了率 %']], [0, dates.length, 0], 'month-end never reported: missed every business day')
})
