// The 障害 API: one incident with its members, notices and edit history; the write-up
// (PATCH, operator), notices to users (障害発生告知) and merging or splitting by hand.
// Every change is audited with who, when and the before/after of the changed fields.

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { KanshiError } from '../../protocol/errors.js'
import type { Alerting } from '../alerting/index.js'
import type { Incident } from '../alerting/store.js'
import { fold, type WriteUp } from '../alerting/incident-store.js'
import type { AuditLog } from '../audit/log.js'
import type { Guard } from './auth.js'
import type { CollectorConfig } from '../config.js'
import { runIncidentReport } from '../report/incident/index.js'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const Text = (max = 20_000): ReturnType<typeof Type.String> => Type.String({ maxLength: max, description: `a text of at most ${max} characters` })
const Time = Type.Union([Type.String({ minLength: 1, description: 'an ISO 8601 time' }), Type.Null()], { description: 'an ISO 8601 time such as 2026-12-01T10:30:00+09:00, or null' })
const Flag = Type.Union([Type.Boolean(), Type.Null()], { description: 'true, false or null (judged by the report)' })

const PatchBody = Type.Object({
  cause: Type.Optional(Text()),
  impact: Type.Optional(Type.Object({
    systems: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 64, description: 'a list of system names' })),
    users: Type.Optional(Text(2000)),
    description: Type.Optional(Text())
  }, { additionalProperties: false })),
  actions: Type.Optional(Text()),
  prevention: Type.Optional(Text()),
  confirmedRecoveryAt: Type.Optional(Time),
  serviceAffecting: Type.Optional(Flag),
  major: Type.Optional(Flag),
  severity: Type.Optional(Type.Union([Type.Literal('critical'), Type.Literal('warning'), Type.Literal('info'), Type.Null()], { description: 'critical, warning, info, or null (the highest severity of its alerts)' })),
  exempt: Type.Optional(Type.Union([Type.Object({
    category: Type.String({ minLength: 1, maxLength: 100, description: 'an exemption category' }),
    reason: Type.String({ minLength: 1, maxLength: 2000, description: 'the reason' })
  }, { additionalProperties: false }), Type.Null()], { description: '{ category, reason } or null' }))
}, { additionalProperties: false, minProperties: 1 })
type PatchBodyT = Static<typeof PatchBody>

const NoticeBody = Type.Object({
  message: Type.String({ minLength: 1, maxLength: 4000, description: 'the notice text shown to users' }),
  expectedRecoveryAt: Type.Optional(Time)
}, { additionalProperties: false })
const NoticePatchBody = Type.Object({
  message: Type.Optional(Type.String({ minLength: 1, maxLength: 4000, description: 'the notice text shown to users' })),
  expectedRecoveryAt: Type.Optional(Time)
}, { additionalProperties: false, minProperties: 1 })
const MergeBody = Type.Object({ into: Type.Integer({ minimum: 1, description: 'an incident id' }) }, { additionalProperties: false })

/** checked validates a body and names the first bad field: "body.confirmedRecoveryAt: expected …". */
function checked<T extends TSchema> (schema: T): (body: unknown) => Static<T> {
  const c = TypeCompiler.Compile(schema)
  return body => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new KanshiError('E_BAD_REQUEST', 'body: expected a JSON object')
    const e = c.Errors(body).First()
    if (e !== undefined) {
      if (e.path === '') throw new KanshiError('E_BAD_REQUEST', `body: expected an object with some of ${Object.keys((schema as { properties?: object }).properties ?? {}).join(', ')}`)
      const want = (e.schema as { description?: string }).description ?? e.message
      throw new KanshiError('E_BAD_REQUEST', `body${e.path.replaceAll('/', '.')}: expected ${want}, got ${JSON.stringify(e.value)?.slice(0, 80) ?? 'nothing'}`)
    }
    return body as Static<T>
  }
}

function time (field: string, v: string | null): number | null {
  if (v === null) return null
  const t = Date.parse(v)
  if (Number.isNaN(t)) throw new KanshiError('E_BAD_REQUEST', `body.${field}: expected an ISO 8601 time such as 2026-12-01T10:30:00+09:00, got ${JSON.stringify(v).slice(0, 80)}`)
  return t
}

/** changesOf maps the API's names onto the stored write-up columns. */
function changesOf (b: PatchBodyT): Partial<WriteUp> {
  const c: Partial<WriteUp> = {}
  if (b.cause !== undefined) c.cause_text = b.cause
  if (b.impact?.description !== undefined) c.impact = b.impact.description
  if (b.impact?.users !== undefined) c.affected_users = b.impact.users
  if (b.impact?.systems !== undefined) c.systems = [...new Set(b.impact.systems)]
  if (b.actions !== undefined) c.actions = b.actions
  if (b.prevention !== undefined) c.prevention = b.prevention
  if (b.confirmedRecoveryAt !== undefined) c.confirmed_recovery_at = time('confirmedRecoveryAt', b.confirmedRecoveryAt)
  if (b.serviceAffecting !== undefined) c.service_affecting = b.serviceAffecting === null ? null : b.serviceAffecting ? 1 : 0
  if (b.major !== undefined) c.major_override = b.major === null ? null : b.major ? 1 : 0
  if (b.severity !== undefined) c.severity_override = b.severity
  if (b.exempt !== undefined) { c.exempt_category = b.exempt?.category ?? null; c.exempt_reason = b.exempt?.reason ?? null }
  return c
}

export interface IncidentApiOptions {
  alerting: Alerting
  audit: AuditLog
  need: Guard
  actorOf: (req: FastifyRequest) => string
  /** the collector's config: the 障害報告書 is generated from it on request */
  config?: CollectorConfig | undefined
  /** runs before a 障害報告書 is generated (cluster: the shared record is copied into alerting.db, which the report reads) */
  beforeReport?: (() => Promise<void>) | undefined
}

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) })

export const incidentApi: FastifyPluginAsync<IncidentApiOptions> = async (app, o) => {
  const { alerting, need, actorOf } = o
  const book = alerting.store.book
  const now = alerting.now
  const patchBody = checked(PatchBody)
  const noticeBody = checked(NoticeBody)
  const noticePatchBody = checked(NoticePatchBody)
  const mergeBody = checked(MergeBody)

  const primaryOf = async (id: number): Promise<Incident> => {
    const p = await book.primaryOf(id)
    if (p === undefined) throw new KanshiError('E_NOT_FOUND', `no incident ${id}`)
    return p
  }
  /** detail is the 障害 as the console and the report show it: primary, folded times, members, notices, history. */
  const detail = async (id: number): Promise<object> => {
    const p = await primaryOf(id)
    const members = await book.members(p.id)
    const ids = [p.id, ...members.map(m => m.id)]
    const history = o.audit.about('incident', p.id).concat(members.flatMap(m => o.audit.about('incident', m.id)))
      .filter(e => e.action.startsWith('incident.')).sort((a, b) => a.id - b.id)
    // timezone: the console shows and takes times in report.timezone.
    return { id, primary: p.id, incident: p, folded: fold(p, members), members, notices: await book.notices(p.id), history, ids, timezone: o.config?.report.timezone ?? 'Asia/Tokyo' }
  }

  app.get('/v1/incidents/:id', { onRequest: need('viewer'), schema: { params: IdParams } }, async req => await detail((req.params as { id: number }).id))

  // The 障害報告書 on request (no PDF: that needs Chromium on the collector); a download, never rendered in this origin.
  const ReportParams = Type.Object({ id: Type.Integer({ minimum: 1 }), format: Type.Union([Type.Literal('html'), Type.Literal('xlsx')]) })
  // One generation at a time: each queries InfluxDB and renders charts, and a viewer must not be able to pile them up.
  let generating: Promise<unknown> = Promise.resolve()
  app.get('/v1/incidents/:id/report.:format', { onRequest: need('viewer'), schema: { params: ReportParams } }, async (req, reply) => {
    const { id, format } = req.params as { id: number, format: 'html' | 'xlsx' }
    const turn = generating.catch(() => undefined)
    let done: () => void = () => undefined
    generating = new Promise<void>(resolve => { done = resolve })
    await turn
    try {
      return await incidentReport(id, format, (req.query as { lang?: string }).lang === 'en' ? 'en' : 'ja', reply)
    } finally {
      done()
    }
  })
  const incidentReport = async (id: number, format: 'html' | 'xlsx', lang: 'ja' | 'en', reply: FastifyReply): Promise<FastifyReply> => {
    const p = await primaryOf(id)
    if (o.config === undefined) throw new KanshiError('E_NOT_FOUND', 'the incident report is not available here')
    const dir = await mkdtemp(join(tmpdir(), 'kanshi-incident-'))
    try {
      // A write-up edited a moment ago (on any node) is in the report.
      await o.beforeReport?.()
      await runIncidentReport({ config: o.config, id: p.id, outDir: dir, lang, pdf: false, now: now() })
      const body = await readFile(join(dir, `incident.${format}`))
      return await reply.type(format === 'html' ? 'text/html; charset=utf-8' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', `attachment; filename="kanshi-incident-${p.id}.${format}"`).header('x-content-type-options', 'nosniff').send(body)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  app.patch('/v1/incidents/:id', { onRequest: need('operator'), schema: { params: IdParams } }, async req => {
    const id = (req.params as { id: number }).id
    const p = await primaryOf(id)
    if (p.id !== id) throw new KanshiError('E_BAD_REQUEST', `incident ${id} is merged into ${p.id}: edit the write-up of ${p.id}`)
    const { before, after } = await book.update(id, changesOf(patchBody(req.body)))
    if (Object.keys(after).length > 0) await alerting.store.audit(actorOf(req), 'incident.edit', { incident: id, before, after }, now())
    return await detail(id)
  })

  app.post('/v1/incidents/:id/notices', { onRequest: need('operator'), schema: { params: IdParams } }, async (req, reply) => {
    const id = (req.params as { id: number }).id
    const b = noticeBody(req.body)
    const p = await primaryOf(id)
    const at = now()
    const expected = b.expectedRecoveryAt === undefined ? null : time('expectedRecoveryAt', b.expectedRecoveryAt)
    const noticeId = await book.addNotice(p.id, { message: b.message, expected_recovery_at: expected, published_at: at, published_by: actorOf(req) })
    await alerting.store.audit(actorOf(req), 'incident.notice', { incident: p.id, notice: noticeId, message: b.message, expectedRecoveryAt: expected }, at)
    return await reply.code(201).send({ id: noticeId, incident: p.id, publishedAt: at, userNoticeAt: (await book.get(p.id))?.user_notice_at ?? null })
  })

  // A notice of the 障害 (id may be a member's): 404 naming why when it is not there or was withdrawn.
  const noticeOf = async (id: number, n: number): Promise<Incident> => {
    const p = await primaryOf(id)
    const found = (await book.notices(p.id)).find(x => x.id === n)
    if (found === undefined) throw new KanshiError('E_NOT_FOUND', `incident ${p.id} has no notice ${n}`)
    if (found.withdrawn_at !== null) throw new KanshiError('E_NOT_FOUND', `notice ${n} of incident ${p.id} was withdrawn`)
    return p
  }
  const NoticeParams = Type.Object({ id: Type.Integer({ minimum: 1 }), n: Type.Integer({ minimum: 1 }) })

  // Correcting a published notice: the status page shows the new text and when it was corrected; published_at (the 告知 time) stays.
  app.patch('/v1/incidents/:id/notices/:n', { onRequest: need('operator'), schema: { params: NoticeParams } }, async req => {
    const { id, n } = req.params as { id: number, n: number }
    const b = noticePatchBody(req.body)
    const p = await noticeOf(id, n)
    const at = now()
    const change = { ...(b.message !== undefined ? { message: b.message } : {}), ...(b.expectedRecoveryAt !== undefined ? { expected_recovery_at: time('expectedRecoveryAt', b.expectedRecoveryAt) } : {}) }
    const r = await book.changeNotice(p.id, n, change, actorOf(req), at)
    if (r === undefined) throw new KanshiError('E_NOT_FOUND', `notice ${n} of incident ${p.id} was withdrawn`)
    if (Object.keys(r.after).length > 0) await alerting.store.audit(actorOf(req), 'incident.notice.edit', { incident: p.id, notice: n, before: r.before, after: r.after }, at)
    return { id: n, incident: p.id, notice: (await book.notices(p.id)).find(x => x.id === n) }
  })

  // Withdrawing: off the status page, no longer the 告知; the row stays (marked) and the audit log keeps what it said.
  app.delete('/v1/incidents/:id/notices/:n', { onRequest: need('operator'), schema: { params: NoticeParams } }, async req => {
    const { id, n } = req.params as { id: number, n: number }
    const p = await noticeOf(id, n)
    const at = now()
    const w = await book.withdrawNotice(p.id, n, actorOf(req), at)
    if (w === undefined) throw new KanshiError('E_NOT_FOUND', `notice ${n} of incident ${p.id} was withdrawn`)
    await alerting.store.audit(actorOf(req), 'incident.notice.withdraw', { incident: p.id, notice: n, message: w.message, expectedRecoveryAt: w.expected_recovery_at, publishedAt: w.published_at }, at)
    return { id: n, incident: p.id, withdrawnAt: at, userNoticeAt: (await book.get(p.id))?.user_notice_at ?? null }
  })

  app.post('/v1/incidents/:id/merge', { onRequest: need('operator'), schema: { params: IdParams } }, async req => {
    const id = (req.params as { id: number }).id
    const { into } = mergeBody(req.body)
    const me = await book.get(id)
    if (me === undefined) throw new KanshiError('E_NOT_FOUND', `no incident ${id}`)
    if (await book.get(into) === undefined) throw new KanshiError('E_NOT_FOUND', `body.into: no incident ${into}`)
    let primary: number
    try { primary = await book.merge(id, into) } catch (err) { throw new KanshiError('E_BAD_REQUEST', `body.into: ${(err as Error).message}`) }
    await alerting.store.audit(actorOf(req), 'incident.merge', { incident: id, into: primary, before: { merged_into: me.merged_into }, after: { merged_into: primary } }, now())
    return await detail(primary)
  })

  app.post('/v1/incidents/:id/split', { onRequest: need('operator'), schema: { params: IdParams } }, async req => {
    const id = (req.params as { id: number }).id
    if (await book.get(id) === undefined) throw new KanshiError('E_NOT_FOUND', `no incident ${id}`)
    const from = await book.split(id)
    if (from === null) throw new KanshiError('E_BAD_REQUEST', `incident ${id} is not merged into another: split one of its members instead`)
    await alerting.store.audit(actorOf(req), 'incident.split', { incident: id, from, before: { merged_into: from }, after: { merged_into: null } }, now())
    return await detail(id)
  })
}
