// The public status page: /status (HTML, ja/en, no login, no scripts) and /status.json.
// It shows only what an operator published as a notice to users (障害発生告知) — message,
// expected recovery, systems, times, resolved — never hosts, rules or alert text. A corrected
// notice shows its current text and when it was corrected; a withdrawn one is not shown.
// When status.enabled is false both routes answer 404 like any unknown path.

import { createHash } from 'node:crypto'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import type { Alerting } from '../alerting/index.js'
import { fold } from '../alerting/incident-store.js'
import type { StatusConfig } from './config.js'

type Lang = 'ja' | 'en'

export interface StatusEntry {
  systems: string[]
  resolved: boolean
  resolvedAt: number | null
  /** correctedAt: when an operator last corrected the notice (null: as first published) */
  notices: Array<{ message: string, expectedRecoveryAt: number | null, publishedAt: number, correctedAt: number | null }>
}

const WORDS = {
  ja: { none: '現在、お知らせはありません。', ongoing: '対応中', resolved: '復旧済み', systems: '対象システム', published: '掲載', expected: '復旧見込み', resolvedAt: '復旧', other: 'English', updated: '更新', corrected: '訂正' },
  en: { none: 'There are no notices at present.', ongoing: 'Ongoing', resolved: 'Resolved', systems: 'Systems', published: 'Published', expected: 'Expected recovery', resolvedAt: 'Recovered', other: '日本語', updated: 'Updated', corrected: 'Corrected' }
} as const

const CSS = 'body{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em;color:#222}h1{font-size:1.4em}' +
  'section{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;margin:1em 0}.ongoing{border-left:6px solid #c60}.resolved{border-left:6px solid #393}' +
  '.state{font-weight:bold}dl{margin:.3em 0}dt{float:left;clear:left;width:9em;color:#555}dd{margin-left:9.5em}p.msg{white-space:pre-wrap}small{color:#666}'
// The page's only style is this inline block: the CSP names it by hash, so nothing else runs or loads.
const CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`

function esc (s: string): string {
  return s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

function at (t: number, tz: string, lang: Lang): string {
  return new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }).format(new Date(t))
}

/** statusEntries groups the published notices by 障害, newest first; only published fields leave this function. */
export async function statusEntries (alerting: Alerting | undefined, since: number): Promise<StatusEntry[]> {
  if (alerting === undefined) return []
  const book = alerting.store.book
  const byIncident = new Map<number, StatusEntry>()
  for (const n of await book.published(since)) {
    let e = byIncident.get(n.incident_id)
    if (e === undefined) {
      const p = await book.get(n.incident_id)
      if (p === undefined) continue
      const f = fold(p, await book.members(p.id))
      const resolvedAt = f.resolved_at === null ? null : p.confirmed_recovery_at ?? f.resolved_at
      e = { systems: f.systems, resolved: resolvedAt !== null, resolvedAt, notices: [] }
      byIncident.set(n.incident_id, e)
    }
    e.notices.push({ message: n.message, expectedRecoveryAt: n.expected_recovery_at, publishedAt: n.published_at, correctedAt: n.corrected_at ?? null })
  }
  return [...byIncident.values()]
}

function page (title: string, entries: StatusEntry[], lang: Lang, tz: string, now: number): string {
  const w = WORDS[lang]
  const sections = entries.map(e => {
    const rows = [[w.systems, e.systems.join(', ') || '-'], ...(e.resolvedAt !== null ? [[w.resolvedAt, at(e.resolvedAt, tz, lang)]] : [])]
    return `<section class="${e.resolved ? 'resolved' : 'ongoing'}"><p class="state">${e.resolved ? w.resolved : w.ongoing}</p>` +
      `<dl>${rows.map(([k, v]) => `<dt>${esc(k!)}</dt><dd>${esc(v!)}</dd>`).join('')}</dl>` +
      e.notices.map(n => `<article><p class="msg">${esc(n.message)}</p><dl><dt>${w.published}</dt><dd>${esc(at(n.publishedAt, tz, lang))}</dd>` +
        (n.correctedAt !== null ? `<dt>${w.corrected}</dt><dd>${esc(at(n.correctedAt, tz, lang))}</dd>` : '') +
        (n.expectedRecoveryAt !== null ? `<dt>${w.expected}</dt><dd>${esc(at(n.expectedRecoveryAt, tz, lang))}</dd>` : '') + '</dl></article>').join('') +
      '</section>'
  }).join('')
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${esc(title)}</title><style>${CSS}</style></head><body><h1>${esc(title)}</h1>` +
    `<p><a href="?lang=${lang === 'ja' ? 'en' : 'ja'}">${w.other}</a> · <small>${w.updated}: ${esc(at(now, tz, lang))}</small></p>` +
    (sections === '' ? `<p>${w.none}</p>` : sections) + '</body></html>'
}

export interface StatusOptions {
  status: StatusConfig
  alerting: Alerting | undefined
  timezone: string
  now: () => number
}

function secure (reply: FastifyReply): FastifyReply {
  return reply.header('content-security-policy', CSP).header('x-frame-options', 'DENY').header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer').header('cache-control', 'no-store')
}

export const statusPage: FastifyPluginAsync<StatusOptions> = async (app, o) => {
  if (!o.status.enabled) return // no routes: 404 like any unknown path, telling nothing
  const quiet = { logLevel: 'warn' as const }
  const langOf = (q: unknown, accept: string | undefined): Lang => {
    const l = (q as { lang?: string }).lang
    if (l === 'en' || l === 'ja') return l
    return /^en\b/i.test(accept ?? '') ? 'en' : 'ja'
  }
  app.get('/status', quiet, async (req, reply) => {
    const now = o.now()
    const html = page(o.status.title, await statusEntries(o.alerting, now - o.status.keep), langOf(req.query, req.headers['accept-language']), o.timezone, now)
    return await secure(reply).type('text/html; charset=utf-8').send(html)
  })
  app.get('/status.json', quiet, async (_req, reply) => {
    const now = o.now()
    const entries = (await statusEntries(o.alerting, now - o.status.keep)).map(e => ({
      systems: e.systems, resolved: e.resolved, resolvedAt: iso(e.resolvedAt),
      notices: e.notices.map(n => ({ message: n.message, expectedRecoveryAt: iso(n.expectedRecoveryAt), publishedAt: iso(n.publishedAt), correctedAt: iso(n.correctedAt) }))
    }))
    return await secure(reply).header('access-control-allow-origin', '*').send({ title: o.status.title, updatedAt: iso(now), incidents: entries })
  })
}

function iso (t: number | null): string | null {
  return t === null ? null : new Date(t).toISOString()
}
