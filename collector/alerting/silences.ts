// Silences and maintenance windows: which one, if any, mutes an alert at a time.
// Matchers name tags (host, role, site, service, mount …), severity or `rule`; "~" starts a regex.

import type { BusinessCalendar } from '../../common/calendar.js'
import { windowActive } from '../calendar/windows.js'
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

/** mutedBy returns "maintenance:<id>" or "silence:<id>" for the first window muting the alert, maintenance first. */
export function mutedBy (windows: readonly Window[], labels: Record<string, string>, rule: string, t: number, cal: BusinessCalendar): string | undefined {
  for (const kind of ['maintenance', 'silence'] as const) {
    for (const w of windows) {
      if (w.kind === kind && windowActive(w, t, cal) && matcherMatches(w.matchers, labels, rule)) return `${kind}:${w.id}`
    }
  }
  return undefined
}
