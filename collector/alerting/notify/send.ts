// Send: due outbox mails (with their attachments) go to SMTP one at a time, oldest first.
// A refusal is kept and retried with backoff, never dropped; a server that is down holds
// the rest. A report mail's acceptance is recorded in the audit log.

import type { Logger } from 'pino'
import { backoffDelay } from '../../../common/backoff.js'
import type { SendResult } from '../../../common/send-result.js'
import { basename } from 'node:path'
import type { AlertStore, OutboxMail } from '../store.js'

/** A permanent refusal (5xx about the message) is still tried again, once an hour. */
export const FINAL_RETRY_MS = 3_600_000
/** Temporary refusals back off from 2.5–5 s to at most 5–10 min. */
const MAIL_BACKOFF = { minMs: 5000, maxMs: 600_000 }

/** MailSend hands one mail to SMTP; attachments are file paths; messageId is the outbox row's own. */
export type MailSend = (to: string[], subject: string, text: string, html: string, attachments: readonly string[], messageId?: string) => Promise<SendResult>

/** messageIdOf: one Message-ID per outbox row, unique to the store (one collector, or one cluster). */
export const messageIdOf = (id: number, scope: string): string => `<outbox-${id}.${scope}@kanshi>`

export interface SendOptions {
  store: AlertStore
  send: MailSend
  /** the clock, read again after each SMTP reply (notified_at is the acceptance time) */
  now: () => number
  logger: Logger
  onMail?: ((kind: string, result: SendResult['kind']) => void) | undefined
  random?: (() => number) | undefined
}

export class SendStage {
  private sending = false

  constructor (private readonly o: SendOptions) {}

  /** exec sends the mails due at now; it returns how many the server accepted. */
  async exec (now: number): Promise<number> {
    if (this.sending) return 0
    this.sending = true
    let sent = 0
    try {
      const scope = await this.o.store.scope()
      for (const m of await this.o.store.dueMail(now)) {
        const r = await this.o.send(m.recipients, m.subject, m.text, m.html, m.attachments, m.message_id ?? messageIdOf(m.id, scope))
        this.o.onMail?.(m.kind, r.kind)
        if (r.kind === 'ok') {
          const at = this.o.now()
          await this.o.store.mailSent(m, at)
          if (m.kind === 'report') await this.o.store.audit('collector', 'report.delivered', { mail: m.id, receiver: m.receiver, recipients: m.recipients, subject: m.subject, attachments: m.attachments.map(f => basename(f)), attempts: m.attempts + 1 }, at)
          sent++
          continue
        }
        const retryAt = this.o.now() + this.retryDelay(m, r.kind === 'fail')
        await this.o.store.mailFailed(m.id, r.reason, retryAt)
        this.o.logger[m.attempts === 0 ? 'warn' : 'debug']({ mail: m.id, kind: m.kind, reason: r.reason, retryAt }, 'mail not accepted; kept in the outbox and retried')
        if (r.kind === 'retry') break
      }
    } finally {
      this.sending = false
    }
    return sent
  }

  private retryDelay (m: OutboxMail, final: boolean): number {
    return final ? FINAL_RETRY_MS : backoffDelay({ ...MAIL_BACKOFF, ...(this.o.random !== undefined ? { random: this.o.random } : {}) }, m.attempts)
  }
}
