// The nodes table (who is in the cluster, seen when) and agent_sessions (which node has
// which agent), written by each node every heartbeat; read by the leader and the console.

import type { Pool } from './pg.js'

export interface NodeRow {
  node: string, startedAt: number, lastSeen: number, stoppedAt: number | null, version: string, address: string, live: boolean, agents: number
  /** ms since its last heartbeat, by the database clock */
  ageMs: number
  /** its open notice: 'down' (silent, no answer) or 'cut_off' (silent in PostgreSQL, answers its peers) */
  notice: 'down' | 'cut_off' | null
}

/** register records this node as started now (database clock), replacing a previous run's row. */
export async function register (pool: Pool, node: string, version: string, address: string): Promise<void> {
  await pool.query(`INSERT INTO nodes (node, started_at, last_seen, stopped_at, version, address) VALUES ($1, now(), now(), NULL, $2, $3)
    ON CONFLICT (node) DO UPDATE SET started_at = now(), last_seen = now(), stopped_at = NULL, version = $2, address = $3`, [node, version, address])
}

export interface Session { agent: string, connectedAt: number }

/**
 * beat marks this node seen and writes its sessions in one transaction: connected agents
 * upserted, its other rows marked disconnected (last_seen stays: the leader measures silence from it).
 * It returns false when the node row is gone (a restored database): the caller registers again.
 */
export async function beat (pool: Pool, node: string, address: string, sessions: readonly Session[]): Promise<boolean> {
  const c = await pool.connect()
  try {
    await c.query('BEGIN')
    const r = await c.query('UPDATE nodes SET last_seen = now(), stopped_at = NULL, address = $2 WHERE node = $1', [node, address])
    await c.query(`INSERT INTO agent_sessions (agent, node, connected, connected_at, last_seen)
      SELECT a, $1, true, to_timestamp(t / 1000.0), now() FROM unnest($2::text[], $3::float8[]) AS s(a, t)
      ON CONFLICT (agent, node) DO UPDATE SET connected = true, connected_at = EXCLUDED.connected_at, last_seen = now()`,
    [node, sessions.map(s => s.agent), sessions.map(s => s.connectedAt)])
    await c.query('UPDATE agent_sessions SET connected = false WHERE node = $1 AND connected AND NOT (agent = ANY($2::text[]))', [node, sessions.map(s => s.agent)])
    // Rows of agents gone a day ago are history nobody reads.
    await c.query("DELETE FROM agent_sessions WHERE node = $1 AND NOT connected AND last_seen < now() - interval '1 day'", [node])
    await c.query('COMMIT')
    c.release()
    return r.rowCount === 1
  } catch (err) {
    // Not ROLLBACK: after a timeout it would wait behind the stuck statement. The connection is
    // dropped instead (a late reply must not meet the next statement); the server rolls back.
    c.release(err as Error)
    throw err
  }
}

/** leave marks a graceful stop: the node is not "down", and its agents are no longer connected to it. */
export async function leave (pool: Pool, node: string): Promise<void> {
  await pool.query('UPDATE nodes SET stopped_at = now() WHERE node = $1', [node])
  await pool.query('UPDATE agent_sessions SET connected = false, last_seen = now() WHERE node = $1 AND connected', [node])
}

/** nodes lists every node; live: seen within leaseMs by the database clock and not stopped. */
export async function nodes (pool: Pool, leaseMs: number): Promise<NodeRow[]> {
  const r = await pool.query<{ node: string, started_at: Date, last_seen: Date, stopped_at: Date | null, version: string, address: string, live: boolean, agents: string, age_ms: number, notice: 'down' | 'cut_off' | null }>(
    `SELECT n.node, n.started_at, n.last_seen, n.stopped_at, n.version, n.address,
       (n.stopped_at IS NULL AND n.last_seen > now() - $1 * interval '1 millisecond') AS live,
       (SELECT count(*) FROM agent_sessions s WHERE s.node = n.node AND s.connected) AS agents,
       (extract(epoch FROM now() - n.last_seen) * 1000)::float8 AS age_ms,
       (SELECT d.kind FROM node_down d WHERE d.node = n.node AND d.resolved_at IS NULL) AS notice
     FROM nodes n ORDER BY n.node`, [leaseMs])
  return r.rows.map(x => ({ node: x.node, startedAt: x.started_at.getTime(), lastSeen: x.last_seen.getTime(), stoppedAt: x.stopped_at?.getTime() ?? null, version: x.version, address: x.address, live: x.live, agents: Number(x.agents), ageMs: x.age_ms, notice: x.notice }))
}

/** Where an agent is: its connected session on a live node, and how long ago (database clock) any node last heard it. */
export interface AgentWhere {
  agent: string, node: string | null, ageMs: number
  /** the node of its latest session, live or not */
  lastNode?: string | null
}

/** whereabouts gives, for every agent any node has seen, the live node holding it (if any) and the age of its last contact. */
export async function whereabouts (pool: Pool, leaseMs: number): Promise<AgentWhere[]> {
  const r = await pool.query<{ agent: string, node: string | null, age_ms: number, last_node: string | null }>(
    `SELECT s.agent,
       (array_agg(s.node ORDER BY s.last_seen DESC) FILTER (WHERE s.connected AND s.last_seen > now() - $1 * interval '1 millisecond' AND n.stopped_at IS NULL AND n.last_seen > now() - $1 * interval '1 millisecond'))[1] AS node,
       (extract(epoch FROM now() - max(s.last_seen)) * 1000)::float8 AS age_ms,
       (array_agg(s.node ORDER BY s.last_seen DESC))[1] AS last_node
     FROM agent_sessions s JOIN nodes n ON n.node = s.node GROUP BY s.agent`, [leaseMs])
  return r.rows.map(x => ({ agent: x.agent, node: x.node, ageMs: x.age_ms, lastNode: x.last_node }))
}

/** agentsOf lists the agents a node had connected when it was last seen. */
export async function agentsOf (pool: Pool, node: string): Promise<string[]> {
  const r = await pool.query<{ agent: string }>('SELECT agent FROM agent_sessions WHERE node = $1 AND connected ORDER BY agent', [node])
  return r.rows.map(x => x.agent)
}
