// The report's month in the office's timezone, cut into 5-minute slots (the
// rollup bucket), and the runs of slots inside service hours, each with the
// maintenance windows active in it: the intervals the availability queries ask for.

import { BusinessCalendar, localTime } from '../../common/calendar.js'
import { makeSchedule, type Schedule } from '../calendar/schedules.js'
import { windowActive } from '../calendar/windows.js'
import type { Window } from '../alerting/store.js'

export const SLOT_MS = 5 * 60_000

export interface Month {
  /** "YYYY-MM" */
  id: string
  year: number
  month: number
  /** Unix ms of local midnight on the 1st, and of the next month's 1st */
  start: number
  end: number
  timezone: string
  /** local dates YYYY-MM-DD, in order */
  days: string[]
}

/** zonedTime returns the Unix ms of a local wall time in a timezone. */
export function zonedTime (y: number, m: number, d: number, minute: number, tz: string): number {
  const guess = Date.UTC(y, m - 1, d, 0, minute)
  const offset = (t: number): number => {
    const l = localTime(t, tz)
    return Date.UTC(l.year, l.month - 1, l.day, 0, l.minute) - Math.floor(t / 60_000) * 60_000
  }
  const t1 = guess - offset(guess)
  return guess - offset(t1)
}

export function parseMonth (s: string): { year: number, month: number } | undefined {
  const m = /^(\d{4})-(\d{2})$/.exec(s)
  if (m === null) return undefined
  const year = Number(m[1])
  const month = Number(m[2])
  return month >= 1 && month <= 12 && year >= 2000 ? { year, month } : undefined
}

export function makeMonth (year: number, month: number, tz: string): Month {
  const ny = month === 12 ? year + 1 : year
  const nm = month === 12 ? 1 : month + 1
  const start = zonedTime(year, month, 1, 0, tz)
  const end = zonedTime(ny, nm, 1, 0, tz)
  const days: string[] = []
  const n = new Date(Date.UTC(ny, nm - 1, 0)).getUTCDate()
  for (let d = 1; d <= n; d++) days.push(`${year}-${String(month).padStart(2, '0')}-${String(d).padStart(2, '0')}`)
  return { id: `${year}-${String(month).padStart(2, '0')}`, year, month, start, end, timezone: tz, days }
}

export function previousMonth (m: Month): Month {
  return m.month === 1 ? makeMonth(m.year - 1, 12, m.timezone) : makeMonth(m.year, m.month - 1, m.timezone)
}

/** lastMonth is the month before the one containing `now` (the default report month). */
export function lastMonth (now: number, tz: string): Month {
  const l = localTime(now, tz)
  return previousMonth(makeMonth(l.year, l.month, tz))
}

export interface Interval {
  start: number
  end: number
  /** ids of the maintenance windows active throughout (checked at each slot start) */
  windows: number[]
}

export interface ServiceHours {
  schedule: Schedule
  calendar: BusinessCalendar
}

export function makeServiceHours (spec: { name: string, days: 'business' | 'all' | readonly number[], hours: readonly string[] }, calendar: { timezone: string, holidays?: boolean, yearEndClosure?: boolean, closedDays?: readonly string[], openDays?: readonly string[] }): ServiceHours {
  const cal = new BusinessCalendar(calendar)
  return { calendar: cal, schedule: makeSchedule({ name: spec.name, days: spec.days, hours: spec.hours }, cal) }
}

/**
 * serviceIntervals cuts the month's service hours into runs of 5-minute slots
 * with the same set of active maintenance windows. A slot belongs to service
 * hours when its start does (hours on 5-minute boundaries are exact).
 */
export function serviceIntervals (m: Month, sh: ServiceHours, maintenance: readonly Window[]): Interval[] {
  const out: Interval[] = []
  let cur: Interval | undefined
  for (let t = m.start; t < m.end; t += SLOT_MS) {
    if (!sh.schedule.contains(t)) { cur = undefined; continue }
    const ws = maintenance.filter(w => windowActive(w, t, sh.calendar)).map(w => w.id)
    if (cur !== undefined && cur.end === t && sameIds(cur.windows, ws)) { cur.end = t + SLOT_MS; continue }
    cur = { start: t, end: t + SLOT_MS, windows: ws }
    out.push(cur)
  }
  return out
}

function sameIds (a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** slotsIn counts the 5-minute slots of an interval. */
export function slotsIn (i: { start: number, end: number }): number {
  return Math.round((i.end - i.start) / SLOT_MS)
}
