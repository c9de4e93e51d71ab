// Group: route each incident to its receiver (the first route whose matchers
// match) and split notices per receiver, and per rule for firing mails.
// Escalation and dead-man mails go to their own configured receiver.

import { matcherMatches } from '../silences.js'
import type { Incident } from '../store.js'
import type { Notice, Receiver, Route, Stage } from './stage.js'

export interface GroupOptions {
  receivers: readonly Receiver[]
  routes: readonly Route[]
  escalation?: string | undefined
  deadman?: string | undefined
}

export class GroupStage implements Stage {
  private readonly receivers: Map<string, Receiver>

  constructor (private readonly o: GroupOptions) {
    this.receivers = new Map(o.receivers.map(r => [r.name, r]))
  }

  /** route picks the receiver of an incident by labels, severity and rule; undefined when no route matches. */
  route (i: Incident): Receiver | undefined {
    const labels = { ...i.labels, severity: i.severity }
    const r = this.o.routes.find(r => matcherMatches(r.match, labels, i.rule))
    return r === undefined ? undefined : this.receivers.get(r.receiver)
  }

  exec (notices: readonly Notice[]): Notice[] {
    const out: Notice[] = []
    for (const n of notices) {
      if (n.kind === 'escalation' || n.kind === 'deadman') {
        const receiver = this.receivers.get(this.o[n.kind] ?? '')
        if (receiver !== undefined) out.push({ ...n, receiver, key: `${receiver.name}\u0000${n.kind}` })
        continue
      }
      const groups = new Map<string, Notice>()
      for (const i of n.incidents) {
        const receiver = this.route(i)
        if (receiver === undefined) continue
        const key = `${receiver.name}\u0000${n.kind}${n.kind === 'firing' ? `\u0000${i.rule}` : ''}`
        const g = groups.get(key) ?? { kind: n.kind, incidents: [], receiver, key }
        g.incidents.push(i)
        groups.set(key, g)
      }
      out.push(...groups.values())
    }
    return out
  }
}
