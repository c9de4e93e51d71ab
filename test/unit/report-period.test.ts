// Pure parts of kanshi-report: month bounds in a timezone, service-hours
// intervals split by maintenance, the least-squares line and nearest rank.

import t from 'tap'
import { makeMonth, makeServiceHours, parseMonth, previousMonth, serviceIntervals, zonedTime } from '../../collector/report/period.js'
import { leastSquares } from '../../collector/report/disks.js'
import { nearestRank } from '../../collector/report/availability.js'
import type { Window } from '../../collector/alerting/store.js'

const jst = (s: string): number => Date.parse(`${s}+09:00`)

t.test('months start at local midnight', async t => {
  const m = makeMonth(2026, 10, 'Asia/Tokyo')
  t.equal(m.start, jst('2026-10-01T00:00:00'))
  t.equal(m.end, jst('2026-11-01T00:00:00'))
  t.equal(m.days.length, 31)
  t.equal(previousMonth(makeMonth(2027, 1, 'Asia/Tokyo')).id, '2026-12', 'January → December of the year before')
  t.equal(zonedTime(2026, 10, 25, 0, 'Europe/Berlin'), Date.parse('2026-10-25T00:00:00+02:00'), 'midnight before the autumn change is still summer time')
  t.equal(zonedTime(2026, 10, 25, 12 * 60, 'Europe/Berlin'), Date.parse('2026-10-25T12:00:00+01:00'), 'noon after it is winter time')
  t.equal(makeMonth(2026, 4, 'Europe/Berlin').start, Date.parse('2026-04-01T00:00:00+02:00'), 'summer time offset')
  t.same(parseMonth('2026-10'), { year: 2026, month: 10 })
  t.equal(parseMonth('2026-13'), undefined)
  t.equal(parseMonth('26-10'), undefined)
})

t.test('service-hours intervals: business days only, split where maintenance starts and ends', async t => {
  const m = makeMonth(2026, 10, 'Asia/Tokyo')
  const sh = makeServiceHours({ name: 'business-hours', days: 'business', hours: ['08:30-17:45'] }, { timezone: 'Asia/Tokyo' })
  const plain = serviceIntervals(m, sh, [])
  t.equal(plain.length, 21, 'one run per business day (12 Oct is スポーツの日)')
  t.notOk(plain.some(i => new Date(i.start + 9 * 3_600_000).toISOString().startsWith('2026-10-12')))
  t.equal(plain[0]!.start, jst('2026-10-01T08:30:00'))
  t.equal(plain[0]!.end, jst('2026-10-01T17:45:00'))
  const w: Window = { id: 7, kind: 'maintenance', name: 'patch', matchers: { host: 'web01' }, starts_at: jst('2026-10-15T09:00:00'), ends_at: jst('2026-10-15T10:00:00'), recur_days: null, recur_hours: null, created_by: 'ops', comment: '', created_at: 0, deleted_at: null }
  const split = serviceIntervals(m, sh, [w])
  t.equal(split.length, 23)
  const inWindow = split.filter(i => i.windows.includes(7))
  t.same(inWindow.map(i => [i.start, i.end]), [[jst('2026-10-15T09:00:00'), jst('2026-10-15T10:00:00')]])
})

t.test('least squares and nearest rank', async t => {
  const fit = leastSquares([[0, 1], [1, 3], [2, 5]])!
  t.equal(fit.slope, 2)
  t.equal(fit.intercept, 1)
  t.equal(leastSquares([[5, 1]]), undefined, 'one point is no line')
  const big = leastSquares([[1.79e12, 40], [1.79e12 + 86_400_000, 40.5]])!
  t.ok(Math.abs(big.slope * 86_400_000 - 0.5) < 1e-9, 'exact on Unix-millisecond x')
  t.equal(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50), 5)
  t.equal(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95), 10)
  t.equal(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], 95), 19)
})
