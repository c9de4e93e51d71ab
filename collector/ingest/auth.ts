// Agent authentication: the bearer token's SHA-256 selects the agent entry, then
// a constant-time compare confirms it. Failed attempts are limited per address.

import { createHash, timingSafeEqual } from 'node:crypto'

export interface Identity {
  id: string
  role: string
  site: string
  labels: Record<string, string>
}

interface Entry extends Identity { hash: Buffer }

export function sha256Hex (token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

export class AgentAuth {
  private byHash = new Map<string, Entry>()

  constructor (agents: ReadonlyArray<{ id: string, tokenSha256: string, role: string, site: string, labels: Record<string, string> }>) {
    this.reload(agents)
  }

  reload (agents: ReadonlyArray<{ id: string, tokenSha256: string, role: string, site: string, labels: Record<string, string> }>): void {
    const m = new Map<string, Entry>()
    for (const a of agents) {
      m.set(a.tokenSha256.toLowerCase(), { id: a.id, role: a.role, site: a.site, labels: { ...a.labels }, hash: Buffer.from(a.tokenSha256, 'hex') })
    }
    this.byHash = m
  }

  get size (): number { return this.byHash.size }

  identities (): Identity[] {
    return [...this.byHash.values()].map(e => ({ id: e.id, role: e.role, site: e.site, labels: e.labels }))
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
    return { id: e.id, role: e.role, site: e.site, labels: e.labels }
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
