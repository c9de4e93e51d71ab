// The console's sessions in the cluster's PostgreSQL: a login on one collector is known
// to all behind the balancer, and a logout on one ends it on all. Only a SHA-256 of the
// session id is stored; both expiries are checked with the injected clock (ms). While
// PostgreSQL is unreachable the sessions this node has seen go on from a local copy,
// logins are local, and both logins and logouts are written when it returns.

import { createHash, randomBytes } from 'node:crypto'
import type { Role } from '../api/auth.js'
import { CONSOLE_DEFAULTS, type ConsoleLimits, type ConsoleSession, type SessionBackend } from '../console/sessions.js'
import type { Pool } from './pg.js'

export interface PgSessionsOptions {
  pool: Pool
  node: string
  now: () => number
  limits?: Readonly<ConsoleLimits>
  /** brings the schema up before the first statement (Cluster.migrateNow, once) */
  ready?: () => Promise<void>
  /** told when PostgreSQL fails (the local copy answers meanwhile) */
  onError?: (err: unknown) => void
}

interface Row { name: string, role: Role, csrf: string, created_at: string, last_used: string }

const sha256 = (id: string): string => createHash('sha256').update(id).digest('hex')

export class PgSessions implements SessionBackend {
  readonly kind = 'postgres' as const
  private readonly limits: Readonly<ConsoleLimits>
  private schema: Promise<void> | undefined
  /** the sessions this node created or read, by hash: the answer while PostgreSQL is unreachable */
  private readonly local = new Map<string, ConsoleSession>()
  /** logins and logouts made while PostgreSQL was unreachable, written on the next success */
  private readonly unsavedLogins = new Map<string, ConsoleSession>()
  private readonly unsavedLogouts = new Set<string>()
  /** requests answered from the local copy (PostgreSQL unreachable) */
  localAnswers = 0

  constructor (private readonly o: PgSessionsOptions) {
    this.limits = o.limits ?? CONSOLE_DEFAULTS
  }

  get maxAgeS (): number { return Math.floor(this.limits.sessionMaxMs / 1000) }

  private async ready (): Promise<void> {
    if (this.o.ready === undefined) return
    // A failed migration is tried again on the next request.
    this.schema ??= this.o.ready().catch(err => { this.schema = undefined; throw err })
    await this.schema
  }

  async create (name: string, role: Role): Promise<ConsoleSession> {
    const t = this.o.now()
    const s: ConsoleSession = { id: randomBytes(32).toString('base64url'), name, role, csrf: randomBytes(32).toString('base64url'), createdAt: t, lastUsed: t }
    try {
      await this.flushUnsaved()
      await this.insert(s)
    } catch (err) {
      this.o.onError?.(err)
      this.unsavedLogins.set(sha256(s.id), s)
      this.localAnswers++
    }
    this.remember(s)
    return { ...s }
  }

  private async insert (s: ConsoleSession): Promise<void> {
    await this.ready()
    const t = s.createdAt
    const { name, role } = s
    const { sessionMaxMs, sessionIdleMs, maxSessions } = this.limits
    const c = await this.o.pool.connect()
    try {
      await c.query('BEGIN')
      // Expired sessions go first; only a table full of live ones loses its oldest.
      await c.query('DELETE FROM console_sessions WHERE created_at < $1 OR last_used < $2', [t - sessionMaxMs, t - sessionIdleMs])
      await c.query('INSERT INTO console_sessions (id_sha256, name, role, csrf, node, created_at, last_used) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id_sha256) DO NOTHING',
        [sha256(s.id), name, role, s.csrf, this.o.node, t, s.lastUsed])
      await c.query('DELETE FROM console_sessions WHERE id_sha256 IN (SELECT id_sha256 FROM console_sessions ORDER BY created_at DESC, id_sha256 OFFSET $1)', [maxSessions])
      await c.query('COMMIT')
      c.release()
    } catch (err) {
      // Not ROLLBACK on a connection that may hang: dropped, the server rolls back.
      c.release(err as Error)
      throw err
    }
  }

  async get (id: string | undefined): Promise<ConsoleSession | undefined> {
    if (id === undefined || id === '' || id.length > 512) return undefined
    try {
      await this.flushUnsaved()
      const s = await this.read(id)
      if (s === undefined) this.local.delete(sha256(id))
      else this.remember(s)
      return s
    } catch (err) {
      this.o.onError?.(err)
      // PostgreSQL unreachable: a session this node knows goes on under the same limits; others log in again here.
      const h = sha256(id)
      const s = this.local.get(h)
      if (s === undefined) return undefined
      const t = this.o.now()
      if (t - s.createdAt > this.limits.sessionMaxMs || t - s.lastUsed > this.limits.sessionIdleMs) {
        this.local.delete(h)
        return undefined
      }
      s.lastUsed = Math.max(s.lastUsed, t)
      this.localAnswers++
      return { ...s }
    }
  }

  private remember (s: ConsoleSession): void {
    const h = sha256(s.id)
    this.local.delete(h)
    this.local.set(h, { ...s })
    if (this.local.size > this.limits.maxSessions) this.local.delete(this.local.keys().next().value!)
  }

  /** flushUnsaved writes the logouts, then the logins, made while PostgreSQL was unreachable. */
  private async flushUnsaved (): Promise<void> {
    for (const h of this.unsavedLogouts) {
      await this.o.pool.query('DELETE FROM console_sessions WHERE id_sha256 = $1', [h])
      this.unsavedLogouts.delete(h)
    }
    for (const [h, s] of this.unsavedLogins) {
      await this.insert(this.local.get(h) ?? s)
      this.unsavedLogins.delete(h)
    }
  }

  private async read (id: string): Promise<ConsoleSession | undefined> {
    await this.ready()
    const t = this.o.now()
    const h = sha256(id)
    // Live iff within both limits, as MemorySessions decides; GREATEST keeps a node with a slower clock from moving last_used back.
    const r = await this.o.pool.query<Row>(
      'UPDATE console_sessions SET last_used = GREATEST(last_used, $2) WHERE id_sha256 = $1 AND created_at >= $3 AND last_used >= $4 RETURNING name, role, csrf, created_at, last_used',
      [h, t, t - this.limits.sessionMaxMs, t - this.limits.sessionIdleMs])
    const row = r.rows[0]
    if (row === undefined) {
      await this.o.pool.query('DELETE FROM console_sessions WHERE id_sha256 = $1', [h])
      return undefined
    }
    return { id, name: row.name, role: row.role, csrf: row.csrf, createdAt: Number(row.created_at), lastUsed: Number(row.last_used) }
  }

  async delete (id: string): Promise<void> {
    const h = sha256(id)
    this.local.delete(h)
    if (this.unsavedLogins.delete(h)) return
    try {
      await this.ready()
      await this.o.pool.query('DELETE FROM console_sessions WHERE id_sha256 = $1', [h])
    } catch (err) {
      // The logout holds here at once, and on the other nodes once PostgreSQL takes it.
      this.o.onError?.(err)
      this.unsavedLogouts.add(h)
    }
  }

  /** size counts the stored sessions, live or not yet swept (tests, metrics) */
  async size (): Promise<number> {
    const r = await this.o.pool.query<{ n: string }>('SELECT count(*) AS n FROM console_sessions')
    return Number(r.rows[0]!.n)
  }
}
