// The leader's sweep, every heartbeat: a collector silent for the lease time gets ONE
// "collector down" notice (recorded in node_down under the leader's epoch, so a new
// leader does not repeat it), and one "back" notice when it returns.

import { FENCE } from './lease.js'
import type { Pool } from './pg.js'
import type { NodeDown } from './down-mail.js'
import { agentsOf, type AgentWhere, type NodeRow } from './registry.js'

export interface SweepResult { down: NodeDown[], back: Array<{ node: string, downAt: number }> }

/** sweep finds the nodes that died or came back since the last sweep and records them, fenced by the leader's epoch. */
export async function sweep (pool: Pool, self: string, epoch: number, nodes: readonly NodeRow[], where: readonly AgentWhere[], judgeDown = true): Promise<SweepResult> {
  const open = await pool.query<{ node: string, down_at: Date }>('SELECT node, down_at FROM node_down WHERE resolved_at IS NULL')
  const isOpen = new Map(open.rows.map(r => [r.node, r.down_at.getTime()]))
  const out: SweepResult = { down: [], back: [] }
  const held = new Map(where.filter(w => w.node !== null).map(w => [w.agent, w.node!]))
  for (const n of nodes) {
    if (n.node === self) continue
    const downAt = isOpen.get(n.node)
    if (!n.live && n.stoppedAt === null && downAt === undefined && judgeDown) {
      const had = await agentsOf(pool, n.node)
      const moved: Record<string, string[]> = {}
      const lost: string[] = []
      for (const a of had) {
        const to = held.get(a)
        if (to === undefined || to === n.node) lost.push(a)
        else (moved[to] ??= []).push(a)
      }
      const r = await pool.query(`INSERT INTO node_down (node, down_at, leader, epoch, agents, moved, lost)
        SELECT $4, now(), $2, $3, $5, $6::jsonb, $7::text[] WHERE ${FENCE} ON CONFLICT DO NOTHING`,
      ['leader', self, epoch, n.node, had.length, JSON.stringify(moved), lost])
      if (r.rowCount !== 1) continue
      // Its sessions end with it (last_seen kept: the leader measures the silence of the lost agents from it).
      await pool.query('UPDATE agent_sessions SET connected = false WHERE node = $1 AND connected', [n.node])
      out.down.push({ node: n.node, agents: had.length, moved, lost, lastSeen: n.lastSeen })
    } else if (downAt !== undefined && n.live) {
      const r = await pool.query(`UPDATE node_down SET resolved_at = now() WHERE node = $4 AND resolved_at IS NULL AND ${FENCE}`, ['leader', self, epoch, n.node])
      if (r.rowCount === 1) out.back.push({ node: n.node, downAt })
    }
  }
  return out
}
