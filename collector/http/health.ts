// Health and metrics: /healthz (the process answers), /readyz (storage, WAL,
// outbox: what a load balancer or the console asks) and /metrics (Prometheus).
// Strangers learn only up/ready; the reasons and /metrics need a viewer (metrics.* may open /metrics).

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { KanshiError } from '../../protocol/errors.js'
import type { Alerting } from '../alerting/index.js'
import { atLeast, type Caller, type Guard } from '../api/auth.js'
import { sourceAllowed, type MetricsConfig } from '../config/metrics.js'
import type { Ingest } from '../ingest/ingest.js'
import type { Metrics } from '../metrics.js'
import type { Wal } from '../state/wal/index.js'
import { readyzWarning, type DegradedStatus } from '../cluster/degraded-status.js'
import type { StorageBackend } from '../storage/backend.js'
import type { StorageTargets } from '../storage/targets.js'

export interface HealthOptions {
  wal: Wal
  walMaxBytes: number
  ingest: Ingest
  metrics: Metrics
  backend: StorageBackend | undefined
  /** the InfluxDB targets and their writers (undefined: WAL-only) */
  targets: StorageTargets | undefined
  alerting: Alerting | undefined
  /** the log archive, when enabled: a write it cannot make is a problem */
  archive?: { problem: string | undefined } | undefined
  /** where data goes, in words */
  storage: string
  /** metrics.auth and metrics.allow: who may read /metrics */
  access: MetricsConfig
  /** the API's guard: need('viewer') refuses, callerOf only tells who asks */
  need: Guard
  callerOf: (req: FastifyRequest) => Promise<Caller | undefined>
  now?: () => number
  /** cluster mode: PostgreSQL unreachable is a warning (ingest goes on) */
  cluster?: { status: () => { pgUp: boolean, pgError: string | undefined, node: string, alerting?: DegradedStatus | undefined, nodes?: PeerLine[] } } | undefined
}

/** How long /readyz waits for the outbox count before it answers with the last one read (a balancer's probe must not hang on PostgreSQL). */
const OUTBOX_WAIT_MS = 250

export const health: FastifyPluginAsync<HealthOptions> = async (app, o) => {
  const now = o.now ?? Date.now
  // The outbox count: one read at a time, shared by the probes that arrive meanwhile; the last result kept.
  let outbox: { n: number, error?: string } = { n: 0 }
  let reading: Promise<void> | undefined
  const readOutbox = async (store: NonNullable<HealthOptions['alerting']>['store']): Promise<{ n: number, error?: string }> => {
    reading ??= store.pendingMail().then(n => { outbox = { n } }, (err: Error) => { outbox = { n: outbox.n, error: err.message } }).finally(() => { reading = undefined })
    let timer: NodeJS.Timeout | undefined
    const late = await Promise.race([reading.then(() => false), new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(true), OUTBOX_WAIT_MS) })])
    clearTimeout(timer)
    return late ? { n: outbox.n, error: outbox.error ?? `no answer within ${OUTBOX_WAIT_MS} ms; the count is the last one read` } : outbox
  }
  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (req, reply) => {
    const problems: string[] = []
    let warnings: string[] = []
    // With several targets one that fails is a warning while another stores: the collector still keeps every point.
    if (o.backend === undefined || o.targets === undefined) problems.push(`storage: ${o.storage}`)
    else {
      const s = await o.targets.problems()
      problems.push(...s.problems)
      warnings = s.warnings
    }
    const cs = o.cluster?.status()
    if (cs !== undefined && !cs.pgUp) warnings = [...warnings, `cluster: postgres unreachable (${cs.pgError ?? 'no answer'}); ingest goes on, leader jobs stop`]
    warnings = [...warnings, ...peerWarnings(cs?.node, cs?.nodes)]
    const degraded = readyzWarning(cs?.alerting)
    if (degraded !== undefined) warnings = [...warnings, degraded]
    const walBytes = o.wal.totalBytes
    if (walBytes > o.walMaxBytes * 0.8) problems.push(`wal: ${walBytes} bytes held, over 80% of its bound ${o.walMaxBytes}`)
    if (o.wal.diskError !== undefined) problems.push(`wal: ${o.wal.diskError}`)
    if (o.archive?.problem !== undefined) problems.push(o.archive.problem)
    if (o.alerting !== undefined) {
      const { n: stuck, error } = await readOutbox(o.alerting.store)
      if (error !== undefined) warnings = [...warnings, `alerting: the outbox cannot be read (${error})`]
      if (stuck > 50) problems.push(`alerting: ${stuck} mails waiting in the outbox (SMTP down?)`)
    }
    const agentsConnected = [...o.ingest.status.values()].filter(s => s.connected).length
    const status = problems.length === 0 ? 'ready' : 'not ready'
    const who = await o.callerOf(req)
    // The reasons name the storage URL and its errors: only for a viewer (the console sends its session).
    const body = who !== undefined && atLeast(who.role, 'viewer')
      ? { status, storage: o.storage, problems, ...(warnings.length > 0 ? { warnings } : {}), walBytes, walMaxBytes: o.walMaxBytes, agentsConnected }
      : { status, problemCount: problems.length }
    return await reply.code(problems.length === 0 ? 200 : 503).send(body)
  })

  const allowed = sourceAllowed(o.access.allow)
  const viewer = o.need('viewer')
  // The TCP peer, not X-Forwarded-For: a header anyone can write must not open the door.
  const metricsAccess = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const peer = req.socket.remoteAddress
    if (!allowed(peer)) throw new KanshiError('E_FORBIDDEN', `metrics.allow does not list this address (${peer ?? 'unknown'})`)
    if (o.access.auth === 'viewer') await viewer(req, reply)
  }

  app.get('/metrics', { onRequest: metricsAccess }, async (_req, reply) => {
    const m = o.metrics
    m.walBytes.set(o.wal.totalBytes)
    for (const t of o.targets?.list ?? []) {
      const r = t.reader
      m.walOldestAge.set({ reader: r.name }, r.oldestPendingTs === 0 ? 0 : Math.max(0, (now() - r.oldestPendingTs) / 1000))
      m.storageLag.set({ target: t.name }, o.wal.bytesFrom(r.committed))
    }
    return await reply.header('content-type', m.registry.contentType).send(await m.registry.metrics())
  })
}

interface PeerLine { node: string, state?: string, notice?: string | null, peer?: { agents: number, degraded: boolean } }

/** peerWarnings: a peer cut off from PostgreSQL (it answers, its agents are fine) is told apart from a dead one. */
function peerWarnings (self: string | undefined, nodes: readonly PeerLine[] | undefined): string[] {
  return (nodes ?? []).filter(n => n.node !== self).flatMap(n =>
    n.state === 'cut_off'
      ? [`cluster: collector ${n.node} cut off from PostgreSQL; it answers its peers${n.peer !== undefined ? ` and keeps ${n.peer.agents} agents${n.peer.degraded ? ' (縮退運転 there)' : ''}` : ''}; not down`]
      : n.state === 'down' && n.notice === 'down' ? [`cluster: collector ${n.node} down (silent, does not answer its peers)`] : [])
}
