// The console's gate: session cookies, login limits, same-origin and CSRF
// checks. The console's routes use it to log in and out; the REST API uses its
// RequestAuth to accept a logged-in browser.

import type { FastifyRequest } from 'fastify'
import type { RequestAuth } from '../api/auth.js'
import { KanshiError } from '../../protocol/errors.js'
import { LoginLimiter, MemorySessions, SessionStore, csrfMatches, parseCookies, type ConsoleSession, type SessionBackend } from './sessions.js'

export interface GateOptions {
  tls: boolean
  /** the collector's URL as people reach it (behind a proxy the Host header may differ) */
  publicUrl?: string | undefined
  now: () => number
  /** where sessions live (default: in memory; PgSessions in cluster mode) */
  sessions?: SessionBackend
  /** told when the session backend fails (the request gets E_INTERNAL) */
  onError?: (err: unknown) => void
}

export interface ConsoleGate {
  sessions: SessionBackend
  limiter: LoginLimiter
  /** sameOrigin: Origin (or, without it, Sec-Fetch-Site) must show the request came from this site. */
  sameOrigin(req: FastifyRequest): boolean
  sessionOf(req: FastifyRequest): Promise<ConsoleSession | undefined>
  /** writeGuard says why a state change from a session is refused (no CSRF token, another site), or undefined. */
  writeGuard(req: FastifyRequest, s: ConsoleSession): string | undefined
  /** cookie is the Set-Cookie value for a session id (empty with maxAge 0 to log out) */
  cookie(value: string, maxAge: number): string
  requestAuth: RequestAuth
}

export function consoleGate (o: GateOptions): ConsoleGate {
  const sessions = o.sessions ?? new MemorySessions(new SessionStore(o.now))
  const limiter = new LoginLimiter(o.now)
  // Under TLS the __Host- prefix makes the browser refuse the cookie unless Secure, Path=/ and host-only.
  const cookieName = o.tls ? '__Host-kanshi_session' : 'kanshi_session'
  const publicOrigin = o.publicUrl === undefined ? undefined : new URL(o.publicUrl).origin

  const sameOrigin = (req: FastifyRequest): boolean => {
    const origin = req.headers.origin
    if (typeof origin === 'string') return origin === `${o.tls ? 'https' : 'http'}://${req.headers.host ?? ''}` || origin === publicOrigin
    return req.headers['sec-fetch-site'] === 'same-origin'
  }
  const sessionOf = async (req: FastifyRequest): Promise<ConsoleSession | undefined> => {
    const id = parseCookies(req.headers.cookie).get(cookieName)
    if (id === undefined || id === '') return undefined
    try {
      return await sessions.get(id)
    } catch (err) {
      o.onError?.(err)
      throw new KanshiError('E_INTERNAL', 'the console sessions cannot be read (PostgreSQL unreachable?); retry later or use an API token')
    }
  }
  const writeGuard = (req: FastifyRequest, s: ConsoleSession): string | undefined => {
    if (!sameOrigin(req)) return 'cross-origin request refused'
    const h = req.headers['x-csrf-token']
    if (!csrfMatches(s, typeof h === 'string' ? h : undefined)) return 'a valid CSRF token (x-csrf-token header) is required'
    return undefined
  }
  const requestAuth: RequestAuth = async req => {
    const s = await sessionOf(req)
    if (s === undefined) return undefined
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const why = writeGuard(req, s)
      if (why !== undefined) return { refused: why }
    }
    return { name: s.name, role: s.role }
  }
  const cookie = (value: string, maxAge: number): string =>
    `${cookieName}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${o.tls ? '; Secure' : ''}`
  return { sessions, limiter, sameOrigin, sessionOf, writeGuard, cookie, requestAuth }
}
