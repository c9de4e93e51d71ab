// REST API authentication: bearer tokens carry roles (viewer < operator < admin);
// the console's session cookie is accepted through a RequestAuth.

import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { KanshiError } from '../../protocol/errors.js'

export type Role = 'viewer' | 'operator' | 'admin'
const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 }

export interface ApiToken { name: string, tokenSha256: string, role: Role }

/** ApiAuth resolves a bearer token to its holder and role (hash lookup, constant-time confirm). */
export class ApiAuth {
  private readonly byHash: Map<string, { name: string, role: Role, hash: Buffer }>
  constructor (tokens: readonly ApiToken[]) {
    this.byHash = new Map(tokens.map(t => [t.tokenSha256, { name: t.name, role: t.role, hash: Buffer.from(t.tokenSha256, 'hex') }]))
  }

  /** told the name of each token accepted (its last use is recorded: api/token-use.ts) */
  onUse: ((name: string) => void) | undefined

  check (header: string | undefined): { name: string, role: Role } | undefined {
    const m = header === undefined ? null : /^Bearer\s+(\S{1,512})$/i.exec(header)
    if (m === null) return undefined
    const d = createHash('sha256').update(m[1]!).digest()
    const e = this.byHash.get(d.toString('hex'))
    if (e === undefined || !timingSafeEqual(d, e.hash)) return undefined
    this.onUse?.(e.name)
    return { name: e.name, role: e.role }
  }
}

/**
 * RequestAuth resolves a request without a bearer token by other means (the
 * operator console's session cookie); `refused` is a 403 (a missing CSRF token).
 */
export type RequestAuth = (req: FastifyRequest) => Promise<{ name: string, role: Role } | { refused: string } | undefined>

export type Guard = (role: Role) => (req: FastifyRequest, reply: FastifyReply) => Promise<void>

/** Caller is who a request acts as: the holder of a bearer token or of a console session. */
export interface Caller { name: string, role: Role }

/** atLeast says whether a role carries another's rights (viewer < operator < admin). */
export function atLeast (have: Role, want: Role): boolean {
  return RANK[have] >= RANK[want]
}

/**
 * guard builds hooks that require a role (routes run them as onRequest, so a stranger gets 401
 * before any body or parameter is looked at) and record who called as
 * `actorOf(req)` ("name (role)"), for the audit log; `callerOf` resolves a
 * request without refusing it (a page that shows more to a viewer).
 */
export function guard (auth: ApiAuth, other?: RequestAuth): { need: Guard, actorOf: (req: FastifyRequest) => string, callerOf: (req: FastifyRequest) => Promise<Caller | undefined> } {
  const actors = new WeakMap<FastifyRequest, string>()
  const need: Guard = role => async (req, reply) => {
    const alt = req.headers.authorization === undefined ? await other?.(req) : undefined
    if (alt !== undefined && 'refused' in alt) throw new KanshiError('E_FORBIDDEN', alt.refused)
    const who = auth.check(req.headers.authorization) ?? alt
    if (who === undefined) {
      reply.header('www-authenticate', 'Bearer')
      throw new KanshiError('E_AUTH', 'a valid API token is required')
    }
    if (!atLeast(who.role, role)) throw new KanshiError('E_FORBIDDEN', `this needs the ${role} role; the token has ${who.role}`)
    actors.set(req, `${who.name} (${who.role})`)
  }
  const callerOf = async (req: FastifyRequest): Promise<Caller | undefined> => {
    // Only tells who asks (/readyz): a session store that cannot answer makes the caller a stranger, not an error.
    const alt = req.headers.authorization === undefined ? await other?.(req).catch(() => undefined) : undefined
    if (alt !== undefined && 'refused' in alt) return undefined
    return auth.check(req.headers.authorization) ?? alt
  }
  return { need, actorOf: req => actors.get(req) ?? '', callerOf }
}
