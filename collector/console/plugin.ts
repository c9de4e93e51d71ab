// The operator console: the page at /, its script and style, login and logout
// with API tokens, and one state call (agents and collector health). Alerts,
// silences, maintenance and the generated reports go through the REST API
// (/v1/*), which accepts the console's session cookie through the gate's RequestAuth.

import { DEVICES_JS } from './devices.js'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import type { Logger } from 'pino'
import { Counter } from 'prom-client'
import { KanshiError } from '../../protocol/errors.js'
import type { ApiAuth } from '../api/auth.js'
import type { Alerting } from '../alerting/index.js'
import type { AuditLog } from '../audit/log.js'
import type { Ingest } from '../ingest/ingest.js'
import type { Metrics } from '../metrics.js'
import type { Wal } from '../state/wal/index.js'
import type { ConsoleGate } from './gate.js'
import type { ConsoleSession } from './sessions.js'
import { CONSOLE_CSS, CONSOLE_HTML } from './page.js'
import { CONSOLE_JS } from './client.js'
import { INCIDENT_HTML } from './incident-page.js'
import { INCIDENT_JS } from './incident-client.js'

export interface ConsoleOptions {
  gate: ConsoleGate
  apiAuth: ApiAuth
  ingest: Ingest
  wal: Wal
  metrics: Metrics
  alerting: Alerting | undefined
  audit: AuditLog
  /** the WAL readers that exist (storage is read only when a database is configured) */
  readers: string[]
  /** the storage writers' readers (one per InfluxDB target); the oldest record any of them waits for is shown */
  storageReaders?: string[]
  grafanaUrl?: string | undefined
  logger: Logger
  now: () => number
}

// Scripts only from /console.js, no inline code, no framing, no outside hosts.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

function securityHeaders (reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
}

export const consolePlugin: FastifyPluginAsync<ConsoleOptions> = async (app, o) => {
  const { gate, now } = o
  const log = o.logger
  const logins = new Counter({ name: 'kanshi_console_logins_total', help: 'Operator console login attempts by result', labelNames: ['result'], registers: [o.metrics.registry] })
  const audit = (actor: string, action: string, detail: unknown): void => o.audit.append(actor, action, detail, now())
  const me = (s: ConsoleSession): object => ({ name: s.name, role: s.role, csrf: s.csrf, alerting: o.alerting !== undefined })
  const loggedIn = (s: ConsoleSession | undefined): ConsoleSession => {
    if (s === undefined) throw new KanshiError('E_AUTH', 'not logged in')
    return s
  }

  // Every console reply, refusals included, carries the security headers.
  app.addHook('onRequest', async (_req, reply) => { securityHeaders(reply) })

  // The page polls: its reads log only warnings, so an open console does not fill the collector's log.
  const quiet = { logLevel: 'warn' as const }
  app.get('/', quiet, async (_req, reply) => await reply.type('text/html; charset=utf-8').send(CONSOLE_HTML))
  app.get('/console.js', quiet, async (_req, reply) => await reply.type('text/javascript; charset=utf-8').send(CONSOLE_JS))
  app.get('/console-devices.js', quiet, async (_req, reply) => await reply.type('text/javascript; charset=utf-8').send(DEVICES_JS))
  app.get('/console.css', quiet, async (_req, reply) => await reply.type('text/css; charset=utf-8').send(CONSOLE_CSS))

  // The incident view: a page of its own; it reads and writes through /v1/incidents with the session.
  app.get('/console/incidents/:id', quiet, async (_req, reply) => await reply.type('text/html; charset=utf-8').send(INCIDENT_HTML))
  app.get('/console-incident.js', quiet, async (_req, reply) => await reply.type('text/javascript; charset=utf-8').send(INCIDENT_JS))

  // Browsers ask for it on every page; an empty answer keeps 404s out of their consoles.
  app.get('/favicon.ico', quiet, async (_req, reply) => await reply.code(204).send())

  app.get('/console/session', quiet, async req => me(loggedIn(await gate.sessionOf(req))))

  app.post('/console/login', { bodyLimit: 4096 }, async (req, reply) => {
    const addr = req.ip
    if (!gate.sameOrigin(req)) {
      logins.inc({ result: 'cross_origin' })
      throw new KanshiError('E_FORBIDDEN', 'cross-origin login refused')
    }
    if (gate.limiter.blocked(addr)) {
      logins.inc({ result: 'rate_limited' })
      throw new KanshiError('E_RATE_LIMIT', 'too many failed logins from this address; try again later')
    }
    const body = req.body as { token?: unknown } | undefined
    const token = typeof body?.token === 'string' ? body.token.trim() : ''
    const who = token === '' ? undefined : o.apiAuth.check(`Bearer ${token}`)
    if (who === undefined) {
      const n = gate.limiter.fail(addr)
      logins.inc({ result: 'invalid' })
      log.warn({ remote: addr, failures: n }, 'console login failed')
      audit('console', 'console.login_failed', { remote: addr, failures: n })
      throw new KanshiError('E_AUTH', 'the token is not valid')
    }
    gate.limiter.succeed(addr)
    const s = await gate.sessions.create(who.name, who.role)
    logins.inc({ result: 'ok' })
    log.info({ remote: addr, user: who.name, role: who.role }, 'console login')
    audit(`${who.name} (${who.role})`, 'console.login', { remote: addr })
    return await reply.header('set-cookie', gate.cookie(s.id, gate.sessions.maxAgeS)).send(me(s))
  })

  app.post('/console/logout', async (req, reply) => {
    const s = loggedIn(await gate.sessionOf(req))
    const why = gate.writeGuard(req, s)
    if (why !== undefined) throw new KanshiError('E_FORBIDDEN', why)
    await gate.sessions.delete(s.id)
    audit(`${s.name} (${s.role})`, 'console.logout', { remote: req.ip })
    return await reply.header('set-cookie', gate.cookie('', 0)).code(204).send()
  })

  app.get('/console/state', quiet, async req => {
    loggedIn(await gate.sessionOf(req))
    // What /readyz decides, asked of the same app so the console never disagrees with the load balancer;
    // the session goes along, so /readyz gives the reasons it keeps from strangers.
    const ready = await app.inject({ method: 'GET', url: '/readyz', headers: { cookie: req.headers.cookie ?? '' } })
    const t = now()
    const age = (name: string): number | null => {
      if (!o.readers.includes(name)) return null
      const ts = o.wal.reader(name).oldestPendingTs
      return ts === 0 ? 0 : Math.max(0, t - ts)
    }
    const dead = (await o.metrics.deadLettered.get()).values.reduce((a, v) => a + v.value, 0)
    return {
      now: t,
      agents: [...o.ingest.status.values()].sort((a, b) => a.id.localeCompare(b.id)),
      health: {
        ...(ready.json() as object),
        ready: ready.statusCode === 200,
        walOldestMs: (o.storageReaders ?? ['storage']).map(age).reduce<number | null>((a, b) => b === null ? a : Math.max(a ?? 0, b), null),
        alertingLagMs: age('alerting'),
        outbox: o.alerting === undefined ? null : await o.alerting.store.pendingMail().catch(() => null),
        deadLetterPoints: dead
      },
      alerting: o.alerting !== undefined,
      grafanaUrl: o.grafanaUrl ?? null
    }
  })
}
