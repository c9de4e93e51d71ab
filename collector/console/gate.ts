// The console's gate: session cookies, login limits, same-origin and CSRF
// checks. The console's routes use it to log in and out; the REST API uses its
// RequestAuth to accept a logged-in browser.

import type { FastifyRequest } from 'fastify'
import type { RequestAuth } from '../api/auth.js'
import { LoginLimiter, SessionStore, csrfMatches, parseCookies, type ConsoleSession } from './sessions.js'

export interface GateOptions {
  tls: boolean
  /** the collector's URL as people reach it (behind a proxy the Host header may differ) */
  publicUrl?: string | undefined
  now: () => number
}

export interface ConsoleGate {
  sessions: SessionStore
  limiter: LoginLimiter
  /** sameOrigin: Origin (or, without it, Sec-Fetch-Site) must show the request came from this site. */
  sameOrigin(req: FastifyRequest): boolean
  sessionOf(req: FastifyRequest): ConsoleSession | undefined
  /** writeGuard says why a state change from a session is refused (no CSRF token, another site), or undefined. */
  writeGuard(req: FastifyRequest, s: ConsoleSession): string | undefined
  /** cookie is the Set-Cookie value for a session id (empty with maxAge 0 to log out) */
  cookie(value: string, maxAge: number): string
  requestAuth: RequestAuth
}

export function consoleGate (o: GateOptions): ConsoleGate {
  const sessions = new SessionStore(o.now)
  const limiter = new LoginLimiter(o.now)
  // Under TLS the __Host- prefix makes the browser refuse the cookie unless Secure, Path=/ and host-only.
  const cookieName = o.tls ? '__Host-kanshi_session' : 'kanshi_session'
  const publicOrigin = o.publicUrl === undefined ? undefined : new URL(o.publicUrl).origin

  const sameOrigin = (req: FastifyRequest): boolean => {
    const origin = req.headers.origin
    if (typeof origin === 'string') return origin === `${o.tls ? 'https' : 'http'}://${req.headers.host ?? ''}` || origin === publicOrigin
    return req.headers['sec-fetch-site'] === 'same-origin'
  }
  const sessionOf = (req: FastifyRequest): ConsoleSession | undefined => sessions.get(parseCookies(req.headers.cookie).get(cookieName))
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
  return { sessions, limiter, sameOrigin, sessionOf, writeGuard, cookie, requestAuth }
}
