// Alert mails in Japanese or English, plain text and HTML: a subject that reads
// at a glance at 3 a.m. ("[CRITICAL] web01 disk / 96% (> 90%)"), then host,
// value, threshold, since when, the Grafana link and a signed acknowledge link.

import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Incident } from './store.js'

export type Locale = 'ja' | 'en'
export type MailKind = 'firing' | 'resolved' | 'repeat' | 'escalation'

export interface MailContext {
  locale: Locale
  timezone: string
  /** Grafana base URL; the host dashboard link is built from it */
  grafanaUrl?: string
  ackLink?: (incidentId: number) => string
  /** the console's incident view (the 障害 write-up), linked from resolved mails */
  incidentLink?: (incidentId: number) => string
  /** log lines to quote (log rules) */
  lines?: Map<number, string[]>
}

const WORDS = {
  ja: {
    severity: '重要度', host: 'ホスト', rule: 'ルール', value: '値', threshold: '閾値', since: '発生', resolved: '復旧',
    duration: '継続時間', grafana: 'Grafana', ack: '対応開始 (ack)', incident: '障害の記録 (報告書)', lines: '該当ログ (先頭)', site: '拠点',
    firingTag: '', resolvedTag: '[RESOLVED 復旧]', repeatTag: '[継続中]', escalationTag: '[ESCALATION 未対応]',
    many: (n: number) => `${n} 件のアラート`, footer: 'このメールは kanshi (監視) が自動送信しています。'
  },
  en: {
    severity: 'Severity', host: 'Host', rule: 'Rule', value: 'Value', threshold: 'Threshold', since: 'Since', resolved: 'Resolved',
    duration: 'Duration', grafana: 'Grafana', ack: 'Acknowledge', incident: 'Incident record (write-up)', lines: 'Matching log lines (first)', site: 'Site',
    firingTag: '', resolvedTag: '[RESOLVED]', repeatTag: '[STILL FIRING]', escalationTag: '[ESCALATION: not acknowledged]',
    many: (n: number) => `${n} alerts`, footer: 'This mail was sent by kanshi.'
  }
} as const

function formatTime (t: number, timezone: string, locale: Locale): string {
  const s = new Intl.DateTimeFormat('sv-SE', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(t))
  return `${s} ${timezone === 'Asia/Tokyo' ? (locale === 'ja' ? 'JST' : 'JST') : timezone}`
}

function duration (ms: number, locale: Locale): string {
  const m = Math.round(ms / 60_000)
  if (m < 60) return locale === 'ja' ? `${m}分` : `${m} min`
  const h = Math.floor(m / 60)
  return locale === 'ja' ? `${h}時間${m % 60}分` : `${h} h ${m % 60} min`
}

function escapeHtml (s: string): string {
  return s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

function summary (i: Incident, locale: Locale): string {
  return locale === 'en' && i.summary_en !== '' ? i.summary_en : i.summary
}

/** subjectLine: "[CRITICAL] <summary>" for one alert, "[CRITICAL] 3 alerts: rule (hosts…)" for a group. */
function subjectLine (kind: MailKind, incidents: Incident[], ctx: MailContext): string {
  const w = WORDS[ctx.locale]
  const sev = incidents.reduce((s, i) => i.severity === 'critical' ? 'critical' : s === 'critical' ? s : i.severity === 'warning' ? 'warning' : s, 'info')
  const tag = kind === 'resolved' ? w.resolvedTag : kind === 'repeat' ? `[${sev.toUpperCase()}] ${w.repeatTag}` : kind === 'escalation' ? `[${sev.toUpperCase()}] ${w.escalationTag}` : `[${sev.toUpperCase()}]`
  if (incidents.length === 1) return `${tag} ${summary(incidents[0]!, ctx.locale)}`
  const hosts = [...new Set(incidents.map(i => i.host))]
  const rules = [...new Set(incidents.map(i => i.rule))]
  return `${tag} ${w.many(incidents.length)}: ${rules.join(', ')} (${hosts.slice(0, 5).join(', ')}${hosts.length > 5 ? ', …' : ''})`
}

/** compose renders subject, text and HTML for a group of incidents. */
export function compose (kind: MailKind, incidents: Incident[], ctx: MailContext, now: number): { subject: string, text: string, html: string } {
  const w = WORDS[ctx.locale]
  const subject = subjectLine(kind, incidents, ctx)
  const blocks: Array<Array<[string, string, string?]>> = incidents.map(i => {
    const rows: Array<[string, string, string?]> = [
      [w.severity, i.severity.toUpperCase()],
      [w.host, i.host + (i.labels['site'] ? ` (${w.site}: ${i.labels['site']})` : '')],
      [w.rule, i.rule],
      [w.value, fmt(i.value)],
      ...(i.threshold !== null ? [[w.threshold, fmt(i.threshold)] as [string, string]] : []),
      [w.since, formatTime(i.detected_at, ctx.timezone, ctx.locale)],
      ...(i.resolved_at !== null ? [[w.resolved, formatTime(i.resolved_at, ctx.timezone, ctx.locale)] as [string, string], [w.duration, duration(i.resolved_at - i.detected_at, ctx.locale)] as [string, string]] : [[w.duration, duration(now - i.detected_at, ctx.locale)] as [string, string]])
    ]
    if (ctx.grafanaUrl !== undefined) {
      const url = `${ctx.grafanaUrl.replace(/\/+$/, '')}/d/kanshi-host/host-detail?var-host=${encodeURIComponent(i.host)}&from=${i.detected_at - 3_600_000}&to=${i.resolved_at ?? 'now'}`
      rows.push([w.grafana, url, url])
    }
    if (kind !== 'resolved' && ctx.ackLink !== undefined && i.acked_at === null) {
      const url = ctx.ackLink(i.id)
      rows.push([w.ack, url, url])
    }
    if (kind === 'resolved' && ctx.incidentLink !== undefined) {
      const url = ctx.incidentLink(i.merged_into ?? i.id)
      rows.push([w.incident, url, url])
    }
    return rows
  })
  const text = [subject, ''].concat(incidents.flatMap((i, n) => {
    const lines = ctx.lines?.get(i.id) ?? []
    const desc = ctx.locale === 'en' && i.description_en !== '' ? i.description_en : i.description
    return [
      `■ ${summary(i, ctx.locale)}`,
      ...(desc !== '' ? [`  ${desc}`] : []),
      ...blocks[n]!.map(([k, v]) => `  ${k}: ${v}`),
      ...(lines.length > 0 ? [`  ${w.lines}:`, ...lines.map(l => `    | ${l}`)] : []),
      ''
    ]
  })).concat(['--', w.footer]).join('\n')
  const html = `<!doctype html><html lang="${ctx.locale}"><body style="font-family:sans-serif">` +
    `<h2 style="color:${incidents.some(i => i.severity === 'critical') && kind !== 'resolved' ? '#c00' : '#333'}">${escapeHtml(subject)}</h2>` +
    incidents.map((i, n) => {
      const lines = ctx.lines?.get(i.id) ?? []
      const desc = ctx.locale === 'en' && i.description_en !== '' ? i.description_en : i.description
      return `<h3>${escapeHtml(summary(i, ctx.locale))}</h3>${desc !== '' ? `<p>${escapeHtml(desc)}</p>` : ''}<table cellpadding="4" style="border-collapse:collapse">` +
        blocks[n]!.map(([k, v, href]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${href !== undefined ? `<a href="${escapeHtml(href)}">${escapeHtml(v)}</a>` : escapeHtml(v)}</td></tr>`).join('') +
        '</table>' + (lines.length > 0 ? `<p>${escapeHtml(w.lines)}</p><pre>${escapeHtml(lines.join('\n'))}</pre>` : '')
    }).join('') + `<hr><small>${escapeHtml(w.footer)}</small></body></html>`
  return { subject, text, html }
}

function fmt (v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/\.?0+$/, '')
}

/** composeDeadman renders the periodic "kanshi is alive" mail, listing the alerts firing (unmuted). */
export function composeDeadman (open: readonly Incident[], locale: Locale): { subject: string, text: string, html: string } {
  const ja = locale === 'ja'
  const subject = ja ? `[kanshi] 監視は稼働中です (発生中のアラート ${open.length} 件)` : `[kanshi] monitoring is alive (${open.length} alerts firing)`
  const text = (ja ? 'kanshi コレクタは稼働しています。このメールが届かなくなった場合はコレクタを確認してください。' : 'The kanshi collector is running. If these mails stop arriving, check the collector.') +
    '\n\n' + open.map(i => `- [${i.severity.toUpperCase()}] ${summary(i, locale)}`).join('\n')
  return { subject, text, html: `<pre>${escapeHtml(text)}</pre>` }
}

/** Ack links carry an HMAC of the incident id and an expiry, so a mail can acknowledge without a login. */
export function signAck (secret: Buffer, id: number, expires: number): string {
  return createHmac('sha256', secret).update(`ack:${id}:${expires}`).digest('base64url')
}

export function verifyAck (secret: Buffer, id: number, expires: number, sig: string, now: number): boolean {
  if (!Number.isFinite(expires) || now > expires) return false
  const want = Buffer.from(signAck(secret, id, expires))
  const got = Buffer.from(sig)
  return want.length === got.length && timingSafeEqual(want, got)
}
