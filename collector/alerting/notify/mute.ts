// Mute: incidents under a silence or maintenance window now (or muted when they
// fired) leave every notice, whatever its kind; the dead-man mail stays, without them.

import type { BusinessCalendar } from '../../../common/calendar.js'
import { mutedBy } from '../silences.js'
import type { Incident, Window } from '../store.js'
import type { Notice, Stage } from './stage.js'

export class MuteStage implements Stage {
  /** windows reads the active silences and maintenance windows once per run */
  constructor (private readonly windows: () => readonly Window[] | Promise<readonly Window[]>, private readonly calendar: BusinessCalendar) {}

  async exec (notices: readonly Notice[], now: number): Promise<Notice[]> {
    const windows = await this.windows()
    const live = (i: Incident): boolean => i.suppressed_by === null && mutedBy(windows, { ...i.labels, severity: i.severity }, i.rule, now, this.calendar) === undefined
    return notices.flatMap(n => {
      const incidents = n.incidents.filter(live)
      return incidents.length > 0 || n.kind === 'deadman' ? [{ ...n, incidents }] : []
    })
  }
}
