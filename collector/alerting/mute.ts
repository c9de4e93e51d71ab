// Silences and maintenance windows: which one, if any, mutes an alert at a
// time. Matchers name tags (host, role, site, service, mount …) or `rule`;
// a value starting with ~ is a regular expression.

import { localTime, parseHours, type BusinessCalendar } from './calendar.js'
import type { Matcher, Window } from './store.js'

export function matcherMatches (m: Matcher, labels: Record<string, string>, rule: string): boolean {
  for (const [k, want] of Object.entries(m)) {
    const have = k === 'rule' ? rule : labels[k]
    if (have === undefined) return false
    if (want.startsWith('~')) {
      let re: RegExp
      try { re = new RegExp(want.slice(1)) } catch { return false }
      if (!re.test(have)) return false
    } else if (have !== want) return false
  }
  return true
}

/** windowActive tells whether a window covers instant t (recurring ones in the calendar's timezone). */
export function windowActive (w: Window, t: number, cal: BusinessCalendar): boolean {
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

/** mutedBy returns "maintenance:<id>" or "silence:<id>" for the first window muting the alert, maintenance first. */
export function mutedBy (windows: Window[], labels: Record<string, string>, rule: string, t: number, cal: BusinessCalendar): string | undefined {
  for (const kind of ['maintenance', 'silence'] as const) {
    for (const w of windows) {
      if (w.kind === kind && windowActive(w, t, cal) && matcherMatches(w.matchers, labels, rule)) return `${kind}:${w.id}`
    }
  }
  return undefined
}
