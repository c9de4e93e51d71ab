// Japanese national holidays from @holiday-jp/holiday_jp, loaded with the module: for the
// collector. The agent reaches the table with import() only when a backup check counts
// business days (agent/inputs/checks/holidays.ts).

import holidayJp from '@holiday-jp/holiday_jp'
import { BusinessCalendar, holidayLookup, type CalendarOptions } from './calendar.js'

/** holidayName returns the Japanese national holiday of a local date (YYYY-MM-DD), if any. */
export const holidayName = holidayLookup(holidayJp)

/** japanCalendar is the business calendar with Japanese national holidays. */
export function japanCalendar (o: CalendarOptions = {}): BusinessCalendar {
  return new BusinessCalendar(o, holidayName)
}
