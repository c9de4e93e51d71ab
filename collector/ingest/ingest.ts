// The ingest stage: accepted batches are stamped with the identity bound to the
// token, appended to the WAL, and acked only once durable. It also keeps one
// session per agent and writes host_up from what it sees.

import type { Logger } from 'pino'
import type { Batch, Point } from '../../protocol/messages.js'
import { KanshiError } from '../../protocol/errors.js'
import { payloadBytes, type Wal, type WalReader } from '../state/wal/index.js'
import type { SeqStore } from '../state/seqs.js'
import { batchParts, encodeEntry, identityTags, stamp, type WalEntry } from '../state/entry.js'
import { pointsIn, type Cols } from '../../protocol/columns.js'
import type { Metrics } from '../metrics.js'
import type { Identity } from './auth.js'
import type { StoredTracker } from './stored.js'
import { newDeviceSink, resetDeviceSink } from '../state/device-stamp.js'
import { DeviceRegistry } from './devices.js'

/** What ingest needs from a connection: close it when it must reconnect and resend. */
export interface SessionHandle {
  readonly agentId: string
  /** the hash of the token the connection presented */
  readonly tokenSha256?: string | undefined
  close(code: number, reason: string): void
}

export interface AgentStatus {
  id: string
  connected: boolean
  up: boolean
  lastSeen: number
  intervalMs: number
  hostname?: string
  version?: string
  os?: string
  remote?: string
  connectedAt?: number
  /** the protocol of the connection: 2 = stored acknowledgements (docs/protocol.md) */
  protocol?: number
  /** from the agent's last `agent` point (spool depth, clock skew at its last welcome) */
  spoolBatches?: number
  spoolBytes?: number
  clockSkewMs?: number
}

export type AcceptResult = { kind: 'ack', seq: number, duplicate: boolean } | { kind: 'refused', error: KanshiError }

export interface IngestOptions {
  wal: Wal
  seqs: SeqStore
  metrics: Metrics
  logger: Logger
  defaultIntervalMs: number
  hostDownAfterIntervals: number
  /** configured agents, so one that never connects is reported down too */
  knownAgents: () => Identity[]
  /** cluster mode: whether this node may judge the agent down, and when any node last heard it (collector/cluster/) */
  hostDown?: ((agent: string) => { judge: boolean, lastSeen?: number }) | undefined
  now?: () => number
  /** stored acknowledgements (protocol 2): told the WAL position of every acked batch */
  stored?: StoredTracker
  /**
   * pace is flow control: a batch waits while one of these readers is more than `bytes` behind
   * and `alive()`, so under a flood the backlog stays in the agents' spools and the readers stay
   * in the WAL's memory tail. A reader that stopped progressing (InfluxDB down) is not waited for.
   */
  pace?: Array<{ reader: WalReader, bytes: number, alive: () => boolean }>
  /** told when an agent's session begins and ends here (the rollup stage marks the buckets a failover may cut) */
  onSession?: (agent: string, event: 'start' | 'end') => void
}

export class Ingest {
  private readonly lastAccepted = new Map<string, number>()
  /**
   * refusedFrom: per agent, the lowest seq refused since its last hello. Every
   * later seq is refused too until it reconnects: a smaller batch that still
   * fits the WAL's bound must not be stored (and acked) past a hole, or the
   * resent earlier batch would be taken for a duplicate and never stored.
   */
  private readonly refusedFrom = new Map<string, number>()
  private readonly sessions = new Map<string, SessionHandle>()
  readonly status = new Map<string, AgentStatus>()
  /** devices polled by agents (points with a device tag) */
  readonly devices = new DeviceRegistry()
  private readonly deviceSink = newDeviceSink()
  /** agents already logged for sending a device they may not poll (once each) */
  private readonly refusedLogged = new Set<string>()
  private readonly now: () => number
  private timer: NodeJS.Timeout | undefined
  private readonly startedAt: number

  constructor (private readonly o: IngestOptions) {
    this.now = o.now ?? Date.now
    this.startedAt = this.now()
  }

  /** ackedSeq is what welcome reports: the highest seq durable for the agent. */
  async ackedSeq (agentId: string): Promise<number> {
    // Batches of an earlier connection may still be in the group commit: let them land first.
    await this.o.wal.flushed().catch(() => {})
    return this.o.seqs.acked(agentId)
  }

  /** settled resolves once every append queued so far has landed or failed. */
  async settled (): Promise<void> {
    await this.o.wal.flushed().catch(() => {})
  }

  /** attach registers the session for an agent, closing any older one (the newer connection wins). */
  attach (s: SessionHandle, id: Identity, info: { hostname: string, version: string, os: string, intervalMs?: number, protocol?: number }, remote: string): void {
    const old = this.sessions.get(s.agentId)
    if (old !== undefined && old !== s) old.close(4000, 'replaced by a newer connection')
    this.sessions.set(s.agentId, s)
    this.refusedFrom.delete(s.agentId)
    const prev = this.status.get(id.id)
    const st: AgentStatus = {
      id: id.id, connected: true, up: prev?.up ?? false, lastSeen: this.now(), intervalMs: info.intervalMs ?? this.o.defaultIntervalMs,
      hostname: info.hostname, version: info.version, os: info.os, remote, connectedAt: this.now(),
      ...(info.protocol !== undefined ? { protocol: info.protocol } : {})
    }
    this.status.set(id.id, st)
    this.o.onSession?.(id.id, 'start')
    if (!st.up) this.setUp(id, st, true)
  }

  detach (s: SessionHandle): void {
    if (this.sessions.get(s.agentId) !== s) return
    this.sessions.delete(s.agentId)
    const st = this.status.get(s.agentId)
    if (st !== undefined) st.connected = false
    this.o.onSession?.(s.agentId, 'end')
  }

  /**
   * accept stores one batch (frame: the bytes it came in, if any) and resolves when it may be
   * acked. A batch at or below the highest seq accepted is acked once that one is durable, not
   * stored again. A refusal leaves the agent's seq where the WAL has it.
   */
  async accept (id: Identity, batch: Batch, frame?: Buffer): Promise<AcceptResult> {
    const agent = id.id
    const received = this.now()
    const st = this.status.get(agent)
    if (st !== undefined) st.lastSeen = received
    const last = this.lastAccepted.get(agent) ?? this.o.seqs.acked(agent)
    if (batch.seq <= last) {
      this.o.metrics.duplicates.inc()
      await this.o.wal.flushed().catch(() => {})
      if (this.o.seqs.acked(agent) >= batch.seq) return { kind: 'ack', seq: batch.seq, duplicate: true }
      return { kind: 'refused', error: new KanshiError('E_INTERNAL', 'an earlier copy of this batch failed to store; resend') }
    }
    const hole = this.refusedFrom.get(agent)
    if (hole !== undefined && batch.seq > hole) {
      return { kind: 'refused', error: new KanshiError('E_WAL_FULL', `batch ${hole} was not stored; reconnect and resend from it`) }
    }
    const points = pointsIn(batch)
    const dev = this.deviceSink
    resetDeviceSink(dev)
    const entry = stamp(id, batch, received, dev) // takes the batch over (and adds host_up to its points)
    const devices = dev.seen - dev.refused
    const refused = dev.refused
    const refusedName = dev.refusedName
    // The frame as received (already validated) goes to the WAL behind its identity: no second JSON.stringify.
    // A batch with device points is stored as stamped: its replay must not need the device policy.
    const buf = frame !== undefined && dev.seen === 0 ? batchParts(id, batch.seq, received, frame) : [encodeEntry(entry)]
    if (this.o.wal.wouldRefuse(payloadBytes(buf))) {
      this.refusedFrom.set(agent, Math.min(hole ?? Infinity, batch.seq))
      return { kind: 'refused', error: new KanshiError('E_WAL_FULL', this.o.wal.diskError ?? 'write-ahead log is at its byte bound') }
    }
    this.lastAccepted.set(agent, batch.seq)
    await this.paced()
    // Checked again with nothing awaited before the append: meanwhile another record may have taken
    // the room, or an earlier batch of this agent been refused. Appended past that hole, this batch
    // would raise ackedSeq over the refused one, and the agent would delete it unsent.
    const gap = this.refusedFrom.get(agent)
    if ((gap !== undefined && batch.seq > gap) || this.o.wal.wouldRefuse(payloadBytes(buf))) {
      this.refusedFrom.set(agent, Math.min(gap ?? Infinity, batch.seq))
      // Earlier batches still on their way to disk stay accepted: their resends wait for them.
      this.lastAccepted.set(agent, Math.min(this.lastAccepted.get(agent) ?? 0, batch.seq - 1))
      return { kind: 'refused', error: new KanshiError('E_WAL_FULL', this.o.wal.diskError ?? (gap !== undefined && batch.seq > gap ? `batch ${gap} was not stored; reconnect and resend from it` : 'write-ahead log is at its byte bound')) }
    }
    try {
      const end = await this.o.wal.append(buf, entry)
      // Before observe: the tracker reads the seq acked before this one.
      this.o.stored?.noteAcked(agent, batch.seq, end)
    } catch (err) {
      // Forget what was not stored so the agent's resend is taken, not skipped as a duplicate.
      this.lastAccepted.set(agent, this.o.seqs.acked(agent))
      this.refusedFrom.set(agent, Math.min(this.refusedFrom.get(agent) ?? Infinity, batch.seq))
      return { kind: 'refused', error: err instanceof KanshiError ? err : new KanshiError('E_INTERNAL', String(err)) }
    }
    this.o.seqs.observe(agent, batch.seq)
    if (st !== undefined) noteSelf(st, entry.p, entry.c)
    if (refused > 0) this.refusedDevices(agent, refused, refusedName)
    if (devices > 0) this.devices.observe(entry.p, received)
    this.o.metrics.points.inc(Math.max(0, points - refused))
    if (batch.events !== undefined) this.o.metrics.events.inc(batch.events.length)
    return { kind: 'ack', seq: batch.seq, duplicate: false }
  }

  /** refusedDevices counts device points an agent may not write, and says so in the log once per agent. */
  private refusedDevices (agent: string, n: number, name: string): void {
    this.o.metrics.devicePointsRefused.inc({ agent }, n)
    if (this.refusedLogged.has(agent)) return
    this.refusedLogged.add(agent)
    this.o.logger.warn({ agent, device: name, refused: n }, `agent ${agent} sent points for device "${name}" it may not poll (agents[].devices, or the name of an agent): refused and counted in kanshi_device_points_refused_total`)
  }

  private async paced (): Promise<void> {
    for (const p of this.o.pace ?? []) {
      if (p.reader.lagBytes() <= p.bytes || !p.alive()) continue
      const t0 = performance.now()
      // At most a second per batch: flow control, never a stop.
      for (let i = 0; i < 50 && p.reader.lagBytes() > p.bytes && p.alive(); i++) await p.reader.nextRead(20)
      this.o.metrics.flowWait.inc({ reader: p.reader.name }, (performance.now() - t0) / 1000)
    }
  }

  /** start runs the silence check that turns host_up to 0 after hostDownAfterIntervals intervals. */
  start (): void {
    this.timer = setInterval(() => { void this.checkSilence() }, 1000)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
  }

  /** revokeExcept closes the sessions of agents no longer allowed, or whose token is no longer valid (after a reload). */
  revokeExcept (allowed: Set<string>, tokenValid: (sha256: string) => boolean = () => true): void {
    for (const [id, s] of this.sessions) {
      if (!allowed.has(id) || (s.tokenSha256 !== undefined && !tokenValid(s.tokenSha256))) s.close(4001, 'agent token revoked')
    }
    for (const id of this.status.keys()) if (!allowed.has(id)) this.status.delete(id)
  }

  closeAll (code: number, reason: string): void {
    for (const s of this.sessions.values()) s.close(code, reason)
  }

  private readonly lastDownWrite = new Map<string, number>()

  private async checkSilence (): Promise<void> {
    const now = this.now()
    for (const id of this.o.knownAgents()) {
      let st = this.status.get(id.id)
      if (st === undefined) {
        st = { id: id.id, connected: false, up: true, lastSeen: this.startedAt, intervalMs: this.o.defaultIntervalMs }
        this.status.set(id.id, st)
      }
      const c = this.o.hostDown?.(id.id)
      const limit = this.o.hostDownAfterIntervals * st.intervalMs
      // Cluster: an agent connected to a peer is up; the node that judged it down says so when it is heard again.
      if (c !== undefined && !st.up && c.lastSeen !== undefined && now - c.lastSeen <= limit && !st.connected) { this.setUp(id, st, true); continue }
      if (c !== undefined && !c.judge) continue
      const silentFor = now - Math.max(st.lastSeen, c?.lastSeen ?? 0)
      if (st.up && silentFor > limit) {
        this.setUp(id, st, false)
      } else if (!st.up && silentFor > limit && now - (this.lastDownWrite.get(id.id) ?? 0) >= st.intervalMs) {
        // Keep writing 0 each interval while down, so availability sums see every interval.
        this.writeHostUp(id, 0, now)
      }
    }
  }

  private setUp (id: Identity, st: AgentStatus, up: boolean): void {
    st.up = up
    this.o.metrics.hostUp.inc({ up: up ? '1' : '0' })
    this.o.logger[up ? 'info' : 'warn']({ agent: id.id, up }, up ? 'agent up' : `agent down: silent for ${this.o.hostDownAfterIntervals} intervals`)
    this.writeHostUp(id, up ? 1 : 0, this.now())
  }

  private writeHostUp (id: Identity, up: 0 | 1, t: number): void {
    if (up === 0) this.lastDownWrite.set(id.id, t)
    const entry: WalEntry = { a: '', s: 0, r: t, p: [{ m: 'host_up', t, tags: identityTags(id), f: { up } }] }
    this.o.wal.append(encodeEntry(entry), entry).catch(err => {
      this.o.logger.error({ err, agent: id.id }, 'could not record host_up')
    })
  }
}

/** noteSelf copies the agent's own health (its `agent` point) into its status for /api/v1/agents and the console. */
function noteSelf (st: AgentStatus, points: readonly Point[], cols: readonly Cols[] | undefined): void {
  // No closure over the loop's point: V8 would allocate a context for every point looked at.
  for (let i = points.length - 1; i >= 0; i--) {
    const p = points[i]!
    if (p.m !== 'agent') continue
    st.spoolBatches = num(p.f['spool_batches']) ?? st.spoolBatches
    st.spoolBytes = num(p.f['spool_bytes']) ?? st.spoolBytes
    st.clockSkewMs = num(p.f['clock_skew_ms']) ?? st.clockSkewMs
    return
  }
  if (cols === undefined) return
  for (let i = cols.length - 1; i >= 0; i--) {
    const c = cols[i]!
    if (c.m !== 'agent' || c.v.length === 0) continue
    // The series' last row.
    const at = c.v.length - c.f.length
    const field = (k: string): number | undefined => { const j = c.f.indexOf(k); return j < 0 ? undefined : c.v[at + j] }
    st.spoolBatches = field('spool_batches') ?? st.spoolBatches
    st.spoolBytes = field('spool_bytes') ?? st.spoolBytes
    st.clockSkewMs = field('clock_skew_ms') ?? st.clockSkewMs
    return
  }
}

function num (v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined
}
