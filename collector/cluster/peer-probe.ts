// The leader asks a silent peer directly (GET /api/v1/cluster/peer, signed) beside the
// heartbeat, never inside it: one probe per peer at a time, each bounded by
// cluster.peerTimeout. What the answers say feeds the sweep (peer-verdict.ts) and host-down.

import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Counter, type Registry } from 'prom-client'
import type { Logger } from 'pino'
import { PEER_HEADERS, type PeerKey } from './peer-auth.js'
import type { ProbeState } from './peer-verdict.js'

/** What a peer says about itself (the body of GET /api/v1/cluster/peer). */
export interface PeerReport {
  node: string
  pgUp: boolean
  pgError: string | null
  /** ms since its last successful heartbeat, or null */
  sinceBeatMs: number | null
  /** its alerting's degraded mode (縮退運転), or null when alerting is not on the cluster's store */
  degraded: { degraded: boolean, since: number | null, held: number } | null
  /** its connected agents and the age of each one's last frame, by its own clock */
  agents: Array<{ agent: string, ageMs: number }>
}

export type ProbeResult = 'answered' | 'timeout' | 'unreachable' | 'refused' | 'bad_reply' | 'no_address'

/** A peer to probe: its name, its advertised address and how long its row has been silent. */
export interface ProbeTarget {
  node: string, address: string, ageMs: number, stopped: boolean, cutOff: boolean
  /** already judged down: not asked again (its row beating is what ends that notice) */
  down?: boolean
}

export interface PeerWatchOptions {
  self: string
  key: PeerKey
  timeoutMs: number
  heartbeatMs: number
  leaseMs: number
  /** PEM CA(s) for https peers (listen.tls.ca); default: the system's */
  ca?: Buffer | undefined
  logger: Logger
  registry?: Registry | undefined
  now?: () => number
}

interface PeerState { probe: ProbeState | undefined, report: PeerReport | undefined, reportAt: number, inFlight: AbortController | undefined, lastResult: ProbeResult | undefined }

/** peerUrl: the probe URL from a node's address (a URL, or host:port as older versions wrote it); undefined when unreachable by design. */
export function peerUrl (address: string): URL | undefined {
  try {
    const u = new URL(/^https?:\/\//.test(address) ? address : `http://${address}`)
    if (['0.0.0.0', '[::]', ''].includes(u.hostname)) return undefined
    u.pathname = '/api/v1/cluster/peer'
    return u
  } catch { return undefined }
}

export class PeerWatch {
  private readonly peers = new Map<string, PeerState>()
  private readonly heardAt = new Map<string, number>()
  private readonly counter: Counter<'result'> | undefined
  private readonly now: () => number
  private stopped = false

  constructor (private readonly o: PeerWatchOptions) {
    this.now = o.now ?? Date.now
    this.counter = o.registry === undefined ? undefined : new Counter({ name: 'kanshi_cluster_peer_probe_total', help: 'probes of silent peer collectors by the leader, by result (answered: the peer is alive; cut off from PostgreSQL when its row is stale)', labelNames: ['result'], registers: [o.registry] })
  }

  /** kick starts a probe of every silent peer (row older than two heartbeats, or an open cut-off notice) that has none running; beating peers are forgotten. */
  kick (targets: readonly ProbeTarget[]): void {
    if (this.stopped) return
    const seen = new Set<string>()
    for (const t of targets) {
      if (t.node === this.o.self) continue
      seen.add(t.node)
      const silent = !t.stopped && t.down !== true && (t.ageMs > 2 * this.o.heartbeatMs || t.cutOff)
      if (!silent) { this.forget(t.node); continue }
      const s = this.state(t.node)
      if (s.inFlight === undefined) void this.probe(t, s)
    }
    for (const n of [...this.peers.keys()]) if (!seen.has(n)) this.forget(n)
  }

  /** probeState: what the last probes of node found (undefined: none yet). */
  probeState (node: string): ProbeState | undefined { return this.peers.get(node)?.probe }

  /** report: the last answer of node, while it is recent (a lease). */
  report (node: string): PeerReport | undefined {
    const s = this.peers.get(node)
    return s?.report !== undefined && this.now() - s.reportAt <= this.o.leaseMs && s.probe?.kind === 'answered' ? s.report : undefined
  }

  /** lastHeard: when (local clock) any answering peer last heard from agent; kept after the peer stops answering, so its agents' silence counts from there. */
  lastHeard (agent: string): number | undefined { return this.heardAt.get(agent) }

  /** probing: the peers asked now and what the last answer was, for the console and /readyz. */
  view (): Array<{ node: string, result: ProbeResult | undefined, at: number | undefined, report: PeerReport | undefined }> {
    return [...this.peers].map(([node, s]) => ({ node, result: s.lastResult, at: s.probe?.at, report: this.report(node) }))
  }

  stop (): void {
    this.stopped = true
    for (const s of this.peers.values()) s.inFlight?.abort()
    this.peers.clear()
    if (this.counter !== undefined) this.o.registry?.removeSingleMetric('kanshi_cluster_peer_probe_total')
  }

  private state (node: string): PeerState {
    let s = this.peers.get(node)
    if (s === undefined) { s = { probe: undefined, report: undefined, reportAt: 0, inFlight: undefined, lastResult: undefined }; this.peers.set(node, s) }
    return s
  }

  private forget (node: string): void {
    this.peers.get(node)?.inFlight?.abort()
    this.peers.delete(node)
  }

  private async probe (t: ProbeTarget, s: PeerState): Promise<void> {
    const ac = new AbortController()
    s.inFlight = ac
    let result: ProbeResult
    let report: PeerReport | undefined
    try {
      ({ result, report } = await this.ask(t, ac.signal))
    } finally {
      s.inFlight = undefined
    }
    // Forgotten meanwhile (the peer beats again, or this node stopped): the answer is stale.
    if (this.stopped || this.peers.get(t.node) !== s) return
    const at = this.now()
    this.counter?.inc({ result })
    if (s.lastResult !== result) this.o.logger[result === 'answered' ? 'warn' : 'error']({ peer: t.node, result, pgUp: report?.pgUp, agents: report?.agents.length }, result === 'answered' ? `cluster: collector ${t.node} is silent in PostgreSQL but answers its peers` : `cluster: collector ${t.node} is silent and does not answer its peers (${result})`)
    s.lastResult = result
    if (report !== undefined) {
      s.probe = { kind: 'answered', at, node: report.node, pgUp: report.pgUp }
      s.report = report
      s.reportAt = at
      for (const a of report.agents) this.heardAt.set(a.agent, Math.max(this.heardAt.get(a.agent) ?? 0, at - a.ageMs))
      for (const [a, t] of this.heardAt) if (at - t > 86_400_000) this.heardAt.delete(a)
    } else {
      const streak = s.probe?.kind === 'failed' ? s.probe : undefined
      s.probe = { kind: 'failed', at, failures: (streak?.failures ?? 0) + 1, since: streak?.since ?? at }
    }
  }

  private async ask (t: ProbeTarget, signal: AbortSignal): Promise<{ result: ProbeResult, report?: PeerReport }> {
    const url = peerUrl(t.address)
    if (url === undefined || !this.o.key.ready) return { result: 'no_address' }
    const headers = this.o.key.sign(this.o.self, t.node, this.now())
    const nonce = headers[PEER_HEADERS.nonce]!
    return await new Promise(resolve => {
      const timer = setTimeout(() => { req.destroy(new Error('timeout')); resolve({ result: 'timeout' }) }, this.o.timeoutMs)
      const done = (r: { result: ProbeResult, report?: PeerReport }): void => { clearTimeout(timer); resolve(r) }
      const opts = { headers, signal, ...(url.protocol === 'https:' && this.o.ca !== undefined ? { ca: this.o.ca } : {}) }
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, opts, res => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (c: Buffer) => { size += c.length; if (size > 4 * 1024 * 1024) { req.destroy(); done({ result: 'bad_reply' }) } else chunks.push(c) })
        res.on('error', () => { done({ result: 'unreachable' }) })
        res.on('end', () => {
          if (res.statusCode !== 200) { done({ result: 'refused' }); return }
          const body = Buffer.concat(chunks).toString('utf8')
          const sig = res.headers[PEER_HEADERS.sig]
          if (!this.o.key.verifyReply(nonce, body, typeof sig === 'string' ? sig : undefined)) { done({ result: 'bad_reply' }); return }
          const report = parseReport(body)
          done(report === undefined ? { result: 'bad_reply' } : { result: 'answered', report })
        })
      })
      req.on('error', () => { done({ result: 'unreachable' }) })
      req.end()
    })
  }
}

function parseReport (body: string): PeerReport | undefined {
  try {
    const r = JSON.parse(body) as PeerReport
    if (typeof r.node !== 'string' || typeof r.pgUp !== 'boolean' || !Array.isArray(r.agents)) return undefined
    return { ...r, agents: r.agents.filter(a => typeof a?.agent === 'string' && typeof a.ageMs === 'number') }
  } catch { return undefined }
}
