// Agent authentication: the bearer token's SHA-256 selects the agent entry, then
// a constant-time compare confirms it. Failed attempts are limited per address.
// An agent may have two valid tokens while one is rotated (tokenSha256Next).

import { createHash, timingSafeEqual } from 'node:crypto'
import { devicePolicy, type DevicePolicy } from '../state/device-stamp.js'

export interface Identity {
  id: string
  role: string
  site: string
  labels: Record<string, string>
  /** tokenSha256 is the hash of the token this connection presented, so a reload can cut sessions of a revoked token */
  tokenSha256?: string
  /** the devices this agent may poll (agents[].devices); absent: none */
  devices?: DevicePolicy | undefined
}

interface Entry extends Identity { hash: Buffer }

export interface AgentEntry { id: string, tokenSha256: string, tokenSha256Next?: string | undefined, role: string, site: string, labels: Record<string, string>, devices?: boolean | readonly string[] | undefined }

export function sha256Hex (token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

export class AgentAuth {
  private byHash = new Map<string, Entry>()

  constructor (agents: readonly AgentEntry[]) {
    this.reload(agents)
  }

  reload (agents: readonly AgentEntry[]): void {
    const m = new Map<string, Entry>()
    const ids = new Set(agents.map(a => a.id))
    const before = new Map([...this.byHash.values()].map(e => [e.id, e.devices?.pinged]))
    for (const a of agents) {
      // what was pinged survives a reload (the same map, shared with sessions still open): ping keeps deciding
      const devices = devicePolicy(a.devices ?? false, ids, before.get(a.id))
      for (const h of [a.tokenSha256, a.tokenSha256Next]) {
        if (h === undefined) continue
        const hex = h.toLowerCase()
        m.set(hex, { id: a.id, role: a.role, site: a.site, labels: { ...a.labels }, tokenSha256: hex, hash: Buffer.from(hex, 'hex'), devices })
      }
    }
    this.byHash = m
  }

  /** size is the number of valid tokens (two for an agent in the middle of a rotation). */
  get size (): number { return this.byHash.size }

  /** valid tells whether a token hash still authenticates (after a reload). */
  valid (tokenSha256: string): boolean { return this.byHash.has(tokenSha256) }

  identities (): Identity[] {
    const seen = new Map<string, Identity>()
    for (const e of this.byHash.values()) if (!seen.has(e.id)) seen.set(e.id, { id: e.id, role: e.role, site: e.site, labels: e.labels })
    return [...seen.values()]
  }

  /**
   * authenticate returns the identity for an Authorization header value, or
   * undefined. The map lookup is keyed by a hash the caller cannot steer, so it
   * leaks nothing about stored tokens; the final compare is constant-time anyway.
   */
  authenticate (header: string | undefined): Identity | undefined {
    if (header === undefined) return undefined
    const m = /^Bearer\s+(\S{1,512})\s*$/i.exec(header)
    if (m === null) return undefined
    const digest = createHash('sha256').update(m[1]!, 'utf8').digest()
    const e = this.byHash.get(digest.toString('hex'))
    if (e === undefined || !timingSafeEqual(digest, e.hash)) return undefined
    return { id: e.id, role: e.role, site: e.site, labels: e.labels, tokenSha256: e.tokenSha256!, devices: e.devices }
  }
}

/** AddressLimiter counts failures and open sockets per remote address. */
export class AddressLimiter {
  private readonly failures = new Map<string, { n: number, since: number }>()
  private readonly open = new Map<string, number>()

  constructor (private readonly maxFailuresPerMinute: number, private readonly maxOpen: number, private readonly now: () => number = Date.now) {}

  blocked (addr: string): boolean {
    const f = this.failures.get(addr)
    if (f === undefined) return false
    if (this.now() - f.since > 60_000) { this.failures.delete(addr); return false }
    return f.n >= this.maxFailuresPerMinute
  }

  fail (addr: string): void {
    const f = this.failures.get(addr)
    if (f === undefined || this.now() - f.since > 60_000) this.failures.set(addr, { n: 1, since: this.now() })
    else f.n++
  }

  tryOpen (addr: string): boolean {
    const n = this.open.get(addr) ?? 0
    if (n >= this.maxOpen) return false
    this.open.set(addr, n + 1)
    return true
  }

  closed (addr: string): void {
    const n = (this.open.get(addr) ?? 1) - 1
    if (n <= 0) this.open.delete(addr)
    else this.open.set(addr, n)
  }
}
