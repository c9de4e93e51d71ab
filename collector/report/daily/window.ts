// The daily report's window: from the previous business day's opening to this
// day's opening (or to the run time, when the report is made before opening),
// in the report's timezone. Business days and the opening time come from
// report.serviceHours over the business calendar.

import { localTime, type BusinessCalendar } from '../../../common/calendar.js'
import { parseHours } from '../../calendar/schedules.js'
import { zonedTime } from '../period.js'

const DAY = 86_400_000
/** how far back the previous business day is looked for (the year-end closure and a long weekend fit) */
const MAX_BACK = 31

export interface DayWindow {
  /** the report's day, YYYY-MM-DD */
  day: string
  /** whether `day` is a business day of the service hours */
  businessDay: boolean
  /** the previous business day, YYYY-MM-DD */
  previous: string
  /** opening minute of a business day (minutes after local midnight) */
  openingMinute: number
  /** the previous business day's opening */
  start: number
  /** this day's opening time (HH:MM of the opening, on `day`) */
  opening: number
  /** min(opening, now): the window's end; status "at opening" is read here */
  end: number
  /** true when the report was made before this day's opening */
  early: boolean
  timezone: string
}

export interface DaysSpec { days: 'business' | 'all' | readonly number[], hours: readonly string[] }

/** parseDay checks YYYY-MM-DD and that the date exists. */
export function parseDay (s: string): { year: number, month: number, day: number } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s)
  if (m === null) return undefined
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const d = new Date(Date.UTC(year, month - 1, day))
  if (year < 2000 || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined
  return { year, month, day }
}

/** today is the local date of `now` in tz. */
export function today (now: number, tz: string): string {
  return localTime(now, tz).date
}

/** openingMinute is the start of the earliest opening range (0 for all-day service hours). */
export function openingMinute (hours: readonly string[]): number {
  const starts = hours.map(h => parseHours(h)?.[0]).filter((x): x is number => x !== undefined)
  return starts.length > 0 ? Math.min(...starts) : 0
}

/** isServiceDay tells whether a local date is a day of the service hours (business / all / weekdays). */
export function isServiceDay (date: string, days: DaysSpec['days'], cal: BusinessCalendar): boolean {
  const p = parseDay(date)!
  const l = localTime(zonedTime(p.year, p.month, p.day, 720, cal.timezone), cal.timezone)
  if (days === 'all') return true
  if (days === 'business') return cal.closedReason(l) === undefined
  return days.includes(l.weekday)
}

/** addDays shifts a local date YYYY-MM-DD by n days. */
export function addDays (date: string, n: number): string {
  const p = parseDay(date)!
  return new Date(Date.UTC(p.year, p.month - 1, p.day) + n * DAY).toISOString().slice(0, 10)
}

/** at is the instant of a local date's minute in tz. */
export function at (date: string, minute: number, tz: string): number {
  const p = parseDay(date)!
  return zonedTime(p.year, p.month, p.day, minute, tz)
}

/** dayWindow computes the window of a report day; it throws when the day has not begun at `now`. */
export function dayWindow (day: string, spec: DaysSpec, cal: BusinessCalendar, now: number): DayWindow {
  if (parseDay(day) === undefined) throw new Error(`--day: expected a date YYYY-MM-DD, got ${JSON.stringify(day)}`)
  const tz = cal.timezone
  const om = openingMinute(spec.hours)
  let previous: string | undefined
  for (let i = 1; i <= MAX_BACK && previous === undefined; i++) {
    const d = addDays(day, -i)
    if (isServiceDay(d, spec.days, cal)) previous = d
  }
  if (previous === undefined) throw new Error(`no business day in the ${MAX_BACK} days before ${day} (report.serviceHours and the calendar)`)
  const start = at(previous, om, tz)
  const opening = at(day, om, tz)
  if (now <= start) throw new Error(`${day}: its window starts at ${previous} ${hhmm(om)} (${tz}), which is still to come`)
  return { day, businessDay: isServiceDay(day, spec.days, cal), previous, openingMinute: om, start, opening, end: Math.min(opening, now), early: now < opening, timezone: tz }
}

export function hhmm (minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`
}
