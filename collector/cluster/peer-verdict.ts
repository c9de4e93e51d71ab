// The leader's decision about one peer collector each sweep: its row in `nodes` (live or
// silent), its open notice (down or cut off) and what asking it directly said. A silent peer
// that answers as itself is cut off from PostgreSQL, not dead; one that does not answer is down.

/** What the last probes of a peer found (peer-probe.ts). */
export type ProbeState =
  | { kind: 'answered', at: number, node: string, pgUp: boolean }
  | { kind: 'failed', at: number, failures: number, /** when the streak of failures began */ since: number }

export type OpenNotice = 'down' | 'cut_off' | undefined

export interface PeerFacts {
  node: string
  /** the row beats (seen within the lease by the database clock) */
  live: boolean
  /** stopped gracefully (its own last write) */
  stopped: boolean
  /** the database age of its last heartbeat (ms) */
  ageMs: number
  open: OpenNotice
  /** this leader may judge peers now (PostgreSQL has answered it for a whole lease) */
  judge: boolean
  probe: ProbeState | undefined
}

export interface VerdictTimes {
  leaseMs: number
  heartbeatMs: number
  peerTimeoutMs: number
  /** consecutive failed probes that make a silent peer dead */
  failuresForDown: number
}

export type Verdict =
  | 'none' // nothing to record
  | 'wait' // silent, not yet known whether dead or cut off: ask again
  | 'down' // no answer: "collector down" (as before the probe existed)
  | 'cut_off' // answers as itself, cannot reach PostgreSQL: one "cut off" notice
  | 'cut_off_down' // was cut off, now answers no more: the cut-off notice ends, "collector down" follows
  | 'back' // a down node beats again
  | 'cut_off_back' // a cut-off node reaches PostgreSQL again

/** decide is the sweep's decision table (unit-tested: test/unit/cluster-peer-verdict.test.ts). */
export function decide (f: PeerFacts, t: VerdictTimes, now: number): Verdict {
  if (f.live) return f.open === 'down' ? 'back' : f.open === 'cut_off' ? 'cut_off_back' : 'none'
  // A graceful stop ends nothing and opens nothing (the stopped node wrote it itself, so it reached PostgreSQL).
  if (f.stopped) return f.open === 'cut_off' ? 'cut_off_back' : 'none'
  if (!f.judge || f.open === 'down') return 'none'
  const p = f.probe
  // Only a recent answer counts: a peer's state a lease ago says nothing about it now.
  const fresh = p !== undefined && now - p.at <= t.leaseMs
  const dead = fresh && p.kind === 'failed' && p.failures >= t.failuresForDown
  const answers = fresh && p.kind === 'answered' && p.node === f.node
  // A cut-off node that stops answering is down once silent for a lease too (as a beating one would be): its agents have moved by then.
  if (f.open === 'cut_off') return dead && p.at - p.since >= t.leaseMs ? 'cut_off_down' : 'none'
  if (dead) return 'down'
  if (answers) return p.pgUp ? 'wait' : 'cut_off'
  // No conclusive probe (none possible, or the answers keep contradicting the row): past the bound, as before the probe existed.
  const giveUp = t.leaseMs + t.failuresForDown * (t.peerTimeoutMs + t.heartbeatMs) + t.heartbeatMs
  return f.ageMs > giveUp ? 'down' : 'wait'
}
