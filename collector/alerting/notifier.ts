// Notification planning and delivery, after Alertmanager's stages but driven
// from the incident record, so a restart loses nothing: each tick turns due
// incidents into outbox mails (group_wait, group_interval, repeat_interval,
// resolved, escalation), then sends due outbox mails with retry and backoff.

import type { Logger } from 'pino'
import type { AlertStore, Incident, OutboxMail } from './store.js'
import { compose, type Locale, type MailKind } from './mail.js'
import { matcherMatches } from './mute.js'
import type { SendResult as SendOutcome } from '../../common/send-result.js'

export interface Receiver { name: string, email: string[], locale: Locale }
export interface Route { match: Record<string, string>, receiver: string }

export interface NotifierOptions {
  store: AlertStore
  send: (to: string[], subject: string, text: string, html: string) => Promise<SendOutcome>
  receivers: Receiver[]
  routes: Route[]
  groupWaitMs: number
  groupIntervalMs: number
  repeatIntervalMs: number
  escalation?: { afterMs: number, receiver: string }
  /** a periodic "kanshi is alive" mail, so a dead collector is noticed by its silence */
  deadman?: { intervalMs: number, receiver: string }
  timezone: string
  grafanaUrl?: string
  ackLink?: (id: number) => string
  linesOf?: (incident: Incident) => string[]
  /** mutedAt tells whether a silence or maintenance window covers the incident now (one created after it fired) */
  mutedAt?: (incident: Incident, now: number) => boolean
  logger: Logger
  onMail?: (kind: string, result: SendOutcome['kind']) => void
  random?: () => number
}

export class Notifier {
  private readonly lastGroupMail = new Map<string, number>()
  private sending = false
  private readonly receivers: Map<string, Receiver>

  constructor (private readonly o: NotifierOptions) {
    this.receivers = new Map(o.receivers.map(r => [r.name, r]))
  }

  /** route picks the receiver of an incident: the first route whose matchers (labels, severity, rule) match. */
  route (i: Incident): Receiver | undefined {
    const labels = { ...i.labels, severity: i.severity }
    for (const r of this.o.routes) {
      if (matcherMatches(r.match, labels, i.rule)) return this.receivers.get(r.receiver)
    }
    return undefined
  }

  /** plan turns due incidents into outbox mails; it runs in one transaction. */
  plan (now: number): number {
    const { store } = this.o
    let queued = 0
    store.tx(() => {
      // firing: wait group_wait for companions, then one mail per receiver and rule
      const live = (list: Incident[]): Incident[] => this.o.mutedAt === undefined ? list : list.filter(i => !this.o.mutedAt!(i, now))
      const groups = this.group(live(store.unnotified(now - this.o.groupWaitMs)), i => i.rule)
      for (const [key, { receiver, incidents }] of groups) {
        const last = this.lastGroupMail.get(key)
        if (last !== undefined && now - last < this.o.groupIntervalMs) continue
        this.enqueue('firing', receiver, incidents, now)
        store.markQueued(incidents.map(i => i.id), now)
        this.lastGroupMail.set(key, now)
        queued++
      }
      for (const [, { receiver, incidents }] of this.group(store.dueResolved(), () => 'resolved')) {
        this.enqueue('resolved', receiver, incidents, now)
        store.markResolvedQueued(incidents.map(i => i.id))
        queued++
      }
      for (const [, { receiver, incidents }] of this.group(live(store.dueRepeat(now - this.o.repeatIntervalMs)), () => 'repeat')) {
        this.enqueue('repeat', receiver, incidents, now)
        store.markQueued(incidents.map(i => i.id), now)
        queued++
      }
      const esc = this.o.escalation
      if (esc !== undefined) {
        const to = this.receivers.get(esc.receiver)
        const due = live(store.dueEscalation(now - esc.afterMs))
        if (to !== undefined && due.length > 0) {
          this.enqueue('escalation', to, due, now)
          store.markEscalated(due.map(i => i.id), now)
          queued++
        }
      }
      const dm = this.o.deadman
      const dmTo = dm === undefined ? undefined : this.receivers.get(dm.receiver)
      if (dm !== undefined && dmTo !== undefined && now - store.lastMailOf('deadman') >= dm.intervalMs) {
        const open = store.firing()
        const ja = dmTo.locale === 'ja'
        const subject = ja ? `[kanshi] 監視は稼働中です (発生中のアラート ${open.length} 件)` : `[kanshi] monitoring is alive (${open.length} alerts firing)`
        const text = (ja ? 'kanshi コレクタは稼働しています。このメールが届かなくなった場合はコレクタを確認してください。' : 'The kanshi collector is running. If these mails stop arriving, check the collector.') +
          '\n\n' + open.map(i => `- [${i.severity.toUpperCase()}] ${ja ? i.summary : i.summary_en}`).join('\n')
        store.enqueue({ kind: 'deadman', incident_ids: [], receiver: dmTo.name, recipients: dmTo.email, subject, text, html: `<pre>${text.replace(/[&<>]/g, c => c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;')}</pre>`, created_at: now })
        queued++
      }
    })
    return queued
  }

  private group (incidents: Incident[], by: (i: Incident) => string): Map<string, { receiver: Receiver, incidents: Incident[] }> {
    const out = new Map<string, { receiver: Receiver, incidents: Incident[] }>()
    for (const i of incidents) {
      const receiver = this.route(i)
      if (receiver === undefined) continue
      const key = `${receiver.name}\u0000${by(i)}`
      const g = out.get(key) ?? { receiver, incidents: [] }
      g.incidents.push(i)
      out.set(key, g)
    }
    return out
  }

  private enqueue (kind: MailKind, r: Receiver, incidents: Incident[], now: number): void {
    const lines = new Map<number, string[]>()
    if (this.o.linesOf !== undefined) for (const i of incidents) lines.set(i.id, this.o.linesOf(i))
    const m = compose(kind, incidents, {
      locale: r.locale, timezone: this.o.timezone, lines,
      ...(this.o.grafanaUrl !== undefined ? { grafanaUrl: this.o.grafanaUrl } : {}),
      ...(this.o.ackLink !== undefined ? { ackLink: this.o.ackLink } : {})
    }, now)
    this.o.store.enqueue({ kind, incident_ids: incidents.map(i => i.id), receiver: r.name, recipients: r.email, subject: m.subject, text: m.text, html: m.html, created_at: now })
  }

  /** deliver sends due outbox mails one at a time; a refusal is retried with backoff, never dropped. */
  async deliver (now: number): Promise<number> {
    if (this.sending) return 0
    this.sending = true
    let sent = 0
    try {
      for (const m of this.o.store.dueMail(now)) {
        const r = await this.o.send(m.recipients, m.subject, m.text, m.html)
        this.o.onMail?.(m.kind, r.kind)
        if (r.kind === 'ok') {
          // notified_at is when the SMTP server accepted the mail, read after the reply
          this.o.store.mailSent(m, Date.now())
          sent++
          continue
        }
        const retryAt = Date.now() + this.backoff(m, r.kind === 'fail')
        this.o.store.mailFailed(m.id, r.reason, retryAt)
        this.o.logger[m.attempts === 0 ? 'warn' : 'debug']({ mail: m.id, kind: m.kind, reason: r.reason, retryAt }, 'mail not accepted; kept in the outbox and retried')
        if (r.kind === 'retry') break // the server is down or busy: the rest waits too, keeping order
      }
    } finally {
      this.sending = false
    }
    return sent
  }

  private backoff (m: OutboxMail, final: boolean): number {
    if (final) return 3_600_000
    const cap = Math.min(600_000, 5000 * 2 ** Math.min(m.attempts, 10))
    return cap / 2 + (this.o.random ?? Math.random)() * cap / 2
  }
}
