// The report's month in the office's timezone, cut into 5-minute slots (the
// rollup bucket), and the runs of slots inside service hours, each with the
// maintenance windows active in it: the intervals the availability queries ask for.

import { localTime, type BusinessCalendar } from '../../common/calendar.js'
import { japanCalendar } from '../../common/holidays.js'
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
  const cal = japanCalendar(calendar)
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

// ---- report periods: a month, a calendar quarter, a fiscal year, or from–to days ----

export type PeriodKind = 'month' | 'quarter' | 'fiscal-year' | 'range'

export interface Period {
  kind: PeriodKind
  /** "2026-10", "2026Q3", "FY2026", "2027-03-01_2027-03-20" (file names, the workbook title) */
  id: string
  /** [ja, en] labels, e.g. ["2026年第3四半期（令和8年度 第2四半期）", "2026 Q3 (fiscal 2026 Q2)"] */
  label: readonly [string, string]
  /** Unix ms of local midnight of the first day, and of the day after the last */
  start: number
  end: number
  timezone: string
  /** the months it covers, in order; a range's first and last month are clipped to it */
  months: Month[]
  /** the fiscal year (April–March) of its last day */
  fiscalYear: number
}

/** fiscalYearOf is the fiscal year (April–March) of a local calendar month. */
export function fiscalYearOf (year: number, month: number): number {
  return month >= 4 ? year : year - 1
}

/** eraYear names a fiscal or calendar year in the Japanese era: 令和8 for 2026, 令和元 for 2019, 平成30 for 2018. */
export function eraYear (year: number): string {
  if (year >= 2019) return year === 2019 ? '令和元' : `令和${year - 2018}`
  return year === 1989 ? '平成元' : `平成${year - 1988}`
}

/** fiscalQuarterOf: calendar quarter q of year → its fiscal year and quarter (2026Q3 → FY2026 Q2, 2026Q1 → FY2025 Q4). */
export function fiscalQuarterOf (year: number, q: number): { fy: number, fq: number } {
  return q === 1 ? { fy: year - 1, fq: 4 } : { fy: year, fq: q - 1 }
}

export function parseQuarter (s: string): { year: number, quarter: number } | undefined {
  const m = /^(\d{4})Q([1-4])$/i.exec(s)
  if (m === null || Number(m[1]) < 2000) return undefined
  return { year: Number(m[1]), quarter: Number(m[2]) }
}

export function parseFiscalYear (s: string): number | undefined {
  const m = /^(?:FY)?(\d{4})$/i.exec(s)
  return m === null || Number(m[1]) < 2000 ? undefined : Number(m[1])
}

/** parseDate reads a real calendar date YYYY-MM-DD (leap days included). */
export function parseDate (s: string): { year: number, month: number, day: number } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s)
  if (m === null) return undefined
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (year < 2000 || month < 1 || month > 12 || day < 1) return undefined
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate() ? { year, month, day } : undefined
}

function monthsBetween (y: number, m: number, count: number, tz: string): Month[] {
  const out: Month[] = []
  for (let i = 0; i < count; i++) {
    const k = (m - 1) + i
    out.push(makeMonth(y + Math.floor(k / 12), (k % 12) + 1, tz))
  }
  return out
}

export function monthPeriod (year: number, month: number, tz: string): Period {
  const mo = makeMonth(year, month, tz)
  const fy = fiscalYearOf(year, month)
  return { kind: 'month', id: mo.id, label: [`${year}年${month}月（${eraYear(fy)}年度）`, mo.id], start: mo.start, end: mo.end, timezone: tz, months: [mo], fiscalYear: fy }
}

export function quarterPeriod (year: number, quarter: number, tz: string): Period {
  const months = monthsBetween(year, quarter * 3 - 2, 3, tz)
  const { fy, fq } = fiscalQuarterOf(year, quarter)
  return {
    kind: 'quarter', id: `${year}Q${quarter}`,
    label: [`${year}年 第${quarter}四半期（${eraYear(fy)}年度 第${fq}四半期）`, `${year} Q${quarter} (fiscal ${fy} Q${fq})`],
    start: months[0]!.start, end: months[2]!.end, timezone: tz, months, fiscalYear: fy
  }
}

export function fiscalYearPeriod (fy: number, tz: string): Period {
  const months = monthsBetween(fy, 4, 12, tz)
  return {
    kind: 'fiscal-year', id: `FY${fy}`,
    label: [`${eraYear(fy)}年度（${fy}年度: ${fy}-04-01 – ${fy + 1}-03-31）`, `Fiscal ${fy} (${fy}-04-01 – ${fy + 1}-03-31)`],
    start: months[0]!.start, end: months[11]!.end, timezone: tz, months, fiscalYear: fy
  }
}

/** rangePeriod covers the local days from..to, both included; throws when to is before from. */
export function rangePeriod (from: string, to: string, tz: string): Period {
  const a = parseDate(from)
  const b = parseDate(to)
  if (a === undefined) throw new Error(`--from: expected a date YYYY-MM-DD, got ${JSON.stringify(from)}`)
  if (b === undefined) throw new Error(`--to: expected a date YYYY-MM-DD, got ${JSON.stringify(to)}`)
  if (to < from) throw new Error(`--to: expected a day on or after --from ${from}, got ${to}`)
  const start = zonedTime(a.year, a.month, a.day, 0, tz)
  const end = zonedTime(b.year, b.month, b.day, 24 * 60, tz)
  const count = (b.year - a.year) * 12 + b.month - a.month + 1
  const months = monthsBetween(a.year, a.month, count, tz).map(m => clipMonth(m, from, to, start, end))
  const fy = fiscalYearOf(b.year, b.month)
  return { kind: 'range', id: `${from}_${to}`, label: [`${from} – ${to}`, `${from} – ${to}`], start, end, timezone: tz, months, fiscalYear: fy }
}

function clipMonth (m: Month, from: string, to: string, start: number, end: number): Month {
  return { ...m, start: Math.max(m.start, start), end: Math.min(m.end, end), days: m.days.filter(d => d >= from && d <= to) }
}

/** fiscalYearStart is local midnight of 1 April opening fiscal year fy. */
export function fiscalYearStart (fy: number, tz: string): number {
  return zonedTime(fy, 4, 1, 0, tz)
}

/** startedMonths keeps the months that have begun by now (a fiscal-year report run mid-year). */
export function startedMonths (p: Period, now: number): Month[] {
  return p.months.filter(m => m.start <= now)
}

/** monthLabel: "2026-07" or, for a clipped month, "2027-03-01 – 2027-03-20". */
export function monthLabel (m: Month): string {
  const n = new Date(Date.UTC(m.year, m.month, 0)).getUTCDate()
  return m.days.length === n ? m.id : `${m.days[0]} – ${m.days[m.days.length - 1]}`
}
