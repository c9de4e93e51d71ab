// The report schedule as pure functions of (kind, schedule, last done, now, calendar):
// the daily report on business days only, the monthly one on the Nth business day of
// the next month, one catch-up after downtime and none twice.

import t from 'tap'
import { japanCalendar } from '../../common/holidays.js'
import { baseline, dueOf, nextDue, nthBusinessDay, skippedBetween } from '../../collector/report/delivery/schedule.js'

const at = (s: string): number => Date.parse(`${s}+09:00`)
const cal = japanCalendar({ timezone: 'Asia/Tokyo' })
const DAILY = { at: '08:15' }
const MONTHLY = { businessDay: 5, at: '09:00' }

t.test('the daily report is due at 08:15 on a business day, not a minute before', async t => {
  t.same(nextDue('daily', DAILY, '2026-07-16', at('2026-07-17T08:14:59'), cal), { kind: 'daily', period: '2026-07-17', dueAt: at('2026-07-17T08:15:00') })
  const due = nextDue('daily', DAILY, '2026-07-16', at('2026-07-17T08:15:00'), cal)
  t.ok(due.dueAt <= at('2026-07-17T08:15:00'), 'due at 08:15 exactly')
})

t.test('weekends and a Monday holiday (海の日 20 Jul 2026) are skipped', async t => {
  t.same(nextDue('daily', DAILY, '2026-07-17', at('2026-07-17T08:16'), cal), { kind: 'daily', period: '2026-07-21', dueAt: at('2026-07-21T08:15') })
  t.equal(nextDue('daily', DAILY, '2026-07-17', at('2026-07-20T08:15'), cal).dueAt, at('2026-07-21T08:15'), 'nothing is due on the holiday itself')
})

t.test('29 Dec - 3 Jan is skipped: after Monday 28 Dec comes Monday 4 Jan', async t => {
  t.equal(nextDue('daily', DAILY, '2026-12-28', at('2026-12-28T09:00'), cal).period, '2027-01-04')
  t.equal(nextDue('daily', DAILY, '2026-12-28', at('2027-01-01T08:15'), cal).period, '2027-01-04')
})

t.test('configured closed and open days follow alerting.calendar', async t => {
  const c = japanCalendar({ timezone: 'Asia/Tokyo', closedDays: ['2026-07-21'], openDays: ['2026-07-18'] })
  t.equal(nextDue('daily', DAILY, '2026-07-17', at('2026-07-17T09:00'), c).period, '2026-07-18', 'an open Saturday gets its report')
  t.equal(nextDue('daily', DAILY, '2026-07-18', at('2026-07-18T09:00'), c).period, '2026-07-22', 'a closed Tuesday does not')
})

t.test('the monthly report is due on the 5th business day of the next month', async t => {
  // January 2027: 1-3 closed, Mon 4 = 1st, Fri 8 = 5th (成人の日 is 11 Jan).
  t.equal(nthBusinessDay(cal, 2027, 1, 5), '2027-01-08')
  t.same(nextDue('monthly', MONTHLY, '2026-11', at('2026-12-31T12:00'), cal), { kind: 'monthly', period: '2026-12', dueAt: at('2027-01-08T09:00') })
  t.equal(nextDue('monthly', { businessDay: 1, at: '09:00' }, '2026-11', at('2026-12-31T12:00'), cal).dueAt, at('2027-01-04T09:00'), 'the 1st business day is after the closure')
  // July 2026: Wed 1 = 1st … Tue 7 = 5th.
  t.same(nextDue('monthly', MONTHLY, '2026-05', at('2026-07-07T08:59'), cal), { kind: 'monthly', period: '2026-06', dueAt: at('2026-07-07T09:00') })
  t.equal(nextDue('monthly', MONTHLY, '2026-06', at('2026-07-07T09:00'), cal).period, '2026-07', 'once done, the next month is next')
  t.equal(nthBusinessDay(cal, 2027, 1, 40), '2027-01-29', 'a month with fewer business days gives its last one')
})

t.test('a missed run is owed once after downtime, and not again after a restart', async t => {
  // Down from Thursday evening to Friday 10:00: Friday's 08:15 report runs at 10:00.
  const late = nextDue('daily', DAILY, '2026-07-16', at('2026-07-17T10:00'), cal)
  t.same(late, { kind: 'daily', period: '2026-07-17', dueAt: at('2026-07-17T08:15') })
  t.ok(late.dueAt <= at('2026-07-17T10:00'), 'due now: catch-up')
  // Done and recorded; a restart at 10:05 reads the record and waits for Tuesday.
  t.equal(nextDue('daily', DAILY, '2026-07-17', at('2026-07-17T10:05'), cal).period, '2026-07-21')
  // Down three business days: only the newest is owed, the others are reported as skipped.
  const run = nextDue('daily', DAILY, '2026-07-14', at('2026-07-17T10:00'), cal)
  t.equal(run.period, '2026-07-17')
  t.same(skippedBetween('daily', DAILY, '2026-07-14', run, cal), ['2026-07-15', '2026-07-16'])
  t.same(skippedBetween('daily', DAILY, '2026-07-16', run, cal), [])
  // The monthly one, collector down over the 5th business day of January.
  const m = nextDue('monthly', MONTHLY, '2026-11', at('2027-01-12T08:00'), cal)
  t.same([m.period, m.dueAt], ['2026-12', at('2027-01-08T09:00')])
  t.same(skippedBetween('monthly', MONTHLY, '2026-10', m, cal), ['2026-11'])
  t.equal(dueOf('monthly', MONTHLY, '2026-12', cal), at('2027-01-08T09:00'))
})

t.test('a first start owes nothing from before it; a clock set back never repeats a period', async t => {
  t.equal(nextDue('daily', DAILY, undefined, at('2026-07-17T10:00'), cal).period, '2026-07-21')
  t.equal(baseline('daily', DAILY, at('2026-07-17T10:00'), cal), '2026-07-17')
  t.equal(baseline('daily', DAILY, at('2026-07-17T08:00'), cal), '2026-07-16')
  t.equal(baseline('monthly', MONTHLY, at('2027-01-07T12:00'), cal), '2026-11')
  t.equal(nextDue('daily', DAILY, '2026-07-21', at('2026-07-17T10:00'), cal).period, '2026-07-22')
})
