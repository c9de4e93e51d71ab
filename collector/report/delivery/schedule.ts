// When each report is due, as pure functions of (kind, schedule, last done, now, calendar):
// the daily report at `at` on every business day, the monthly one at `at` on the Nth
// business day of the next month. A missed occurrence is owed once; older ones are not.

import { type BusinessCalendar, type LocalTime, localTime } from '../../../common/calendar.js'
import { zonedTime } from '../period.js'

export type ReportKind = 'daily' | 'monthly'
export const REPORT_KINDS: readonly ReportKind[] = ['daily', 'monthly']

/** The schedule of one kind: a local time, and for the monthly report the business day of the next month. */
export interface ReportSchedule { at: string, businessDay?: number }

/** One generation: the period it covers ("YYYY-MM-DD" delivery day, or "YYYY-MM" month) and when it is due. */
export interface Occurrence { kind: ReportKind, period: string, dueAt: number }

// Far enough back or ahead to cross any run of closed days a calendar can hold.
const MAX_DAYS = 400
const MAX_MONTHS = 24

function ymd (date: string): [number, number, number] {
  const [y, m, d] = date.split('-').map(Number)
  return [y!, m!, d!]
}

function pad (n: number): string { return String(n).padStart(2, '0') }

/** addDays moves a local date YYYY-MM-DD by n days. */
export function addDays (date: string, n: number): string {
  const [y, m, d] = ymd(date)
  const t = new Date(Date.UTC(y, m - 1, d + n))
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`
}

function localDate (date: string): LocalTime {
  const [year, month, day] = ymd(date)
  return { date, year, month, day, weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay(), minute: 0 }
}

export function isBusinessDate (cal: BusinessCalendar, date: string): boolean {
  return cal.closedReason(localDate(date)) === undefined
}

function minutes (at: string): number {
  const [h, m] = at.split(':').map(Number)
  return h! * 60 + m!
}

function atTime (cal: BusinessCalendar, date: string, at: string): number {
  const [y, m, d] = ymd(date)
  return zonedTime(y, m, d, minutes(at), cal.timezone)
}

/** nthBusinessDay is the Nth business day of a month; a month with fewer gives its last one. */
export function nthBusinessDay (cal: BusinessCalendar, year: number, month: number, n: number): string {
  let last: string | undefined
  let count = 0
  for (let d = 1; d <= 31; d++) {
    const date = `${year}-${pad(month)}-${pad(d)}`
    if (addDays(date, 0) !== date) break // past the month's end
    if (!isBusinessDate(cal, date)) continue
    last = date
    if (++count === n) return date
  }
  if (last === undefined) throw new Error(`no business day in ${year}-${pad(month)}: check alerting.calendar`)
  return last
}

function monthShift (year: number, month: number, k: number): [number, number] {
  const i = year * 12 + (month - 1) + k
  return [Math.floor(i / 12), (i % 12) + 1]
}

/** monthlyFor is the monthly occurrence due in month (year, month): the report of the month before. */
function monthlyFor (cal: BusinessCalendar, s: ReportSchedule, year: number, month: number): Occurrence {
  const [py, pm] = monthShift(year, month, -1)
  const day = nthBusinessDay(cal, year, month, s.businessDay ?? 1)
  return { kind: 'monthly', period: `${py}-${pad(pm)}`, dueAt: atTime(cal, day, s.at) }
}

/** latestDue is the newest occurrence due at or before now. */
export function latestDue (kind: ReportKind, s: ReportSchedule, now: number, cal: BusinessCalendar): Occurrence {
  const l = localTime(now, cal.timezone)
  if (kind === 'daily') {
    for (let i = 0; i < MAX_DAYS; i++) {
      const date = addDays(l.date, -i)
      if (!isBusinessDate(cal, date)) continue
      const dueAt = atTime(cal, date, s.at)
      if (dueAt <= now) return { kind, period: date, dueAt }
    }
  } else {
    for (let k = 0; k < MAX_MONTHS; k++) {
      const [y, m] = monthShift(l.year, l.month, -k)
      const o = monthlyFor(cal, s, y, m)
      if (o.dueAt <= now) return o
    }
  }
  throw new Error(`no ${kind} report day found within ${kind === 'daily' ? MAX_DAYS + ' days' : MAX_MONTHS + ' months'}: check alerting.calendar`)
}

/** firstDueAfter is the first occurrence due strictly after t. */
export function firstDueAfter (kind: ReportKind, s: ReportSchedule, t: number, cal: BusinessCalendar): Occurrence {
  const l = localTime(t, cal.timezone)
  if (kind === 'daily') {
    for (let i = 0; i < MAX_DAYS; i++) {
      const date = addDays(l.date, i)
      if (!isBusinessDate(cal, date)) continue
      const dueAt = atTime(cal, date, s.at)
      if (dueAt > t) return { kind, period: date, dueAt }
    }
  } else {
    for (let k = 0; k < MAX_MONTHS; k++) {
      const [y, m] = monthShift(l.year, l.month, k)
      const o = monthlyFor(cal, s, y, m)
      if (o.dueAt > t) return o
    }
  }
  throw new Error(`no ${kind} report day found within ${kind === 'daily' ? MAX_DAYS + ' days' : MAX_MONTHS + ' months'}: check alerting.calendar`)
}

/**
 * nextDue is the occurrence to run next. lastDone is the period last completed
 * (undefined on the very first start: nothing from before is owed). When the newest
 * occurrence due by now is later than lastDone it is returned (dueAt <= now: run it now,
 * once, even after downtime); otherwise the first one after now that is later than lastDone.
 */
export function nextDue (kind: ReportKind, s: ReportSchedule, lastDone: string | undefined, now: number, cal: BusinessCalendar): Occurrence {
  if (lastDone !== undefined) {
    const latest = latestDue(kind, s, now, cal)
    if (latest.period > lastDone) return latest
  }
  let o = firstDueAfter(kind, s, now, cal)
  // A clock set back leaves lastDone ahead of now: never run a period twice.
  while (lastDone !== undefined && o.period <= lastDone) o = firstDueAfter(kind, s, o.dueAt, cal)
  return o
}

/** baseline is what a first start records as done: the newest occurrence already due, which is not owed. */
export function baseline (kind: ReportKind, s: ReportSchedule, now: number, cal: BusinessCalendar): string {
  return latestDue(kind, s, now, cal).period
}

/** dueOf is when the occurrence of a period is (or was) due. */
export function dueOf (kind: ReportKind, s: ReportSchedule, period: string, cal: BusinessCalendar): number {
  if (kind === 'daily') return atTime(cal, period, s.at)
  const [y, m] = ymd(`${period}-01`)
  return monthlyFor(cal, s, ...monthShift(y, m, 1)).dueAt
}

/** skippedBetween lists the occurrences after lastDone and before run: missed, and not owed any more. */
export function skippedBetween (kind: ReportKind, s: ReportSchedule, lastDone: string, run: Occurrence, cal: BusinessCalendar): string[] {
  const out: string[] = []
  for (let o = firstDueAfter(kind, s, dueOf(kind, s, lastDone, cal), cal); o.period < run.period && out.length < MAX_DAYS; o = firstDueAfter(kind, s, o.dueAt, cal)) {
    if (o.period > lastDone) out.push(o.period)
  }
  return out
}
