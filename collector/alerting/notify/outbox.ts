// Outbox: each due notice becomes a mail in the durable outbox, and its incidents
// are marked (queued, resolved-mailed, escalated) in the same transaction, so a
// restart neither loses nor repeats a mail.

import { compose, composeDeadman, type Locale, type MailContext } from '../mail.js'
import type { AlertStore, Incident } from '../store.js'
import type { Notice, Stage } from './stage.js'

export interface OutboxOptions {
  store: AlertStore
  timezone: string
  grafanaUrl?: string | undefined
  ackLink?: ((id: number) => string) | undefined
  incidentLink?: ((id: number) => string) | undefined
  /** linesOf gives the log lines a log-rule incident quotes */
  linesOf?: (i: Incident) => string[]
}

export class OutboxStage implements Stage {
  constructor (private readonly o: OutboxOptions) {}

  async exec (notices: readonly Notice[], now: number): Promise<Notice[]> {
    const queued: Notice[] = []
    await this.o.store.tx(async store => {
      for (const n of notices) {
        const r = n.receiver
        if (r === undefined) continue
        const ids = n.incidents.map(i => i.id)
        const m = n.kind === 'deadman' ? composeDeadman(n.incidents, r.locale) : compose(n.kind, n.incidents, this.context(r.locale, n.incidents), now)
        await store.enqueue({ kind: n.kind, incident_ids: n.kind === 'deadman' ? [] : ids, receiver: r.name, recipients: [...r.email], subject: m.subject, text: m.text, html: m.html, created_at: now })
        if (n.kind === 'firing' || n.kind === 'repeat') await store.markQueued(ids, now)
        else if (n.kind === 'resolved') await store.markResolvedQueued(ids)
        else if (n.kind === 'escalation') await store.markEscalated(ids, now)
        queued.push(n)
      }
    })
    return queued
  }

  private context (locale: Locale, incidents: readonly Incident[]): MailContext {
    const lines = new Map<number, string[]>()
    if (this.o.linesOf !== undefined) for (const i of incidents) lines.set(i.id, this.o.linesOf(i))
    return {
      locale, timezone: this.o.timezone, lines,
      ...(this.o.grafanaUrl !== undefined ? { grafanaUrl: this.o.grafanaUrl } : {}),
      ...(this.o.ackLink !== undefined ? { ackLink: this.o.ackLink } : {}),
      ...(this.o.incidentLink !== undefined ? { incidentLink: this.o.incidentLink } : {})
    }
  }
}
