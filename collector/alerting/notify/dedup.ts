// Dedup and repeat: when each notice is due. A firing incident waits group_wait
// for companions and a group mails at most once per group_interval; an open,
// unacknowledged incident is mailed again every repeat_interval; the dead-man
// mail once per its interval. Resolved and escalation notices pass.

import type { Incident } from '../store.js'
import type { Notice, NoticeKind, Stage } from './stage.js'

export interface DedupOptions {
  groupWaitMs: number
  groupIntervalMs: number
  repeatIntervalMs: number
  deadmanIntervalMs?: number | undefined
  /** lastQueued says when the newest mail of a kind was queued (0 when never); it survives restarts */
  lastQueued: (kind: NoticeKind) => number
}

export class DedupStage implements Stage {
  /** when each group last had a firing mail queued (kept in memory, as group_interval is short) */
  private readonly lastGroupMail = new Map<string, number>()

  constructor (private readonly o: DedupOptions) {}

  exec (notices: readonly Notice[], now: number): Notice[] {
    return notices.flatMap(n => {
      const due = this.due(n, now)
      return due === undefined ? [] : [due]
    })
  }

  private due (n: Notice, now: number): Notice | undefined {
    const keep = (f: (i: Incident) => boolean): Notice | undefined => {
      const incidents = n.incidents.filter(f)
      return incidents.length > 0 ? { ...n, incidents } : undefined
    }
    switch (n.kind) {
      case 'firing': {
        const waited = keep(i => i.last_notified_at === null && i.detected_at <= now - this.o.groupWaitMs)
        const key = n.key ?? ''
        const last = this.lastGroupMail.get(key)
        if (waited === undefined || (last !== undefined && now - last < this.o.groupIntervalMs)) return undefined
        this.lastGroupMail.set(key, now)
        return waited
      }
      case 'repeat':
        return keep(i => i.acked_at === null && i.last_notified_at !== null && i.last_notified_at <= now - this.o.repeatIntervalMs)
      case 'deadman': {
        const every = this.o.deadmanIntervalMs
        return every !== undefined && now - this.o.lastQueued('deadman') >= every ? n : undefined
      }
      default:
        return n
    }
  }
}
