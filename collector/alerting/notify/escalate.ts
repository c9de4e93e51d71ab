// Escalate: a critical incident still unacknowledged `after` its first mail was
// accepted is mailed once to the escalation receiver.

import type { Notice, Stage } from './stage.js'

export class EscalateStage implements Stage {
  constructor (private readonly afterMs: number) {}

  exec (notices: readonly Notice[], now: number): Notice[] {
    return notices.flatMap(n => {
      if (n.kind !== 'escalation') return [n]
      const incidents = n.incidents.filter(i => i.severity === 'critical' && i.acked_at === null && i.escalated_at === null &&
        i.notified_at !== null && i.notified_at <= now - this.afterMs)
      return incidents.length > 0 ? [{ ...n, incidents }] : []
    })
  }
}
