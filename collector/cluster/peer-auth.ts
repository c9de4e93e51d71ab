// Peer calls between collectors (GET /api/v1/cluster/peer): the asking node signs
// "from, to, time, nonce" with the cluster's peer secret (HMAC-SHA256), the answering node
// checks the signature in constant time, the time within a window and the nonce never seen
// before in it, and signs its reply over the same nonce: neither side trusts an impostor.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../../common/atomic-write.js'
import type { Pool } from './pg.js'

export const PEER_HEADERS = { from: 'x-kanshi-peer', to: 'x-kanshi-peer-to', time: 'x-kanshi-peer-time', nonce: 'x-kanshi-peer-nonce', sig: 'x-kanshi-peer-sig' } as const

/** How far a request's time may be from the answering node's clock (either way). */
export const PEER_WINDOW_MS = 30_000

/** The nonces remembered: at most this many within the window (a flood of valid requests is refused, not remembered). */
const MAX_NONCES = 100_000

export type PeerRefusal = 'no_secret' | 'missing' | 'wrong_node' | 'stale' | 'bad_signature' | 'replay'

export class PeerKey {
  private readonly nonces = new Map<string, number>()

  constructor (private secret: Buffer | undefined) {}

  get ready (): boolean { return this.secret !== undefined }

  set (secret: Buffer): void { this.secret = secret }

  /** sign returns the headers of a request from node `from` to node `to` at time now. */
  sign (from: string, to: string, now: number): Record<string, string> {
    const nonce = randomBytes(16).toString('hex')
    const time = String(now)
    return { [PEER_HEADERS.from]: from, [PEER_HEADERS.to]: to, [PEER_HEADERS.time]: time, [PEER_HEADERS.nonce]: nonce, [PEER_HEADERS.sig]: this.mac(['req', from, to, time, nonce]) }
  }

  /** verify checks a request's headers addressed to node `self`; undefined: accepted (its nonce is now spent). */
  verify (h: Record<string, string | string[] | undefined>, self: string, now: number): PeerRefusal | undefined {
    if (this.secret === undefined) return 'no_secret'
    const get = (k: string): string | undefined => { const v = h[k]; return typeof v === 'string' ? v : undefined }
    const from = get(PEER_HEADERS.from)
    const to = get(PEER_HEADERS.to)
    const time = get(PEER_HEADERS.time)
    const nonce = get(PEER_HEADERS.nonce)
    const sig = get(PEER_HEADERS.sig)
    if (from === undefined || to === undefined || time === undefined || nonce === undefined || sig === undefined || !/^\d{1,16}$/.test(time) || !/^[0-9a-f]{32}$/.test(nonce)) return 'missing'
    // The signature first: an unsigned caller learns nothing from the other checks.
    if (!this.equal(sig, this.mac(['req', from, to, time, nonce]))) return 'bad_signature'
    if (to !== self) return 'wrong_node'
    const t = Number(time)
    if (Math.abs(now - t) > PEER_WINDOW_MS) return 'stale'
    this.prune(now)
    if (this.nonces.has(nonce) || this.nonces.size >= MAX_NONCES) return 'replay'
    this.nonces.set(nonce, t + PEER_WINDOW_MS)
    return undefined
  }

  /** signReply: the answering node's signature over the request's nonce and the exact reply body. */
  signReply (nonce: string, body: string): string {
    return this.mac(['reply', nonce, body])
  }

  verifyReply (nonce: string, body: string, sig: string | undefined): boolean {
    return this.secret !== undefined && sig !== undefined && this.equal(sig, this.mac(['reply', nonce, body]))
  }

  private mac (parts: string[]): string {
    return createHmac('sha256', this.secret ?? Buffer.alloc(0)).update(['kanshi-peer-v1', ...parts].join('\n')).digest('hex')
  }

  private equal (a: string, b: string): boolean {
    const x = Buffer.from(a)
    const y = Buffer.from(b)
    return x.length === y.length && timingSafeEqual(x, y)
  }

  private prune (now: number): void {
    // Insertion order is roughly time order: stop at the first nonce still inside the window.
    for (const [n, until] of this.nonces) {
      if (until >= now - PEER_WINDOW_MS) break
      this.nonces.delete(n)
    }
    if (this.nonces.size < MAX_NONCES) return
    for (const [n, until] of this.nonces) if (until < now - PEER_WINDOW_MS) this.nonces.delete(n)
  }
}

/** readCachedSecret: the secret this node kept on disk (a node started while PostgreSQL is cut off must still verify). */
export async function readCachedSecret (file: string): Promise<Buffer | undefined> {
  try {
    const hex = (await readFile(file, 'utf8')).trim()
    return /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined
  } catch {
    return undefined
  }
}

/** sharedSecret makes (first node) or reads the cluster's peer secret in kanshi_meta; it throws PostgreSQL's error. */
export async function sharedSecret (pool: Pool): Promise<Buffer> {
  await pool.query("INSERT INTO kanshi_meta (key, value) VALUES ('peer_secret', $1) ON CONFLICT (key) DO NOTHING", [randomBytes(32).toString('hex')])
  const r = await pool.query<{ value: string }>("SELECT value FROM kanshi_meta WHERE key = 'peer_secret'")
  return Buffer.from(r.rows[0]!.value, 'hex')
}

/** cacheSecret keeps the secret in file (mode 0600, atomic) for a start without PostgreSQL. */
export async function cacheSecret (file: string, secret: Buffer): Promise<void> {
  await writeFileAtomic(file, secret.toString('hex') + '\n', { mode: 0o600 })
}
