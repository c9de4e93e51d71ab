// The alerting REST API: alerts, acknowledgements (by token or by the signed
// link in a mail), silences, maintenance windows, rule reload, incidents and
// the audit log. Bearer tokens carry roles: viewer < operator < admin.

import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { AnyKey } from '../../protocol/messages.js'
import type { Alerting } from '../alerting/index.js'
import { verifyAck } from '../alerting/mail.js'
import { parseHours } from '../calendar/schedules.js'

export type Role = 'viewer' | 'operator' | 'admin'
const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 }

export interface ApiToken { name: string, tokenSha256: string, role: Role }

/** ApiAuth resolves a bearer token to its holder and role (hash lookup, constant-time confirm). */
export class ApiAuth {
  private readonly byHash: Map<string, { name: string, role: Role, hash: Buffer }>
  constructor (tokens: readonly ApiToken[]) {
    this.byHash = new Map(tokens.map(t => [t.tokenSha256, { name: t.name, role: t.role, hash: Buffer.from(t.tokenSha256, 'hex') }]))
  }

  check (header: string | undefined): { name: string, role: Role } | undefined {
    const m = header === undefined ? null : /^Bearer\s+(\S{1,512})$/i.exec(header)
    if (m === null) return undefined
    const d = createHash('sha256').update(m[1]!).digest()
    const e = this.byHash.get(d.toString('hex'))
    return e !== undefined && timingSafeEqual(d, e.hash) ? { name: e.name, role: e.role } : undefined
  }
}

const Matchers = Type.Record(AnyKey, Type.String({ minLength: 1, maxLength: 256 }), { minProperties: 1, maxProperties: 16, propertyNames: { minLength: 1, maxLength: 64 } })
const WindowBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  match: Matchers,
  start: Type.String({ minLength: 1 }),
  end: Type.String({ minLength: 1 }),
  days: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { maxItems: 7 })),
  hours: Type.Optional(Type.String({ pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$' })),
  comment: Type.Optional(Type.String({ maxLength: 1000 }))
}, { additionalProperties: false })
type WindowBodyT = Static<typeof WindowBody>
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) })

/**
 * RequestAuth resolves a request without a bearer token by other means (the
 * operator console's session cookie); `refused` is a 403 (a missing CSRF token).
 */
export type RequestAuth = (req: FastifyRequest) => { name: string, role: Role } | { refused: string } | undefined

export function registerAlertApi (app: FastifyInstance, alerting: Alerting, auth: ApiAuth, other?: RequestAuth): void {
  const { store, now } = alerting

  const need = (role: Role) => async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const alt = req.headers.authorization === undefined ? other?.(req) : undefined
    if (alt !== undefined && 'refused' in alt) return await reply.code(403).send({ code: 'E_FORBIDDEN', message: alt.refused })
    const who = auth.check(req.headers.authorization) ?? alt
    if (who === undefined) return await reply.code(401).header('www-authenticate', 'Bearer').send({ code: 'E_AUTH', message: 'a valid API token is required' })
    if (RANK[who.role] < RANK[role]) return await reply.code(403).send({ code: 'E_FORBIDDEN', message: `this needs the ${role} role; the token has ${who.role}` })
    ;(req as unknown as { actor: string }).actor = `${who.name} (${who.role})`
  }
  const actor = (req: FastifyRequest): string => (req as unknown as { actor: string }).actor

  app.get('/v1/alerts', { preHandler: need('viewer') }, async () => {
    const pending = [...alerting.evaluator.series.values()].filter(s => s.state === 'pending').map(s => ({ rule: s.rule, labels: s.labels, since: s.since, value: s.value }))
    return { firing: store.firing(), pending }
  })

  app.get('/v1/incidents', { preHandler: need('viewer') }, async (req, reply) => {
    const q = req.query as { from?: string, to?: string }
    const from = q.from === undefined ? now() - 30 * 86_400_000 : Date.parse(q.from)
    const to = q.to === undefined ? now() : Date.parse(q.to)
    if (Number.isNaN(from) || Number.isNaN(to)) return await reply.code(400).send({ code: 'E_BAD_REQUEST', message: 'from and to must be ISO 8601 times' })
    return { incidents: store.incidents(from, to) }
  })

  const doAck = async (id: number, by: string, reply: FastifyReply): Promise<unknown> => {
    const before = store.incident(id)
    if (before === undefined) return await reply.code(404).send({ code: 'E_NOT_FOUND', message: `no incident ${id}` })
    const after = store.ack(id, by, now())
    if (before.acked_at === null) store.audit(by, 'alert.ack', { incident: id, rule: before.rule, host: before.host }, now())
    return after
  }

  app.post('/v1/alerts/:id/ack', { schema: { params: IdParams } }, async (req, reply) => {
    const id = (req.params as { id: number }).id
    const q = req.query as { exp?: string, sig?: string }
    // From a mail: the signed link stands in for a login; otherwise an operator token is needed.
    if (q.sig !== undefined) {
      if (!verifyAck(alerting.ackSecret, id, Number(q.exp), q.sig, now())) return await reply.code(403).send({ code: 'E_FORBIDDEN', message: 'the acknowledge link is invalid or has expired' })
      return await doAck(id, 'mail link', reply)
    }
    await need('operator')(req, reply)
    if (reply.sent) return reply
    return await doAck(id, actor(req), reply)
  })

  // A GET never changes state (mail scanners follow links): it shows a button that POSTs.
  app.get('/v1/alerts/:id/ack', { schema: { params: IdParams } }, async (req, reply) => {
    const id = (req.params as { id: number }).id
    const q = req.query as { exp?: string, sig?: string }
    const ok = q.sig !== undefined && verifyAck(alerting.ackSecret, id, Number(q.exp), q.sig, now())
    const inc = store.incident(id)
    const esc = (s: string): string => s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)
    const body = !ok || inc === undefined
      ? '<p>このリンクは無効か期限切れです。 / This link is invalid or has expired.</p>'
      : `<h1>${esc(inc.summary)}</h1><p>${esc(inc.summary_en)}</p>` +
        (inc.acked_at !== null ? `<p>対応開始済み / Already acknowledged by ${esc(inc.acked_by ?? '')}</p>` : `<form method="post"><button type="submit">対応開始 (Acknowledge)</button></form>`)
    return await reply.code(ok ? 200 : 403).header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
      // Not framed (the button is a one-click action), and the signed link is not leaked onward.
      .header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer').send(`<!doctype html><meta charset="utf-8"><title>kanshi</title>${body}`)
  })

  for (const kind of ['silence', 'maintenance'] as const) {
    const path = kind === 'silence' ? '/v1/silences' : '/v1/maintenance'
    const role: Role = kind === 'silence' ? 'operator' : 'admin'
    app.get(path, { preHandler: need('viewer') }, async () => ({ [kind === 'silence' ? 'silences' : 'maintenance']: store.windows(kind) }))
    app.post(path, { preHandler: need(role), schema: { body: WindowBody } }, async (req, reply) => {
      const b = req.body as WindowBodyT
      const start = Date.parse(b.start)
      const end = Date.parse(b.end)
      if (Number.isNaN(start) || Number.isNaN(end) || end <= start) return await reply.code(400).send({ code: 'E_BAD_REQUEST', message: 'start and end must be ISO 8601 times with end after start' })
      if (b.hours !== undefined && parseHours(b.hours) === undefined) return await reply.code(400).send({ code: 'E_BAD_REQUEST', message: 'hours must be HH:MM-HH:MM with the start before the end' })
      const id = store.addWindow({ kind, name: b.name, matchers: b.match, starts_at: start, ends_at: end, recur_days: b.days ?? null, recur_hours: b.hours ?? null, created_by: actor(req), comment: b.comment ?? '' }, now())
      store.audit(actor(req), `${kind}.create`, { id, ...b }, now())
      return await reply.code(201).send({ id })
    })
    app.delete(`${path}/:id`, { preHandler: need(role), schema: { params: IdParams } }, async (req, reply) => {
      const id = (req.params as { id: number }).id
      if (!store.deleteWindow(id, now())) return await reply.code(404).send({ code: 'E_NOT_FOUND', message: `no active ${kind} ${id}` })
      store.audit(actor(req), `${kind}.delete`, { id }, now())
      return await reply.code(204).send()
    })
  }

  app.post('/v1/rules/reload', { preHandler: need('admin') }, async (req, reply) => {
    try {
      const n = alerting.reload()
      store.audit(actor(req), 'rules.reload', { rules: n }, now())
      return { rules: n }
    } catch (err) {
      return await reply.code(400).send({ code: 'E_BAD_RULES', message: (err as Error).message })
    }
  })

  app.get('/v1/audit', { preHandler: need('admin') }, async () => ({ brokenAt: alerting.store.verifyAudit() ?? null, entries: store.auditLog(200) }))
}
