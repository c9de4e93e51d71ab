// Named schedules (opening hours on some days) over the business calendar: a rule,
// a kiosk or the report's service hours ask whether an instant is inside one.

import { localTime, type BusinessCalendar, type LocalTime } from '../../common/calendar.js'

export interface ScheduleSpec {
  name: string
  /** 'business' (the business calendar), 'all', or weekday numbers 0–6 */
  days: 'business' | 'all' | readonly number[]
  /** opening hours, "HH:MM-HH:MM", local time; empty = all day */
  hours?: readonly string[]
}

export interface Schedule {
  readonly name: string
  /** contains tells whether instant t is inside the schedule */
  contains(t: number): boolean
}

const HOURS_RE = /^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/

/** parseHours turns "08:30-17:45" into [510, 1065] minutes; undefined when malformed. */
export function parseHours (s: string): [number, number] | undefined {
  const m = HOURS_RE.exec(s)
  if (m === null) return undefined
  const a = Number(m[1]) * 60 + Number(m[2])
  const b = Number(m[3]) * 60 + Number(m[4])
  return a < b && b <= 1440 ? [a, b] : undefined
}

export function makeSchedule (spec: ScheduleSpec, cal: BusinessCalendar): Schedule {
  const ranges = (spec.hours ?? []).map(h => {
    const r = parseHours(h)
    if (r === undefined) throw new Error(`schedule ${spec.name}: hours "${h}" is not HH:MM-HH:MM`)
    return r
  })
  const dayOk = (l: LocalTime): boolean => spec.days === 'all' ? true
    : spec.days === 'business' ? cal.closedReason(l) === undefined
      : spec.days.includes(l.weekday)
  return {
    name: spec.name,
    contains (t: number): boolean {
      const l = localTime(t, cal.timezone)
      if (!dayOk(l)) return false
      return ranges.length === 0 || ranges.some(([a, b]) => l.minute >= a && l.minute < b)
    }
  }
}

export const ALWAYS: Schedule = { name: 'always', contains: () => true }
