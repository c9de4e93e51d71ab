// type: backup — the newest file matching a pattern is at most N business days
// old (business days begun since it was written: a Friday-night backup is 1 day
// old all Monday, and a holiday does not count), and at least minGenerations
// files are kept. Fields: age_s, age_business_days, generations, newest_bytes.

import { readdirSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { localTime, type BusinessCalendar } from '../../../common/calendar.js'
import type { Check } from './types.js'

export interface BackupCheckOptions {
  /** a path whose file name may hold * and ? */
  path: string
  maxAgeDays: number
  minGenerations: number
  /** business days are counted on it (or on what the function gives on the first run); undefined counts every day */
  calendar: BusinessCalendar | (() => Promise<BusinessCalendar>) | undefined
  timezone?: string
  now?: () => number
}

function globToRe (g: string): RegExp {
  return new RegExp('^' + g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$')
}

/** nextDate is the calendar date after YYYY-MM-DD, with its weekday. */
function nextDate (y: number, m: number, d: number): { y: number, m: number, d: number, weekday: number, date: string } {
  const u = new Date(Date.UTC(y, m - 1, d + 1))
  const p = (n: number): string => String(n).padStart(2, '0')
  return { y: u.getUTCFullYear(), m: u.getUTCMonth() + 1, d: u.getUTCDate(), weekday: u.getUTCDay(), date: `${u.getUTCFullYear()}-${p(u.getUTCMonth() + 1)}-${p(u.getUTCDate())}` }
}

/**
 * businessDaysSince counts the days that began (local midnight) after `from` and
 * at or before `to` and are business days on the calendar (every day without one).
 */
export function businessDaysSince (from: number, to: number, calendar: BusinessCalendar | undefined, timezone = 'Asia/Tokyo'): number {
  if (to <= from) return 0
  const tz = calendar?.timezone ?? timezone
  const a = localTime(from, tz)
  const end = localTime(to, tz).date
  let cur = { y: a.year, m: a.month, d: a.day, date: a.date }
  let n = 0
  for (let i = 0; i < 4000; i++) {
    const next = nextDate(cur.y, cur.m, cur.d)
    if (next.date > end) break
    const open = calendar === undefined || calendar.closedReason({ date: next.date, year: next.y, month: next.m, day: next.d, weekday: next.weekday, minute: 0 }) === undefined
    if (open) n++
    cur = next
  }
  return n
}

export function backupCheck (o: BackupCheckOptions): Check {
  const now = o.now ?? Date.now
  return async () => {
    const dir = dirname(o.path)
    const re = globToRe(basename(o.path))
    let names: string[]
    try { names = readdirSync(dir) } catch (err) { return { up: false, message: `cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, fields: { generations: 0 } } }
    let newest: { file: string, mtime: number, size: number } | undefined
    let generations = 0
    for (const n of names) {
      if (!re.test(n)) continue
      try {
        const s = statSync(join(dir, n))
        if (!s.isFile()) continue
        generations++
        if (newest === undefined || s.mtimeMs > newest.mtime) newest = { file: n, mtime: s.mtimeMs, size: s.size }
      } catch { /* removed meanwhile */ }
    }
    if (newest === undefined) return { up: false, message: `no backup matches ${o.path}`, fields: { generations: 0 } }
    const t = now()
    const calendar = typeof o.calendar === 'function' ? await o.calendar() : o.calendar
    const days = businessDaysSince(newest.mtime, t, calendar, o.timezone)
    const fields = { age_s: Math.max(0, Math.round((t - newest.mtime) / 1000)), age_business_days: days, generations, newest_bytes: newest.size }
    const unit = o.calendar === undefined ? 'days' : 'business days'
    const problems: string[] = []
    if (days > o.maxAgeDays) problems.push(`newest ${newest.file} is ${days} ${unit} old (allowed ${o.maxAgeDays})`)
    if (generations < o.minGenerations) problems.push(`${generations} generations kept, expected at least ${o.minGenerations}`)
    if (problems.length > 0) return { up: false, message: problems.join('; '), fields }
    return { up: true, message: `${newest.file}: ${newest.size} bytes, ${days} ${unit} old, ${generations} generations`, fields }
  }
}
