// Agent leases `agent:<id>`: the node an agent's session is on holds its lease (taken when the
// session starts, renewed each heartbeat in one statement) and evaluates its rules; the epoch
// fences the alerting writes (alert-store-pg.ts). A lease newly taken means the agent moved
// here: its series state is loaded from PostgreSQL (onTaken).

import type { Pool } from './pg.js'

export const agentLease = (agent: string): string => `agent:${agent}`

/** Time kept back from a lease, as in index.ts: clock-rate differences and the round trip. */
const SAFETY_MS = 500

interface Held { epoch: number, until: number }

/** acquireMany takes or renews several leases for holder in one statement; it returns those it holds. */
export async function acquireMany (pool: Pool, names: readonly string[], holder: string, ms: number): Promise<Map<string, { epoch: number, remainingMs: number }>> {
  const out = new Map<string, { epoch: number, remainingMs: number }>()
  if (names.length === 0) return out
  const r = await pool.query<{ name: string, epoch: string, remaining_ms: number }>(
    `INSERT INTO leases AS l (name, holder, epoch, expires_at) SELECT n, $2, 1, now() + $3 * interval '1 millisecond' FROM unnest($1::text[]) AS n
     ON CONFLICT (name) DO UPDATE SET
       holder = EXCLUDED.holder,
       epoch = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > now() THEN l.epoch ELSE l.epoch + 1 END,
       expires_at = EXCLUDED.expires_at
     WHERE l.holder = EXCLUDED.holder OR l.expires_at <= now()
     RETURNING l.name, l.epoch, (extract(epoch FROM l.expires_at - now()) * 1000)::float8 AS remaining_ms`, [[...names], holder, ms])
  for (const row of r.rows) out.set(row.name, { epoch: Number(row.epoch), remainingMs: row.remaining_ms })
  return out
}

export class AgentLeases {
  private readonly held = new Map<string, Held>()
  /** called when this node takes an agent's lease it did not hold (a move, a start) */
  onTaken: ((agent: string, epoch: number) => void) | undefined

  constructor (private readonly o: { pool: Pool, node: string, leaseMs: number }) {}

  /** epochOf is the epoch of a lease this node holds and whose local deadline has not passed. */
  epochOf (lease: string): number | undefined {
    const h = this.held.get(lease)
    return h !== undefined && performance.now() < h.until ? h.epoch : undefined
  }

  /** holds: the agents whose leases this node holds now */
  holds (): string[] {
    return [...this.held.keys()].filter(l => this.epochOf(l) !== undefined).map(l => l.slice('agent:'.length))
  }

  /** renew takes or renews the leases of these agents (the sessions on this node); others lapse. It throws PostgreSQL's error. */
  async renew (agents: readonly string[]): Promise<void> {
    const names = agents.map(agentLease)
    const t0 = performance.now()
    const got = await acquireMany(this.o.pool, names, this.o.node, this.o.leaseMs)
    for (const name of names) {
      const g = got.get(name)
      const was = this.held.get(name)
      if (g === undefined) { this.held.delete(name); continue }
      this.held.set(name, { epoch: g.epoch, until: t0 + g.remainingMs - SAFETY_MS })
      if (was === undefined || was.epoch !== g.epoch || performance.now() >= was.until) this.onTaken?.(name.slice('agent:'.length), g.epoch)
    }
    // Agents no longer here: stop renewing (the lease lapses; a peer takes it when the agent arrives there).
    if (agents.length > 0 || this.held.size > 0) {
      const keep = new Set(names)
      for (const k of [...this.held.keys()]) if (!keep.has(k)) this.held.delete(k)
    }
  }

  /** take tries an agent's lease now (its session just started here); false when a peer still holds it. */
  async take (agent: string): Promise<boolean> {
    const name = agentLease(agent)
    const t0 = performance.now()
    const got = (await acquireMany(this.o.pool, [name], this.o.node, this.o.leaseMs)).get(name)
    if (got === undefined) return false
    const was = this.held.get(name)
    this.held.set(name, { epoch: got.epoch, until: t0 + got.remainingMs - SAFETY_MS })
    if (was === undefined || was.epoch !== got.epoch || performance.now() >= was.until) this.onTaken?.(agent, got.epoch)
    return true
  }
}
