// When a silence or maintenance window is in force: between its start and end and,
// for a recurring one, on its weekdays and local hours in the calendar's timezone.

import { localTime, type BusinessCalendar } from '../../common/calendar.js'
import { parseHours } from './schedules.js'

/** TimeWindow is the time part of a silence or maintenance window (alerting's store keeps the rest). */
export interface TimeWindow {
  starts_at: number
  ends_at: number
  /** recurring: weekdays 0-6 and a local time range "HH:MM-HH:MM" */
  recur_days: readonly number[] | null
  recur_hours: string | null
  deleted_at: number | null
}

/** windowActive tells whether a window covers instant t. */
export function windowActive (w: TimeWindow, t: number, cal: BusinessCalendar): boolean {
  if (w.deleted_at !== null && w.deleted_at <= t) return false
  if (t < w.starts_at || t >= w.ends_at) return false
  if (w.recur_days === null && w.recur_hours === null) return true
  const l = localTime(t, cal.timezone)
  if (w.recur_days !== null && !w.recur_days.includes(l.weekday)) return false
  if (w.recur_hours !== null) {
    const r = parseHours(w.recur_hours)
    if (r === undefined || l.minute < r[0] || l.minute >= r[1]) return false
  }
  return true
}
