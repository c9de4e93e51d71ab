// The alerting REST API: alerts, acknowledgements (by token or by the signed
// link in a mail), silences, maintenance windows, rule reload and incidents.

import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { AnyKey } from '../../protocol/messages.js'
import { KanshiError } from '../../protocol/errors.js'
import type { Alerting } from '../alerting/index.js'
import { verifyAck } from '../alerting/mail.js'
import { parseHours } from '../calendar/schedules.js'
import type { Guard, Role } from './auth.js'

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

export interface AlertApiOptions {
  alerting: Alerting
  need: Guard
  actorOf: (req: FastifyRequest) => string
  now?: () => number
}

export const alertApi: FastifyPluginAsync<AlertApiOptions> = async (app, o) => {
  const { alerting, need, actorOf } = o
  const { store } = alerting
  const now = o.now ?? alerting.now

  app.get('/v1/alerts', { onRequest: need('viewer') }, async () => {
    const pending = [...alerting.evaluator.series.values()].filter(s => s.state === 'pending').map(s => ({ rule: s.rule, labels: s.labels, since: s.since, value: s.value }))
    return { firing: await store.firing(), pending }
  })

  app.get('/v1/incidents', { onRequest: need('viewer') }, async req => {
    const q = req.query as { from?: string, to?: string }
    const from = q.from === undefined ? now() - 30 * 86_400_000 : Date.parse(q.from)
    const to = q.to === undefined ? now() : Date.parse(q.to)
    if (Number.isNaN(from) || Number.isNaN(to)) throw new KanshiError('E_BAD_REQUEST', 'from and to must be ISO 8601 times')
    return { incidents: await store.incidents(from, to) }
  })

  const doAck = async (id: number, by: string): Promise<unknown> => {
    const before = await store.incident(id)
    if (before === undefined) throw new KanshiError('E_NOT_FOUND', `no incident ${id}`)
    const after = await store.ack(id, by, now())
    if (before.acked_at === null) await store.audit(by, 'alert.ack', { incident: id, rule: before.rule, host: before.host }, now())
    return after
  }

  app.post('/v1/alerts/:id/ack', { schema: { params: IdParams } }, async (req, reply) => {
    const id = (req.params as { id: number }).id
    const q = req.query as { exp?: string, sig?: string }
    // From a mail: the signed link stands in for a login; otherwise an operator token is needed.
    if (q.sig !== undefined) {
      if (![alerting.ackSecret, ...alerting.formerAckSecrets ?? []].some(s => verifyAck(s, id, Number(q.exp), q.sig!, now()))) throw new KanshiError('E_FORBIDDEN', 'the acknowledge link is invalid or has expired')
      return await doAck(id, 'mail link')
    }
    await need('operator')(req, reply)
    return await doAck(id, actorOf(req))
  })

  // A GET never changes state (mail scanners follow links): it shows a button that POSTs.
  app.get('/v1/alerts/:id/ack', { schema: { params: IdParams } }, async (req, reply) => {
    const id = (req.params as { id: number }).id
    const q = req.query as { exp?: string, sig?: string }
    const ok = q.sig !== undefined && [alerting.ackSecret, ...alerting.formerAckSecrets ?? []].some(s => verifyAck(s, id, Number(q.exp), q.sig!, now()))
    const inc = await store.incident(id)
    const esc = (s: string): string => s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)
    const body = !ok || inc === undefined
      ? '<p>このリンクは無効か期限切れです。 / This link is invalid or has expired.</p>'
      : `<h1>${esc(inc.summary)}</h1><p>${esc(inc.summary_en)}</p>` +
        (inc.acked_at !== null ? `<p>対応開始済み / Already acknowledged by ${esc(inc.acked_by ?? '')}</p>` : `<form method="post"><button type="submit">対応開始 (Acknowledge)</button></form>`)
    // An HTML page for people, not an API reply: 403 when the link is bad, with the same page shape.
    return await reply.code(ok ? 200 : 403).header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
      // Not framed (the button is a one-click action), and the signed link is not leaked onward.
      .header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer').send(`<!doctype html><meta charset="utf-8"><title>kanshi</title>${body}`)
  })

  for (const kind of ['silence', 'maintenance'] as const) {
    const path = kind === 'silence' ? '/v1/silences' : '/v1/maintenance'
    const role: Role = kind === 'silence' ? 'operator' : 'admin'
    app.get(path, { onRequest: need('viewer') }, async () => ({ [kind === 'silence' ? 'silences' : 'maintenance']: await store.windows(kind) }))
    app.post(path, { onRequest: need(role), schema: { body: WindowBody } }, async (req, reply) => {
      const b = req.body as WindowBodyT
      const start = Date.parse(b.start)
      const end = Date.parse(b.end)
      if (Number.isNaN(start) || Number.isNaN(end) || end <= start) throw new KanshiError('E_BAD_REQUEST', 'start and end must be ISO 8601 times with end after start')
      if (b.hours !== undefined && parseHours(b.hours) === undefined) throw new KanshiError('E_BAD_REQUEST', 'hours must be HH:MM-HH:MM with the start before the end')
      const id = await store.addWindow({ kind, name: b.name, matchers: b.match, starts_at: start, ends_at: end, recur_days: b.days ?? null, recur_hours: b.hours ?? null, created_by: actorOf(req), comment: b.comment ?? '' }, now())
      await store.audit(actorOf(req), `${kind}.create`, { id, ...b }, now())
      return await reply.code(201).send({ id })
    })
    app.delete(`${path}/:id`, { onRequest: need(role), schema: { params: IdParams } }, async (req, reply) => {
      const id = (req.params as { id: number }).id
      if (!await store.deleteWindow(id, now())) throw new KanshiError('E_NOT_FOUND', `no active ${kind} ${id}`)
      await store.audit(actorOf(req), `${kind}.delete`, { id }, now())
      return await reply.code(204).send()
    })
  }

  app.post('/v1/rules/reload', { onRequest: need('admin') }, async req => {
    let n: number
    try {
      n = await alerting.reload()
    } catch (err) {
      throw new KanshiError('E_BAD_RULES', (err as Error).message)
    }
    await store.audit(actorOf(req), 'rules.reload', { rules: n }, now())
    return { rules: n }
  })
}
