// The operator console: the page at /, its script and style, login and logout
// with API tokens, and one state call (agents and collector health). Alerts,
// silences and maintenance go through the alerting REST API (/v1/*), which
// accepts the console's session cookie through the RequestAuth returned here.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { Counter } from 'prom-client'
import type { ApiAuth, RequestAuth } from '../api/alerts.js'
import type { Alerting } from '../alerting/index.js'
import type { Ingest } from '../ingest/ingest.js'
import type { Metrics } from '../metrics.js'
import type { Wal } from '../state/wal/index.js'
import { CONSOLE_CSS, CONSOLE_HTML } from './page.js'
import { CONSOLE_JS } from './client.js'
import { LoginLimiter, SessionStore, csrfMatches, parseCookies, type ConsoleSession } from './sessions.js'

export interface ConsoleOptions {
  apiAuth: ApiAuth
  ingest: Ingest
  wal: Wal
  metrics: Metrics
  alerting: Alerting | undefined
  /** the WAL readers that exist (storage is read only when a database is configured) */
  readers: string[]
  tls: boolean
  grafanaUrl?: string | undefined
  /** the collector's URL as people reach it (behind a proxy the Host header may differ) */
  publicUrl?: string | undefined
  /** where login events go when alerting (whose audit log /v1/audit shows) is off */
  audit?: (actor: string, action: string, detail: unknown, at: number) => void
  logger: Logger
  now?: () => number
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

/** registerConsole adds the console's routes and returns how /v1/* recognises its sessions. */
export function registerConsole (app: FastifyInstance, o: ConsoleOptions): RequestAuth {
  const now = o.now ?? Date.now
  const sessions = new SessionStore(now)
  const limiter = new LoginLimiter(now)
  const log = o.logger
  // Under TLS the __Host- prefix makes the browser refuse the cookie unless Secure, Path=/ and host-only.
  const cookieName = o.tls ? '__Host-kanshi_session' : 'kanshi_session'
  const logins = new Counter({ name: 'kanshi_console_logins_total', help: 'Operator console login attempts by result', labelNames: ['result'], registers: [o.metrics.registry] })
  const publicOrigin = o.publicUrl === undefined ? undefined : new URL(o.publicUrl).origin

  const audit = (actor: string, action: string, detail: unknown): void => {
    if (o.alerting !== undefined) o.alerting.store.audit(actor, action, detail, now())
    else o.audit?.(actor, action, detail, now())
  }

  /** sameOrigin: Origin (or, without it, Sec-Fetch-Site) must show the request came from this site. */
  const sameOrigin = (req: FastifyRequest): boolean => {
    const origin = req.headers.origin
    if (typeof origin === 'string') return origin === `${o.tls ? 'https' : 'http'}://${req.headers.host ?? ''}` || origin === publicOrigin
    return req.headers['sec-fetch-site'] === 'same-origin'
  }

  const sessionOf = (req: FastifyRequest): ConsoleSession | undefined => sessions.get(parseCookies(req.headers.cookie).get(cookieName))

  /** writeGuard refuses a state change from a session without its CSRF token or from another site. */
  const writeGuard = (req: FastifyRequest, s: ConsoleSession): string | undefined => {
    if (!sameOrigin(req)) return 'cross-origin request refused'
    const h = req.headers['x-csrf-token']
    if (!csrfMatches(s, typeof h === 'string' ? h : undefined)) return 'a valid CSRF token (x-csrf-token header) is required'
    return undefined
  }

  const requestAuth: RequestAuth = req => {
    const s = sessionOf(req)
    if (s === undefined) return undefined
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const why = writeGuard(req, s)
      if (why !== undefined) return { refused: why }
    }
    return { name: s.name, role: s.role }
  }

  const cookie = (value: string, maxAge: number): string =>
    `${cookieName}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${o.tls ? '; Secure' : ''}`

  const me = (s: ConsoleSession): object => ({ name: s.name, role: s.role, csrf: s.csrf, alerting: o.alerting !== undefined })

  // The page polls: its reads log only warnings, so an open console does not fill the collector's log.
  const quiet = { logLevel: 'warn' as const }
  app.get('/', quiet, async (_req, reply) => await securityHeaders(reply).type('text/html; charset=utf-8').send(CONSOLE_HTML))
  app.get('/console.js', quiet, async (_req, reply) => await securityHeaders(reply).type('text/javascript; charset=utf-8').send(CONSOLE_JS))
  app.get('/console.css', quiet, async (_req, reply) => await securityHeaders(reply).type('text/css; charset=utf-8').send(CONSOLE_CSS))

  // Browsers ask for it on every page; an empty answer keeps 404s out of their consoles.
  app.get('/favicon.ico', quiet, async (_req, reply) => await reply.code(204).send())

  app.get('/console/session', quiet, async (req, reply) => {
    const s = sessionOf(req)
    securityHeaders(reply)
    if (s === undefined) return await reply.code(401).send({ code: 'E_AUTH', message: 'not logged in' })
    return me(s)
  })

  app.post('/console/login', { bodyLimit: 4096 }, async (req, reply) => {
    securityHeaders(reply)
    const addr = req.ip
    if (!sameOrigin(req)) {
      logins.inc({ result: 'cross_origin' })
      return await reply.code(403).send({ code: 'E_FORBIDDEN', message: 'cross-origin login refused' })
    }
    if (limiter.blocked(addr)) {
      logins.inc({ result: 'rate_limited' })
      return await reply.code(429).send({ code: 'E_RATE_LIMIT', message: 'too many failed logins from this address; try again later' })
    }
    const body = req.body as { token?: unknown } | undefined
    const token = typeof body?.token === 'string' ? body.token.trim() : ''
    const who = token === '' ? undefined : o.apiAuth.check(`Bearer ${token}`)
    if (who === undefined) {
      const n = limiter.fail(addr)
      logins.inc({ result: 'invalid' })
      log.warn({ remote: addr, failures: n }, 'console login failed')
      audit('console', 'console.login_failed', { remote: addr, failures: n })
      return await reply.code(401).send({ code: 'E_AUTH', message: 'the token is not valid' })
    }
    limiter.succeed(addr)
    const s = sessions.create(who.name, who.role)
    logins.inc({ result: 'ok' })
    log.info({ remote: addr, user: who.name, role: who.role }, 'console login')
    audit(`${who.name} (${who.role})`, 'console.login', { remote: addr })
    return await reply.header('set-cookie', cookie(s.id, sessions.maxAgeS)).send(me(s))
  })

  app.post('/console/logout', async (req, reply) => {
    securityHeaders(reply)
    const s = sessionOf(req)
    if (s === undefined) return await reply.code(401).send({ code: 'E_AUTH', message: 'not logged in' })
    const why = writeGuard(req, s)
    if (why !== undefined) return await reply.code(403).send({ code: 'E_FORBIDDEN', message: why })
    sessions.delete(s.id)
    audit(`${s.name} (${s.role})`, 'console.logout', { remote: req.ip })
    return await reply.header('set-cookie', cookie('', 0)).code(204).send()
  })

  app.get('/console/state', quiet, async (req, reply) => {
    securityHeaders(reply)
    if (sessionOf(req) === undefined) return await reply.code(401).send({ code: 'E_AUTH', message: 'not logged in' })
    // What /readyz decides, asked of the same app so the console never disagrees with the load balancer.
    const ready = await app.inject({ method: 'GET', url: '/readyz' })
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
        walOldestMs: age('storage'),
        alertingLagMs: age('alerting'),
        outbox: o.alerting?.store.pendingMail() ?? null,
        deadLetterPoints: dead
      },
      alerting: o.alerting !== undefined,
      grafanaUrl: o.grafanaUrl ?? null
    }
  })

  return requestAuth
}
