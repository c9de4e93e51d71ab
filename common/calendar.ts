// The business calendar shared by alerting, maintenance windows, the SLA report and the agent's backup check:
// Japanese national holidays, the year-end closure and configured days, in the office's timezone.
// The holidays themselves are a table passed in: common/holidays.ts for the collector, a lazily loaded
// one for the agent (agent/inputs/checks/holidays.ts), since the table is 260 KB of script that V8 keeps.

export interface LocalTime {
  /** YYYY-MM-DD in the calendar's timezone */
  date: string
  year: number
  month: number
  day: number
  /** 0 = Sunday … 6 = Saturday */
  weekday: number
  /** minutes since local midnight */
  minute: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 }

/** localTime breaks a Unix ms instant into the calendar fields of a timezone. */
export function localTime (t: number, timeZone: string): LocalTime {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short', hour: '2-digit', minute: '2-digit' })
    formatters.set(timeZone, f)
  }
  const p: Record<string, string> = {}
  for (const part of f.formatToParts(new Date(t))) p[part.type] = part.value
  const year = Number(p['year'])
  const month = Number(p['month'])
  const day = Number(p['day'])
  return { date: `${p['year']}-${p['month']}-${p['day']}`, year, month, day, weekday: WEEKDAYS[p['weekday']!]!, minute: Number(p['hour']) * 60 + Number(p['minute']) }
}

/** isValidTimeZone tells whether Intl knows the zone (for config checks). */
export function isValidTimeZone (tz: string): boolean {
  try { new Intl.DateTimeFormat('en-US', { timeZone: tz }); return true } catch { return false }
}

/** HolidayLookup names the Japanese national holiday of a local date (YYYY-MM-DD), or gives undefined. */
export type HolidayLookup = (date: string) => string | undefined

/** HolidayTable is what the lookup needs of @holiday-jp/holiday_jp. */
export interface HolidayTable {
  isHoliday: (date: Date) => boolean
  between: (start: Date, end: Date) => ReadonlyArray<{ name: string }>
}

/** holidayLookup makes the lookup from the table. */
export function holidayLookup (table: HolidayTable): HolidayLookup {
  return date => {
    const [y, m, d] = date.split('-').map(Number)
    // The library reads local date fields; a Date built from local fields round-trips whatever the process TZ is.
    const local = new Date(y!, m! - 1, d!)
    if (!table.isHoliday(local)) return undefined
    return table.between(local, local)[0]?.name ?? '祝日'
  }
}

export interface CalendarOptions {
  timezone?: string
  /** Japanese national holidays are closed days (default true) */
  holidays?: boolean
  /** the year-end closure 29 Dec – 3 Jan (年末年始) is closed (default true) */
  yearEndClosure?: boolean
  /** extra closed days, YYYY-MM-DD */
  closedDays?: readonly string[]
  /** extra open days (a Saturday opening, for example), YYYY-MM-DD: they override every closure */
  openDays?: readonly string[]
  /** weekdays that are closed (default Saturday and Sunday) */
  closedWeekdays?: readonly number[]
}

/** BusinessCalendar answers "is this a business day" for a local date (japanCalendar in common/holidays.ts makes one). */
export class BusinessCalendar {
  readonly timezone: string
  private readonly o: Required<Omit<CalendarOptions, 'closedDays' | 'openDays' | 'closedWeekdays'>>
  private readonly closed: Set<string>
  private readonly open: Set<string>
  private readonly closedWeekdays: Set<number>
  private readonly holidayName: HolidayLookup

  constructor (o: CalendarOptions, holidayName: HolidayLookup) {
    this.holidayName = holidayName
    this.timezone = o.timezone ?? 'Asia/Tokyo'
    this.o = { timezone: this.timezone, holidays: o.holidays ?? true, yearEndClosure: o.yearEndClosure ?? true }
    this.closed = new Set(o.closedDays ?? [])
    this.open = new Set(o.openDays ?? [])
    this.closedWeekdays = new Set(o.closedWeekdays ?? [0, 6])
  }

  /** closedReason says why a local date is closed, or undefined on a business day. */
  closedReason (l: LocalTime): string | undefined {
    if (this.open.has(l.date)) return undefined
    if (this.closed.has(l.date)) return 'closed day (config)'
    if (this.o.yearEndClosure && ((l.month === 12 && l.day >= 29) || (l.month === 1 && l.day <= 3))) return '年末年始 (year-end closure)'
    if (this.o.holidays) {
      const h = this.holidayName(l.date)
      if (h !== undefined) return `祝日: ${h}`
    }
    if (this.closedWeekdays.has(l.weekday)) return 'weekend'
    return undefined
  }

  isBusinessDay (t: number): boolean {
    return this.closedReason(localTime(t, this.timezone)) === undefined
  }
}
