// Expected runs of a job: one per day of its schedule, due at the local
// deadline; and which expected run a reported run belongs to. Pure: the
// tracker (alerts) and the report (missed runs) share it.

import { localTime, type BusinessCalendar, type LocalTime } from '../../common/calendar.js'
import type { ScheduleSpec } from '../calendar/schedules.js'
import type { JobConfig } from './config.js'

/** A run started up to this long after a due time that has no success yet is that run, late. */
export const LATE_WINDOW_MS = 12 * 3_600_000

/** jobDays tells which local days a job is expected on: business-days, daily, or a schedule's days. */
export function jobDays (schedule: string, calendar: BusinessCalendar, schedules: readonly ScheduleSpec[] = []): (l: LocalTime) => boolean {
  const days = schedule === 'daily' ? 'all' : schedule === 'business-days' ? 'business' : schedules.find(s => s.name === schedule)?.days ?? 'business'
  if (days === 'all') return () => true
  if (days === 'business') return l => calendar.closedReason(l) === undefined
  return l => days.includes(l.weekday)
}

/** localInstant is the Unix ms of a local date (YYYY-MM-DD) at a minute of the day in a timezone. */
export function localInstant (date: string, minute: number, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number)
  const guess = Date.UTC(y!, m! - 1, d!, 0, minute)
  // The zone's offset at the guess, then once more at the corrected time (a DST change in between).
  const offset = (t: number): number => {
    const l = localTime(t, timeZone)
    return Date.UTC(l.year, l.month - 1, l.day, 0, l.minute) - (t - (t % 60_000))
  }
  const first = guess - offset(guess)
  return guess - offset(first)
}

function deadlineMinute (deadline: string): number {
  const [h, m] = deadline.split(':').map(Number)
  return h! * 60 + m!
}

/** dueTimes lists a job's due instants in (from, to], oldest first. */
export function dueTimes (job: Pick<JobConfig, 'deadline'>, days: (l: LocalTime) => boolean, timeZone: string, from: number, to: number): number[] {
  const out: number[] = []
  const minute = deadlineMinute(job.deadline)
  // Walk local dates from the day before `from` to the day after `to`, by noon UTC steps of a day.
  const start = localTime(from - 86_400_000, timeZone)
  let day = Date.UTC(start.year, start.month - 1, start.day, 12)
  for (let i = 0; i < 4000 && day <= to + 2 * 86_400_000; i++, day += 86_400_000) {
    const u = new Date(day)
    const p = (n: number): string => String(n).padStart(2, '0')
    const date = `${u.getUTCFullYear()}-${p(u.getUTCMonth() + 1)}-${p(u.getUTCDate())}`
    const l: LocalTime = { date, year: u.getUTCFullYear(), month: u.getUTCMonth() + 1, day: u.getUTCDate(), weekday: u.getUTCDay(), minute }
    if (!days(l)) continue
    const due = localInstant(date, minute, timeZone)
    if (due > from && due <= to) out.push(due)
  }
  return out
}

/**
 * runFor is the due time a run started at `started` counts for: the last due
 * before the start when that one has no success yet and the start is within
 * LATE_WINDOW_MS of it (a late run), otherwise the next due at or after the start.
 */
export function runFor (started: number, dues: readonly number[], succeeded: (due: number) => boolean): number | undefined {
  let prev: number | undefined
  let next: number | undefined
  for (const d of dues) {
    if (d < started) prev = d
    else { next = d; break }
  }
  if (prev !== undefined && started - prev <= LATE_WINDOW_MS && !succeeded(prev)) return prev
  return next
}
