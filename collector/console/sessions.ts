// The operator console's logins: API tokens checked like ApiAuth does, sessions
// behind SessionBackend (in memory on one collector, a restart logs everyone out;
// in PostgreSQL in cluster mode), a CSRF token per session, and failed logins
// limited per address (per node).

import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Role } from '../api/auth.js'

export interface ConsoleLimits {
  sessionMaxMs: number
  sessionIdleMs: number
  maxSessions: number
  maxFailures: number
  failWindowMs: number
  maxAddresses: number
}

/** CONSOLE_DEFAULTS are the console's fixed limits, in one place (docs/console.md lists them). */
export const CONSOLE_DEFAULTS: Readonly<ConsoleLimits> = Object.freeze({
  /** a session ends this long after login, whatever happens */
  sessionMaxMs: 8 * 3_600_000,
  /** and this long after its last request */
  sessionIdleMs: 3_600_000,
  /** the oldest session is dropped above this many */
  maxSessions: 1000,
  /** failed logins allowed per address within failWindowMs; further tries get 429 until the window passes */
  maxFailures: 5,
  failWindowMs: 15 * 60_000,
  /** addresses remembered by the limiter (the oldest is forgotten first) */
  maxAddresses: 10_000
})

export interface ConsoleSession {
  id: string
  name: string
  role: Role
  csrf: string
  createdAt: number
  lastUsed: number
}

/** SessionStore holds sessions by their random id; every lookup enforces both expiries. */
export class SessionStore {
  private readonly byId = new Map<string, ConsoleSession>()

  constructor (private readonly now: () => number = Date.now, private readonly limits: Readonly<ConsoleLimits> = CONSOLE_DEFAULTS) {}

  get size (): number { return this.byId.size }

  create (name: string, role: Role): ConsoleSession {
    const t = this.now()
    const s: ConsoleSession = { id: randomBytes(32).toString('base64url'), name, role, csrf: randomBytes(32).toString('base64url'), createdAt: t, lastUsed: t }
    if (this.byId.size >= this.limits.maxSessions) {
      // Expired sessions go first; only a store full of live ones loses its oldest.
      for (const [id, old] of this.byId) if (this.expired(old, t)) this.byId.delete(id)
      if (this.byId.size >= this.limits.maxSessions) this.byId.delete(this.byId.keys().next().value!)
    }
    this.byId.set(s.id, s)
    return s
  }

  /** get returns a live session and marks it used; an expired one is removed. */
  get (id: string | undefined): ConsoleSession | undefined {
    if (id === undefined) return undefined
    const s = this.byId.get(id)
    if (s === undefined) return undefined
    const t = this.now()
    if (this.expired(s, t)) {
      this.byId.delete(id)
      return undefined
    }
    s.lastUsed = t
    return s
  }

  delete (id: string): void { this.byId.delete(id) }

  private expired (s: ConsoleSession, t: number): boolean {
    return t - s.createdAt > this.limits.sessionMaxMs || t - s.lastUsed > this.limits.sessionIdleMs
  }

  /** maxAgeS is the cookie lifetime: the absolute limit (the idle limit is enforced here, not by the browser). */
  get maxAgeS (): number { return Math.floor(this.limits.sessionMaxMs / 1000) }
}

/**
 * SessionBackend is where the console's sessions live: MemorySessions on one collector,
 * PgSessions (collector/cluster/console-sessions-pg.ts) shared by a cluster. Every get
 * enforces both expiries with the injected clock; create keeps at most maxSessions.
 */
export interface SessionBackend {
  readonly kind: 'memory' | 'postgres'
  create(name: string, role: Role): Promise<ConsoleSession>
  /** a live session, marked used; undefined when unknown or expired (an expired one is removed) */
  get(id: string | undefined): Promise<ConsoleSession | undefined>
  delete(id: string): Promise<void>
  /** the cookie lifetime in seconds (the absolute limit) */
  readonly maxAgeS: number
}

/** MemorySessions is the SessionStore of one collector behind the async SessionBackend. */
export class MemorySessions implements SessionBackend {
  readonly kind = 'memory' as const
  constructor (readonly store: SessionStore = new SessionStore()) {}
  async create (name: string, role: Role): Promise<ConsoleSession> { return { ...this.store.create(name, role) } }
  async get (id: string | undefined): Promise<ConsoleSession | undefined> {
    const s = this.store.get(id)
    return s === undefined ? undefined : { ...s }
  }

  async delete (id: string): Promise<void> { this.store.delete(id) }
  get maxAgeS (): number { return this.store.maxAgeS }
}

/** csrfMatches compares a presented CSRF token with the session's in constant time. */
export function csrfMatches (s: ConsoleSession, presented: string | undefined): boolean {
  if (presented === undefined) return false
  const a = Buffer.from(s.csrf)
  const b = Buffer.from(presented)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** LoginLimiter counts failed logins per address in a sliding window. */
export class LoginLimiter {
  private readonly fails = new Map<string, number[]>()

  constructor (private readonly now: () => number = Date.now, private readonly limits: Readonly<ConsoleLimits> = CONSOLE_DEFAULTS) {}

  private recent (addr: string): number[] {
    const t = this.now()
    const list = (this.fails.get(addr) ?? []).filter(x => t - x < this.limits.failWindowMs)
    if (list.length === 0) this.fails.delete(addr)
    else this.fails.set(addr, list)
    return list
  }

  blocked (addr: string): boolean { return this.recent(addr).length >= this.limits.maxFailures }

  /** fail records one failure and returns how many the address has in the window. */
  fail (addr: string): number {
    const list = this.recent(addr)
    list.push(this.now())
    this.fails.delete(addr)
    this.fails.set(addr, list)
    if (this.fails.size > this.limits.maxAddresses) this.fails.delete(this.fails.keys().next().value!)
    return list.length
  }

  succeed (addr: string): void { this.fails.delete(addr) }
}

/** parseCookies reads a Cookie header (no dependency needed for name=value pairs). */
export function parseCookies (header: string | undefined): Map<string, string> {
  const out = new Map<string, string>()
  if (header === undefined) return out
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i <= 0) continue
    out.set(part.slice(0, i).trim(), part.slice(i + 1).trim())
  }
  return out
}
