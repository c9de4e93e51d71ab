// The leader's sweep, every heartbeat: a collector silent for the lease time that does not
// answer its peers gets ONE "collector down" notice; one that answers (cut off from
// PostgreSQL) ONE "cut off" notice instead (peer-verdict.ts). Each is a node_down row under
// the leader's epoch, so a new leader does not repeat it, and ends with one "back" notice.

import { FENCE } from './lease.js'
import type { Pool } from './pg.js'
import type { NodeCutOff, NodeDown } from './down-mail.js'
import { agentsOf, type AgentWhere, type NodeRow } from './registry.js'
import { decide, type ProbeState, type Verdict, type VerdictTimes } from './peer-verdict.js'
import type { PeerReport } from './peer-probe.js'

export interface SweepResult {
  down: NodeDown[]
  back: Array<{ node: string, downAt: number }>
  /** silent in PostgreSQL, answering its peers */
  cutOff?: NodeCutOff[]
  /** a cut-off node that reaches PostgreSQL again */
  cutOffBack?: Array<{ node: string, since: number }>
}

/** What the leader's probes know (peer-probe.ts); absent: no probing, a silent node is down as soon as judged. */
export interface PeerKnowledge {
  probe: (node: string) => ProbeState | undefined
  report: (node: string) => PeerReport | undefined
  times: VerdictTimes
  now: () => number
}

/** sweep finds the nodes that died, were cut off or came back since the last sweep and records them, fenced by the leader's epoch. */
export async function sweep (pool: Pool, self: string, epoch: number, nodes: readonly NodeRow[], where: readonly AgentWhere[], judgeDown = true, peers?: PeerKnowledge): Promise<SweepResult> {
  const open = await pool.query<{ node: string, down_at: Date, kind: 'down' | 'cut_off' }>('SELECT node, down_at, kind FROM node_down WHERE resolved_at IS NULL')
  const isOpen = new Map(open.rows.map(r => [r.node, { at: r.down_at.getTime(), kind: r.kind }]))
  const out: SweepResult = { down: [], back: [], cutOff: [], cutOffBack: [] }
  const held = new Map(where.filter(w => w.node !== null).map(w => [w.agent, w.node!]))
  const fence = ['leader', self, epoch]
  for (const n of nodes) {
    if (n.node === self) continue
    const o = isOpen.get(n.node)
    const v: Verdict = peers === undefined
      ? (n.live ? (o !== undefined ? (o.kind === 'down' ? 'back' : 'cut_off_back') : 'none') : (n.stoppedAt === null && o === undefined && judgeDown ? 'down' : 'none'))
      : decide({ node: n.node, live: n.live, stopped: n.stoppedAt !== null, ageMs: n.ageMs, open: o?.kind, judge: judgeDown, probe: peers.probe(n.node) }, peers.times, peers.now())
    if (v === 'down' || v === 'cut_off_down') {
      const c = await pool.connect()
      try {
        await c.query('BEGIN')
        // A cut-off notice ends where the down notice begins: still one open row per node.
        if (v === 'cut_off_down') await c.query(`UPDATE node_down SET resolved_at = now() WHERE node = $4 AND resolved_at IS NULL AND kind = 'cut_off' AND ${FENCE}`, [...fence, n.node])
        const had = await agentsOf(c as unknown as Pool, n.node)
        const moved: Record<string, string[]> = {}
        const lost: string[] = []
        for (const a of had) {
          const to = held.get(a)
          if (to === undefined || to === n.node) lost.push(a)
          else (moved[to] ??= []).push(a)
        }
        const r = await c.query(`INSERT INTO node_down (node, down_at, leader, epoch, agents, moved, lost, kind)
          SELECT $4, now(), $2, $3, $5, $6::jsonb, $7::text[], 'down' WHERE ${FENCE} ON CONFLICT DO NOTHING`,
        [...fence, n.node, had.length, JSON.stringify(moved), lost])
        if (r.rowCount !== 1) { await c.query('ROLLBACK'); c.release(); continue }
        // Its sessions end with it (last_seen kept: the leader measures the silence of the lost agents from it).
        await c.query('UPDATE agent_sessions SET connected = false WHERE node = $1 AND connected', [n.node])
        await c.query('COMMIT')
        c.release()
        out.down.push({ node: n.node, agents: had.length, moved, lost, lastSeen: n.lastSeen })
      } catch (err) {
        c.release(err as Error)
        throw err
      }
    } else if (v === 'cut_off') {
      const rep = peers?.report(n.node)
      const agents = (rep?.agents ?? []).map(a => a.agent).sort()
      const r = await pool.query(`INSERT INTO node_down (node, down_at, leader, epoch, agents, moved, lost, kind)
        SELECT $4, now(), $2, $3, $5, '{}'::jsonb, '{}'::text[], 'cut_off' WHERE ${FENCE} ON CONFLICT DO NOTHING`, [...fence, n.node, agents.length])
      // Its sessions stay connected: its agents report through it, and host-down asks it (index.ts).
      if (r.rowCount === 1) out.cutOff!.push({ node: n.node, agents, lastSeen: n.lastSeen, pgError: rep?.pgError ?? null, degraded: rep?.degraded?.degraded === true, degradedSince: rep?.degraded?.since ?? null })
    } else if (v === 'back' || v === 'cut_off_back') {
      const r = await pool.query(`UPDATE node_down SET resolved_at = now() WHERE node = $4 AND resolved_at IS NULL AND ${FENCE}`, [...fence, n.node])
      if (r.rowCount === 1 && o !== undefined) {
        if (v === 'back') out.back.push({ node: n.node, downAt: o.at })
        else out.cutOffBack!.push({ node: n.node, since: o.at })
      }
    }
  }
  return out
}
