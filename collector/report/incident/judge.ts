// The 障害報告書 judges its own times against the targets of each business system it belongs
// to, exactly as the period report counts them (systems/incidents.ts): recovery within
// recoveryMinutes, the first mail (報告) and the user notice (告知) within noticeMinutes.

import type { SystemConfig } from '../../config/systems.js'
import type { IncidentRow } from '../incidents.js'
import { belongsTo, systemIncident } from '../systems/incidents.js'
import type { Judgement } from './data.js'

/** judge lists, per system of the 障害, its recovery, report and notice against the targets; asOf judges one still open. */
export function judge (row: IncidentRow, systems: readonly SystemConfig[], asOf: number): Judgement[] {
  const out: Judgement[] = []
  for (const sys of systems) {
    if (!belongsTo(row, sys)) continue
    const j = systemIncident(row, sys, asOf)
    out.push(
      { system: sys.name, key: 'recovery', limitMin: sys.targets.recoveryMinutes, tookMin: j.recoveryMin, met: j.recoveryMet, counted: j.counted },
      { system: sys.name, key: 'report', limitMin: sys.targets.noticeMinutes, tookMin: row.notifyMin, met: j.reportMet, counted: j.counted },
      { system: sys.name, key: 'notice', limitMin: sys.targets.noticeMinutes, tookMin: row.userNoticeMin, met: j.noticeMet, counted: j.counted }
    )
  }
  return out
}
