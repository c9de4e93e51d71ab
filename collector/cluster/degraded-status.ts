// What degraded mode (縮退運転) shows: the status object of the degrading alert store, the
// /readyz warning and the marks a critical mail carries while PostgreSQL is unreachable.

import type { Locale } from '../alerting/mail.js'

export interface ReconcileResult {
  at: number
  /** incidents written to PostgreSQL (opened or changed here while degraded) */
  incidents: number
  /** mails sent while degraded, recorded in PostgreSQL's outbox as sent */
  sent: number
  /** mails held while degraded, now queued in PostgreSQL */
  held: number
  /** local changes of agents another collector now holds: not written */
  dropped: number
  series: number
}

export interface DegradedStatus {
  /** alerting runs on the local store (PostgreSQL unreachable for cluster.degradedAfter) */
  degraded: boolean
  /** when degraded mode began (ms), or null */
  since: number | null
  /** when PostgreSQL stopped answering this node's alerting (ms), or null while it answers */
  unreachableSince: number | null
  /** non-critical mails held until the database returns */
  held: number
  /** critical mails queued while degraded, marked 縮退運転 / DEGRADED */
  sentDegraded: number
  /** local changes dropped at reconciliation since start (agents now held elsewhere) */
  dropped: number
  lastReconcile: ReconcileResult | null
}

/** jst formats a time as the console and mails do: 2026-12-07 08:10:00 JST. */
export function jst (ms: number, timezone = 'Asia/Tokyo'): string {
  const s = new Intl.DateTimeFormat('sv-SE', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(ms))
  return `${s} ${timezone === 'Asia/Tokyo' ? 'JST' : timezone}`
}

/** readyzWarning: the /readyz line while degraded (a warning: ingest and critical mail go on). */
export function readyzWarning (s: DegradedStatus | undefined): string | undefined {
  if (s === undefined || !s.degraded || s.since === null) return undefined
  return `alerting: degraded (縮退運転) since ${jst(s.since)}; ${s.held} mails held; PostgreSQL unreachable, critical alerts mailed by this collector alone`
}

const MARK = {
  ja: {
    tag: '[縮退運転]',
    line: (node: string) => `縮退運転: PostgreSQL に接続できないため、収集サーバ ${node} が単独で判断して送信しました。データベースの復旧後に記録を照合します。`
  },
  en: {
    tag: '[DEGRADED]',
    line: (node: string) => `DEGRADED: PostgreSQL is unreachable, so this collector (${node}) alone decided to send this mail. The record is reconciled when the database returns.`
  }
} as const

/** localeOfMail: the receiver's locale when known, else the language of the mail's footer (mail.ts). */
export function localeOfMail (text: string, known?: Locale): Locale {
  return known ?? (text.includes('このメールは kanshi') ? 'ja' : 'en')
}

/** markDegraded puts the 縮退運転 / DEGRADED tag in the subject and a line saying why at the top of the body. */
export function markDegraded (m: { subject: string, text: string, html: string }, locale: Locale, node: string): { subject: string, text: string, html: string } {
  const w = MARK[locale]
  const line = w.line(node)
  const esc = line.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
  return {
    subject: `${w.tag} ${m.subject}`,
    text: `${line}\n\n${m.text}`,
    html: `<p style="color:#b45309;font-weight:bold">${esc}</p>${m.html}`
  }
}
