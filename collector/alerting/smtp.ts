// Sends one outbox mail through SMTP (nodemailer, STARTTLS/TLS, auth), with its
// attached files, and says whether it was accepted, should be retried, or was refused for good.

import { access } from 'node:fs/promises'
import { basename } from 'node:path'
import nodemailer, { type Transporter } from 'nodemailer'
import type { SendResult } from '../../common/send-result.js'

export interface SmtpOptions {
  host: string
  port: number
  secure: boolean
  requireTLS?: boolean
  user?: string
  password?: string
  from: string
  timeoutMs: number
  rejectUnauthorized?: boolean
}

export class SmtpSender {
  private readonly t: Transporter

  constructor (private readonly o: SmtpOptions) {
    this.t = nodemailer.createTransport({
      host: o.host, port: o.port, secure: o.secure, requireTLS: o.requireTLS ?? false,
      ...(o.user !== undefined ? { auth: { user: o.user, pass: o.password ?? '' } } : {}),
      connectionTimeout: o.timeoutMs, greetingTimeout: o.timeoutMs, socketTimeout: o.timeoutMs,
      tls: { rejectUnauthorized: o.rejectUnauthorized ?? true }
    })
  }

  /**
   * send mails one message; attachments are file paths, read when sent (a missing one is a refusal, kept and retried hourly).
   * messageId is fixed per outbox row, so a mail sent twice (a crash right after the server's 250) is recognisably one.
   */
  async send (to: string[], subject: string, text: string, html: string, attachments: readonly string[] = [], messageId?: string): Promise<SendResult> {
    for (const f of attachments) {
      try { await access(f) } catch { return { kind: 'fail', reason: `attachment missing: ${f}` } }
    }
    try {
      const files = attachments.map(path => ({ filename: basename(path), path }))
      const info = await this.t.sendMail({ from: this.o.from, to, subject, text, html, ...(messageId !== undefined ? { messageId } : {}), ...(files.length > 0 ? { attachments: files } : {}) })
      if (info.rejected.length > 0 && info.accepted.length === 0) return { kind: 'fail', reason: `all recipients rejected: ${info.rejected.join(', ')}` }
      return { kind: 'ok' }
    } catch (err) {
      const e = err as { responseCode?: number, code?: string, message?: string }
      // 5xx from the server about the message itself cannot be fixed by retrying; everything else (4xx, network) can.
      if (e.responseCode !== undefined && e.responseCode >= 550 && e.responseCode < 560) return { kind: 'fail', reason: `${e.responseCode}: ${e.message ?? ''}`, status: e.responseCode }
      return { kind: 'retry', reason: `${e.code ?? e.responseCode ?? 'error'}: ${e.message ?? String(err)}`, status: e.responseCode }
    }
  }

  close (): void { this.t.close() }
}
