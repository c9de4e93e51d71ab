// A collector's membership of a cluster: every heartbeat it marks itself seen, writes its
// agents' sessions, tries to take or renew the `leader` lease and, as leader, sweeps for dead
// collectors. Nothing in ingest waits on this: PostgreSQL down only stops the leader's jobs.

import { Gauge, type Registry } from 'prom-client'
import type { Logger } from 'pino'
import { backoffDelay } from '../../common/backoff.js'
import type { ClusterConfig } from '../config/cluster.js'
import { redactUrl } from '../config/cluster.js'
import { makePool, pgMessage, type Pool } from './pg.js'
import { migrate } from './schema.js'
import { acquire, current, recordRun, release, stillHeld } from './lease.js'
import { beat, leave, nodes, register, whereabouts, type NodeRow, type Session } from './registry.js'
import { sweep, type SweepResult } from './sweep.js'
import { AgentLeases } from './agent-leases.js'
import type { DegradedStatus } from './degraded-status.js'
import { cacheSecret, PeerKey, readCachedSecret, sharedSecret } from './peer-auth.js'
import { PeerWatch, type PeerReport } from './peer-probe.js'

export interface ClusterOptions {
  config: ClusterConfig
  version: string
  /** how peers and operators reach this node (its listen address) */
  address: () => string
  /** this node's connected agents, for agent_sessions */
  sessions: () => Session[]
  /** the leader's notices: a collector went down or came back (mail them) */
  onSweep?: (r: SweepResult) => void
  logger: Logger
  registry?: Registry | undefined
  /** a pool instead of one from config (tests); it then serves alerting too */
  pool?: Pool
  /** this node's connected agents with the age of each one's last frame, for peers that ask (peer-route.ts) */
  peerAgents?: () => Array<{ agent: string, ageMs: number }>
  /** where the peer secret is kept on disk (<dataDir>/cluster-peer.key); undefined: memory only */
  peerSecretFile?: string
  /** PEM CA(s) of https peers (listen.tls.ca) */
  peerCa?: Buffer | undefined
}

/** A node as the console and /readyz show it: live, stopped, cut off from PostgreSQL (answers its peers) or down. */
export type NodeState = 'live' | 'stopped' | 'cut_off' | 'down'
export type NodeView = NodeRow & { state: NodeState, peer?: { pgError: string | null, agents: number, degraded: boolean } }

/** What the console, /readyz and /metrics show. */
export interface ClusterStatus {
  node: string
  postgres: string
  pgUp: boolean
  pgError: string | undefined
  leader: string | undefined
  epoch: number | undefined
  self: boolean
  nodes: NodeView[]
  /** ms since the last successful heartbeat (undefined: none yet) */
  sinceBeatMs: number | undefined
  /** alerting's degraded mode (縮退運転), when alerting runs on this cluster's store */
  alerting?: DegradedStatus | undefined
}

/** Time kept back from the lease as the database reported it, for clock-rate differences and the round trip. */
const SAFETY_MS = 500

export class Cluster {
  /** the heartbeat's, the leases' and the sweep's connections: never queued behind alerting's statements */
  readonly pool: Pool
  /** alerting's connections (the shared alert store, degraded mode, the report copy): cluster.postgres.poolSize */
  readonly dataPool: Pool
  /** agent:<id> leases of the agents whose sessions are here (alerting fences on them) */
  readonly agents: AgentLeases
  /** alerting's degraded-mode status (set by the wiring when alerting uses the cluster's store) */
  alertingStatus: (() => DegradedStatus) | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private running: Promise<void> | undefined
  private failures = 0
  private registered = false
  private migrated = false
  private held: { epoch: number, until: number } | undefined
  private lastLeader: { holder: string, epoch: number } | undefined
  private lastNodes: NodeRow[] = []
  private where = new Map<string, { node: string | null, seenAt: number, lastNode: string | null }>()
  private pgUp = false
  private pgError: string | undefined = 'not connected yet'
  private lastBeat: number | undefined
  /** performance.now() of the first heartbeat that succeeded after start or after PostgreSQL was unreachable */
  private upSince: number | undefined
  private readonly gauges: { leader: Gauge, nodes: Gauge, pgUp: Gauge } | undefined
  /** the cluster's peer secret: signs this leader's probes and checks the probes of others */
  readonly peerKey = new PeerKey(undefined)
  private readonly watch: PeerWatch
  private secretShared = false
  private cachedSecret: Buffer | undefined

  constructor (private readonly o: ClusterOptions) {
    // Two pools: a slow or busy alert store must not delay the heartbeat that keeps the leases.
    this.pool = o.pool ?? makePool({ ...o.config.postgres, poolSize: 2 }, err => { this.down(err) })
    this.dataPool = o.pool ?? makePool(o.config.postgres, err => { this.down(err) })
    this.agents = new AgentLeases({ pool: this.pool, node: o.config.node, leaseMs: o.config.lease })
    this.watch = new PeerWatch({ self: o.config.node, key: this.peerKey, timeoutMs: o.config.peerTimeout, heartbeatMs: o.config.heartbeat, leaseMs: o.config.lease, ca: o.peerCa, logger: o.logger, registry: o.registry })
    const r = o.registry
    this.gauges = r === undefined
      ? undefined
      : {
          leader: new Gauge({ name: 'kanshi_cluster_leader', help: '1 while this collector holds the cluster leader lease', registers: [r], collect: () => { this.gauges?.leader.set(this.isLeader() ? 1 : 0) } }),
          nodes: new Gauge({ name: 'kanshi_cluster_nodes', help: 'live collectors in the cluster, as this node last read them', registers: [r], collect: () => { this.gauges?.nodes.set(this.lastNodes.filter(n => n.live).length) } }),
          pgUp: new Gauge({ name: 'kanshi_cluster_pg_up', help: '1 while the last PostgreSQL statement of this node succeeded', registers: [r], collect: () => { this.gauges?.pgUp.set(this.pgUp ? 1 : 0) } })
        }
  }

  get node (): string { return this.o.config.node }

  /** start begins the heartbeat loop; it returns at once (PostgreSQL may be down: the loop retries). */
  start (): void {
    // The secret kept on disk first: a node started while cut off from PostgreSQL still answers its peers.
    if (this.o.peerSecretFile === undefined) { this.arm(0); return }
    void readCachedSecret(this.o.peerSecretFile).then(k => { if (k !== undefined && !this.peerKey.ready) { this.cachedSecret = k; this.peerKey.set(k) } }).finally(() => { this.arm(0) })
  }

  /** peerReport: what this node tells a peer that asks (GET /api/v1/cluster/peer). */
  peerReport (): PeerReport {
    const a = this.alertingStatus?.()
    return {
      node: this.node,
      pgUp: this.pgUp,
      pgError: this.pgError ?? null,
      sinceBeatMs: this.lastBeat === undefined ? null : Math.round(performance.now() - this.lastBeat),
      degraded: a === undefined ? null : { degraded: a.degraded, since: a.since, held: a.held },
      agents: this.o.peerAgents?.() ?? []
    }
  }

  /** isLeader: this node holds the leader lease and its local deadline (lease minus a margin) has not passed. */
  isLeader (): boolean {
    return this.held !== undefined && performance.now() < this.held.until
  }

  /** epoch is the fencing token of the lease this node holds, or undefined. */
  epoch (): number | undefined {
    return this.isLeader() ? this.held!.epoch : undefined
  }

  /** fenced asks the database, right before a cluster job acts, that this node still leads at the epoch it holds. */
  async fenced (): Promise<boolean> {
    const e = this.epoch()
    if (e === undefined) return false
    try {
      return await stillHeld(this.pool, 'leader', this.node, e)
    } catch (err) {
      this.down(err)
      return false
    }
  }

  /** unreachable: an agent's session started here and its lease could not be tried (PostgreSQL down); alerting may adopt it alone */
  onTakeUnreachable: ((agent: string) => void) | undefined

  /** takeAgent takes an agent's lease as its session starts here (a peer's still-live lease: retried each heartbeat). */
  takeAgent (agent: string): void {
    if (this.stopped) return
    if (!this.migrated) { this.onTakeUnreachable?.(agent); return }
    this.agents.take(agent).catch(err => { this.down(err); this.onTakeUnreachable?.(agent) })
  }

  /** migrateNow brings the schema up before alerting opens its PostgreSQL store; it throws PostgreSQL's error. */
  async migrateNow (): Promise<void> {
    const applied = await migrate(this.pool)
    if (applied.length > 0) this.o.logger.info({ versions: applied }, 'cluster: PostgreSQL schema migrated')
    this.migrated = true
  }

  /** claim records, fenced, that this leader runs job for due time dueAt; false: not the leader, or already run (by anyone). */
  async claim (job: string, dueAt: number): Promise<boolean> {
    const e = this.epoch()
    if (e === undefined) return false
    try {
      return await recordRun(this.pool, this.node, e, job, dueAt)
    } catch (err) {
      this.down(err)
      return false
    }
  }

  /**
   * hostDown says whether this node may judge agent down (the leader, and no live peer has it connected),
   * and the local time any node last heard it (so silence is measured across the cluster).
   */
  hostDown (agent: string): { judge: boolean, lastSeen?: number } {
    const w = this.where.get(agent)
    // A peer cut off from PostgreSQL that answers it hears the agent: its silence is the age that peer reports, not its stale row's.
    const heardAt = this.watch.lastHeard(agent)
    const seenAt = Math.max(w?.seenAt ?? -Infinity, heardAt ?? -Infinity)
    // An agent of a peer whose row is stale is judged only once settled: the peer may have waited for the database too.
    const judge = this.isLeader() && (w?.node === this.node || (this.settled() && (w === undefined || w.node === null) && !this.pendingPeer(w, heardAt)))
    return seenAt === -Infinity ? { judge } : { judge, lastSeen: seenAt }
  }

  status (): ClusterStatus {
    return {
      node: this.node,
      postgres: redactUrl(this.o.config.postgres.url),
      pgUp: this.pgUp,
      pgError: this.pgError,
      // PostgreSQL unreachable and no lease of our own: who leads is unknown, not the last one seen
      // (nor this node, whose deadline passed before a statement failed).
      leader: this.isLeader() ? this.node : this.otherLeader()?.holder,
      epoch: this.isLeader() ? this.held!.epoch : this.otherLeader()?.epoch,
      self: this.isLeader(),
      nodes: this.lastNodes.map(n => this.view(n)),
      sinceBeatMs: this.lastBeat === undefined ? undefined : Math.round(performance.now() - this.lastBeat),
      ...(this.alertingStatus !== undefined ? { alerting: this.alertingStatus() } : {})
    }
  }

  /**
   * settled: PostgreSQL has answered this node for a whole lease. Until then a peer's stale row may only
   * mean that it too waited for the database (an outage, a cluster start): no peer is judged down.
   */
  private settled (): boolean {
    return this.pgUp && this.upSince !== undefined && performance.now() - this.upSince >= this.o.config.lease
  }

  /**
   * pendingPeer: the agent's last collector is silent in PostgreSQL and not judged yet (the leader is asking it).
   * Its stale row says nothing about the agent: wait for the verdict (down: judged from there; cut off: by what it reports).
   */
  private pendingPeer (w: { node: string | null, lastNode: string | null } | undefined, heardAt: number | undefined): boolean {
    if (w === undefined || w.node !== null || w.lastNode === null || w.lastNode === this.node || heardAt !== undefined) return false
    const peer = this.lastNodes.find(n => n.node === w.lastNode)
    return peer !== undefined && !peer.live && peer.stoppedAt === null && peer.notice === null
  }

  private view (n: NodeRow): NodeView {
    const rep = n.node === this.node ? undefined : this.watch.report(n.node)
    // Cut off only once the leader recorded it: a silent peer not yet judged (after an outage, say) is shown as before.
    const state: NodeState = n.live ? 'live' : n.stoppedAt !== null ? 'stopped' : n.notice === 'cut_off' ? 'cut_off' : 'down'
    return { ...n, state, ...(state === 'cut_off' && rep !== undefined ? { peer: { pgError: rep.pgError, agents: rep.agents.length, degraded: rep.degraded?.degraded === true } } : {}) }
  }

  private otherLeader (): { holder: string, epoch: number } | undefined {
    return this.pgUp && this.lastLeader?.holder !== this.node ? this.lastLeader : undefined
  }

  /** tick runs one heartbeat now (tests, and the loop); concurrent calls share it. */
  async tick (): Promise<void> {
    this.running ??= this.beatOnce().finally(() => { this.running = undefined })
    await this.running
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.watch.stop()
    if (this.timer !== undefined) clearTimeout(this.timer)
    await this.running
    const held = this.held
    this.held = undefined
    if (this.pgUp) {
      try {
        if (held !== undefined) await release(this.pool, 'leader', this.node, held.epoch)
        // The agents' leases too: a peer their sessions move to takes them at once.
        await this.pool.query("UPDATE leases SET expires_at = now() WHERE holder = $1 AND name LIKE 'agent:%' AND expires_at > now()", [this.node])
        await leave(this.pool, this.node)
      } catch (err) {
        this.o.logger.warn({ err: pgMessage(err) }, 'cluster: could not record the stop in PostgreSQL; peers will see this node down after the lease time')
      }
    }
    if (this.gauges !== undefined) for (const n of ['kanshi_cluster_leader', 'kanshi_cluster_nodes', 'kanshi_cluster_pg_up']) this.o.registry?.removeSingleMetric(n)
    await this.pool.end().catch(() => {})
    if (this.dataPool !== this.pool) await this.dataPool.end().catch(() => {})
  }

  private arm (ms: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      void this.tick().finally(() => {
        this.arm(this.pgUp ? this.o.config.heartbeat : backoffDelay({ minMs: 250, maxMs: this.o.config.heartbeat }, this.failures - 1))
      })
    }, ms)
    this.timer.unref()
  }

  private async beatOnce (): Promise<void> {
    const { config, logger } = this.o
    try {
      if (!this.migrated) {
        const applied = await migrate(this.pool)
        if (applied.length > 0) logger.info({ versions: applied }, 'cluster: PostgreSQL schema migrated')
        this.migrated = true
      }
      if (!this.secretShared) {
        const secret = await sharedSecret(this.pool)
        this.peerKey.set(secret)
        this.secretShared = true
        const file = this.o.peerSecretFile
        if (file !== undefined && this.cachedSecret?.equals(secret) !== true) {
          this.cachedSecret = secret
          // A disk that refuses is not PostgreSQL down: logged, the secret stays in memory.
          cacheSecret(file, secret).catch(err => { this.o.logger.warn({ err, file }, 'cluster: could not keep the peer secret on disk; a start while PostgreSQL is unreachable will not answer peers') })
        }
      }
      if (!this.registered) {
        await register(this.pool, this.node, this.o.version, this.o.address())
        this.registered = true
        logger.info({ node: this.node, postgres: redactUrl(config.postgres.url) }, 'cluster: node registered')
      }
      const sessions = this.o.sessions()
      if (!await beat(this.pool, this.node, this.o.address(), sessions)) this.registered = false
      await this.agents.renew(sessions.map(s => s.agent))
      const t0 = performance.now()
      const got = await acquire(this.pool, 'leader', this.node, config.lease)
      this.lead(got === undefined ? undefined : { epoch: got.epoch, until: t0 + got.remainingMs - SAFETY_MS })
      if (got === undefined) {
        const cur = await current(this.pool, 'leader')
        this.lastLeader = cur?.live === true ? { holder: cur.holder, epoch: cur.epoch } : undefined
      }
      const fetchedAt = Date.now()
      const [ns, ws] = await Promise.all([nodes(this.pool, config.lease), whereabouts(this.pool, config.lease)])
      this.lastNodes = ns
      // The leader asks silent peers directly, beside this heartbeat (each probe bounded by cluster.peerTimeout).
      this.watch.kick(this.isLeader() ? ns.map(n => ({ node: n.node, address: n.address, ageMs: n.ageMs, stopped: n.stoppedAt !== null, cutOff: n.notice === 'cut_off', down: n.notice === 'down' })) : [])
      this.where = new Map(ws.map(w => [w.agent, { node: w.node, seenAt: fetchedAt - w.ageMs, lastNode: w.lastNode ?? null }]))
      this.up()
      const e = this.epoch()
      if (e !== undefined) {
        const dueAt = Math.floor(fetchedAt / config.heartbeat) * config.heartbeat
        if (await recordRun(this.pool, this.node, e, 'sweep', dueAt)) {
          // Not settled (PostgreSQL has not answered this node for a whole lease): after an outage every
          // node was silent, and a peer whose first beat comes a little later is not down. None is judged down yet.
          const w = this.watch
          const r = await sweep(this.pool, this.node, e, ns, ws, this.settled(), {
            probe: n => w.probeState(n),
            report: n => w.report(n),
            times: { leaseMs: config.lease, heartbeatMs: config.heartbeat, peerTimeoutMs: config.peerTimeout, failuresForDown: 2 },
            now: Date.now
          })
          if (r.down.length + r.back.length + (r.cutOff?.length ?? 0) + (r.cutOffBack?.length ?? 0) > 0) this.o.onSweep?.(r)
        }
      }
    } catch (err) {
      this.down(err)
    }
  }

  private lead (next: { epoch: number, until: number } | undefined): void {
    const was = this.held
    this.held = next
    if (next !== undefined) this.lastLeader = { holder: this.node, epoch: next.epoch }
    if (was === undefined && next !== undefined) this.o.logger.warn({ node: this.node, epoch: next.epoch }, 'cluster: this collector is the leader (runs reports, the dead-man mail, cluster host-down)')
    if (was !== undefined && next === undefined) this.o.logger.warn({ node: this.node, epoch: was.epoch }, 'cluster: another collector took the leader lease')
  }

  private up (): void {
    if (!this.pgUp && this.failures > 0) this.o.logger.warn({ after: this.failures }, 'cluster: PostgreSQL reachable again')
    if (!this.pgUp) this.upSince = performance.now()
    this.pgUp = true
    this.pgError = undefined
    this.failures = 0
    this.lastBeat = performance.now()
  }

  private down (err: unknown): void {
    const message = pgMessage(err)
    if (this.pgUp || this.failures === 0) this.o.logger.error({ err: message, node: this.node }, 'cluster: PostgreSQL unreachable; ingest goes on, leader jobs stop when the lease runs out')
    this.pgUp = false
    this.pgError = message
    this.failures++
    // The database may have been restored or recreated: check the schema, the node row and the peer secret again.
    this.migrated = false
    this.registered = false
    this.secretShared = false
  }
}
