import t from 'tap'
import { localTime } from '../../common/calendar.js'
import { japanCalendar, holidayName } from '../../common/holidays.js'
import { makeSchedule, parseHours } from '../../collector/calendar/schedules.js'

// JST instants written by hand: Tokyo is UTC+9 with no daylight saving.
const jst = (y: number, mo: number, d: number, h = 12, mi = 0): number => Date.UTC(y, mo - 1, d, h - 9, mi)
const cal = japanCalendar()

t.test('local time in Asia/Tokyo', async t => {
  t.same(localTime(jst(2026, 11, 24, 8, 30), 'Asia/Tokyo'), { date: '2026-11-24', year: 2026, month: 11, day: 24, weekday: 2, minute: 510 })
  t.equal(localTime(Date.UTC(2026, 11, 31, 15, 0), 'Asia/Tokyo').date, '2027-01-01', 'UTC 15:00 on 31 Dec is New Year in Tokyo')
})

t.test('Japanese national holidays come from the library', async t => {
  t.equal(holidayName('2026-11-23'), '勤労感謝の日')
  t.equal(holidayName('2026-05-06'), 'こどもの日 振替休日', 'substitute holiday (3 May 2026 is a Sunday)')
  t.equal(holidayName('2026-11-24'), undefined)
})

t.test('business days skip holidays, weekends, 29 Dec - 3 Jan and configured days', async t => {
  t.equal(cal.isBusinessDay(jst(2026, 11, 24)), true, 'Tuesday 24 Nov')
  t.match(cal.closedReason(localTime(jst(2026, 11, 23), 'Asia/Tokyo')), /祝日: 勤労感謝の日/)
  t.equal(cal.closedReason(localTime(jst(2026, 11, 21), 'Asia/Tokyo')), 'weekend')
  // Year-end closure around 2026/27, worked out by hand: Mon 28 Dec open, 29 Dec - Sun 3 Jan closed, Mon 4 Jan open.
  const yearEnd: Array<[number, number, number, boolean]> = [
    [2026, 12, 28, true], [2026, 12, 29, false], [2026, 12, 30, false], [2026, 12, 31, false],
    [2027, 1, 1, false], [2027, 1, 2, false], [2027, 1, 3, false], [2027, 1, 4, true], [2027, 1, 5, true]
  ]
  for (const [y, m, d, open] of yearEnd) t.equal(cal.isBusinessDay(jst(y, m, d)), open, `${y}-${m}-${d}`)
  t.equal(cal.isBusinessDay(jst(2026, 12, 28)), true, 'Monday 28 Dec is open')
  t.equal(cal.isBusinessDay(jst(2027, 1, 4)), true, 'Monday 4 Jan is open')
  t.equal(cal.isBusinessDay(jst(2026, 12, 30)), false, '30 Dec is closed')
  const custom = japanCalendar({ closedDays: ['2026-11-24'], openDays: ['2026-11-21'] })
  t.equal(custom.isBusinessDay(jst(2026, 11, 24)), false, 'extra closed day')
  t.equal(custom.isBusinessDay(jst(2026, 11, 21)), true, 'Saturday opening')
})

t.test('a weekdays 08:30-17:45 schedule on the business calendar', async t => {
  const s = makeSchedule({ name: 'office', days: 'business', hours: ['08:30-17:45'] }, cal)
  t.equal(s.contains(jst(2026, 11, 24, 8, 29)), false)
  t.equal(s.contains(jst(2026, 11, 24, 8, 30)), true)
  t.equal(s.contains(jst(2026, 11, 24, 17, 44)), true)
  t.equal(s.contains(jst(2026, 11, 24, 17, 45)), false)
  t.equal(s.contains(jst(2026, 11, 23, 10, 0)), false, 'not on a national holiday')
  t.equal(s.contains(jst(2026, 12, 30, 10, 0)), false, 'not on 30 Dec')
  const split = makeSchedule({ name: 'kiosk', days: [1, 2, 3, 4, 5, 6], hours: ['08:30-12:00', '13:00-17:15'] }, cal)
  t.equal(split.contains(jst(2026, 11, 21, 9, 0)), true, 'Saturday opening by weekday list')
  t.equal(split.contains(jst(2026, 11, 24, 12, 30)), false, 'lunch break')
  t.same(parseHours('08:30-17:45'), [510, 1065])
  t.equal(parseHours('17:45-08:30'), undefined)
  t.equal(parseHours('8:30-17:45'), undefined)
})
