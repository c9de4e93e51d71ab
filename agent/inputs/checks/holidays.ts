// The agent's Japanese national holidays: @holiday-jp/holiday_jp is 260 KB of
// script, about 2–3 MiB of RSS held for the agent's life, and only a backup check
// counting business days needs it. It is reached with import() on that check's
// first run; the single-file agent carries it compressed (scripts/bundle-lazy.ts).

import { BusinessCalendar, holidayLookup, type CalendarOptions, type HolidayLookup, type HolidayTable } from '../../../common/calendar.js'

let table: Promise<HolidayLookup> | undefined

function japaneseHolidays (): Promise<HolidayLookup> {
  table ??= import('@holiday-jp/holiday_jp').then(m => holidayLookup((m as { default?: HolidayTable }).default ?? (m as unknown as HolidayTable)))
  return table
}

/** lazyCalendar gives the business calendar on first call; without holidays it never loads the table. */
export function lazyCalendar (o: CalendarOptions): () => Promise<BusinessCalendar> {
  let cal: Promise<BusinessCalendar> | undefined
  return async () => {
    cal ??= o.holidays === false ? Promise.resolve(new BusinessCalendar(o, () => undefined)) : japaneseHolidays().then(h => new BusinessCalendar(o, h))
    return await cal
  }
}
