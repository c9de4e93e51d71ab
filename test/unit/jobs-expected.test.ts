// Expected runs of collector jobs: due times on the calendar and which due
// time a reported run belongs to (pure logic, no clock).

import t from 'tap'
import { japanCalendar } from '../../common/holidays.js'
import { LATE_WINDOW_MS, dueTimes, jobDays, localInstant, runFor } from '../../collector/jobs/expected.js'
import { checkJobs } from '../../collector/jobs/config.js'
import { formatDuration } from '../../collector/jobs/tracker.js'

const jst = (s: string): number => Date.parse(`${s}+09:00`)
const cal = japanCalendar({ timezone: 'Asia/Tokyo' })

t.test('local instants in a timezone, with and without DST', async t => {
  t.equal(localInstant('2026-11-24', 360, 'Asia/Tokyo'), jst('2026-11-24T06:00:00'))
  t.equal(localInstant('2026-07-01', 90, 'Europe/Berlin'), Date.parse('2026-07-01T01:30:00+02:00'), 'summer time')
  t.equal(localInstant('2026-12-01', 90, 'Europe/Berlin'), Date.parse('2026-12-01T01:30:00+01:00'), 'winter time')
})

t.test('due times follow the schedule: business days skip weekends, holidays and the year end', async t => {
  const iso = (ts: number[]) => ts.map(x => new Date(x + 9 * 3_600_000).toISOString().slice(0, 16))
  const job = { deadline: '06:00' }
  t.same(iso(dueTimes(job, jobDays('business-days', cal), 'Asia/Tokyo', jst('2026-11-20T00:00:00'), jst('2026-11-26T00:00:00'))),
    ['2026-11-20T06:00', '2026-11-24T06:00', '2026-11-25T06:00'], 'Fri, then Tue: the 23rd is 勤労感謝の日')
  t.same(dueTimes(job, jobDays('business-days', cal), 'Asia/Tokyo', jst('2026-12-28T06:00:00'), jst('2027-01-05T00:00:00')).length, 1, 'only 4 Jan in the year-end closure')
  t.same(dueTimes(job, jobDays('daily', cal), 'Asia/Tokyo', jst('2026-11-20T06:00:00'), jst('2026-11-23T06:00:00')).length, 3, '(from, to]: 21st, 22nd, 23rd')
  const weekly = jobDays('saturdays', cal, [{ name: 'saturdays', days: [6] }])
  t.same(iso(dueTimes({ deadline: '23:30' }, weekly, 'Asia/Tokyo', jst('2026-11-01T00:00:00'), jst('2026-11-15T00:00:00'))), ['2026-11-07T23:30', '2026-11-14T23:30'], 'a schedule\'s weekdays')
})

t.test('a run belongs to the due time it serves', async t => {
  const dues = [jst('2026-11-20T06:00:00'), jst('2026-11-24T06:00:00'), jst('2026-11-25T06:00:00')]
  const none = (): boolean => false
  t.equal(runFor(jst('2026-11-24T01:00:00'), dues, none), dues[1], 'started before the deadline: that day\'s run')
  t.equal(runFor(jst('2026-11-24T07:00:00'), dues, none), dues[1], 'started after a deadline with no success: the late run')
  t.equal(runFor(jst('2026-11-24T07:00:00'), dues, d => d === dues[1]), dues[2], 'that day already succeeded: the next day\'s run')
  t.equal(runFor(dues[1]! + LATE_WINDOW_MS + 1, dues, none), dues[2], 'more than 12 h after: the next day\'s run')
  t.equal(runFor(jst('2026-11-21T23:00:00'), dues, none), dues[1], 'a weekend run is for the next business day')
  t.equal(runFor(jst('2026-11-26T01:00:00'), dues, d => d === dues[2]), undefined, 'no due time left')
})

t.test('jobs: config checks', async t => {
  t.throws(() => checkJobs('c.yaml', [{ name: 'a', host: 'h', schedule: 'weekly', deadline: '06:00' }], ['business-hours']),
    /c\.yaml: jobs\.0\.schedule: expected one of business-days, daily, business-hours, got "weekly"/)
  t.throws(() => checkJobs('c.yaml', [{ name: 'a', host: 'h', schedule: 'daily', deadline: '06:00' }, { name: 'a', host: 'h', schedule: 'daily', deadline: '07:00' }], []),
    /jobs\.1\.name: expected a unique job name per host, got "a" on h again/)
  t.doesNotThrow(() => checkJobs('c.yaml', [{ name: 'a', host: 'h1', schedule: 'daily', deadline: '06:00' }, { name: 'a', host: 'h2', schedule: 'daily', deadline: '06:00' }], []))
  t.same([formatDuration(3 * 3_600_000), formatDuration(90 * 60_000), formatDuration(45_000)], ['3h', '90m', '45s'])
})

t.test('collector.yaml jobs: decoded with errors that name the key', async t => {
  const { checkCollectorConfig } = await import('../../collector/config.js')
  const base = { influx: { url: 'http://127.0.0.1:8086', db: 'kanshi' } }
  const c = checkCollectorConfig('/etc/kanshi/collector.yaml', { ...base, jobs: [{ name: 'nightly-backup', host: 'db01', deadline: '06:00', maxDuration: '3h' }] })
  t.same(c.jobs, [{ name: 'nightly-backup', host: 'db01', schedule: 'business-days', deadline: '06:00', maxDuration: 3 * 3_600_000 }])
  t.throws(() => checkCollectorConfig('/etc/kanshi/collector.yaml', { ...base, jobs: [{ name: 'x', host: 'db01', deadline: '6:00' }] }),
    /collector\.yaml: jobs\.0\.deadline: expected a local time HH:MM by which the run must have succeeded/)
  t.same(checkCollectorConfig('/etc/kanshi/collector.yaml', base).jobs, [], 'none by default')
})

t.test('the daily report expects report.jobs and the collector\'s jobs: (once each)', async t => {
  const { dailyJobs } = await import('../../collector/report/expected-jobs.js')
  const report = [{ name: 'purge', deadline: '07:00', days: 'business' as const }]
  const jobs = [
    { name: 'purge', host: 'k1', schedule: 'daily', deadline: '05:00' },
    { name: 'nightly-backup', host: 'db01', schedule: 'business-days', deadline: '06:00' },
    { name: 'weekly', host: 'db01', schedule: 'saturdays', deadline: '23:00' },
    { name: 'export', host: 'b1', schedule: 'daily', deadline: '08:00' }
  ]
  t.same(dailyJobs(report, jobs, [{ name: 'saturdays', days: [6] }]), [
    { name: 'purge', deadline: '07:00', days: 'business' },
    { name: 'nightly-backup', host: 'db01', deadline: '06:00', days: 'business' },
    { name: 'weekly', host: 'db01', deadline: '23:00', days: [6] },
    { name: 'export', host: 'b1', deadline: '08:00', days: 'all' }
  ], 'report.jobs "purge" (any host) already covers the collector\'s purge on k1')
})
