// startCluster: the collector's side of cluster mode, for build(): the Cluster with its
// sessions from ingest, its notices through alerting, and the leader gates on the
// dead-man mail and the report runner.

import { join } from 'node:path'
import type { Logger } from 'pino'
import { Counter, type Registry } from 'prom-client'
import { VERSION } from '../../protocol/version.js'
import type { Alerting, SharedAlerting } from '../alerting/index.js'
import { agentLease } from './agent-leases.js'
import { AuditShipper } from './audit-pg.js'
import { PgAlertStore } from './alert-store-pg.js'
import { DegradingAlertStore } from './degraded-store.js'
import { pgMessage } from './pg.js'
import { mirrorRecord } from './alert-mirror.js'
import { SqliteAlertDb } from '../alerting/store.js'
import type { AuditLog } from '../audit/log.js'
import type { CollectorConfig } from '../config.js'
import type { AgentStatus } from '../ingest/ingest.js'
import type { ReportRunner } from '../report/delivery/runner.js'
import { Cluster } from './index.js'
import { sharedSecret } from './ack-secret.js'
import { clusterNotices } from './notify.js'
import type { SweepResult } from './sweep.js'

export { Cluster }

export interface WiringOptions {
  config: CollectorConfig
  logger: Logger
  registry: Registry
  /** ingest's agent statuses (read each heartbeat) */
  sessions: () => Iterable<AgentStatus>
  address: () => string
  audit: AuditLog
  now: () => number
  /** PEM CA(s) of https peers (listen.tls.ca) */
  peerCa?: Buffer | undefined
}

/** A Cluster that build() attaches to alerting and the reports once they exist. */
export interface WiredCluster extends Cluster {
  attach: (alerting: Alerting | undefined, reports: ReportRunner | undefined) => void
  /** alerting's store on the cluster's PostgreSQL (schema first); PostgreSQL unreachable at start: degraded from the start, reconciled when it answers */
  sharedAlerting: () => Promise<SharedAlerting>
  /** copies audit.db into the cluster's shared audit chain */
  auditShipper: AuditShipper
  /** copies the shared incident record into alerting.db now (the reports read it); failures are logged */
  refreshRecord: () => Promise<void>
}

export function startCluster (o: WiringOptions): WiredCluster {
  const cc = o.config.cluster!
  const logger = o.logger.child({ component: 'cluster' })
  let notices: ((r: SweepResult) => void) | undefined
  const cluster = new Cluster({
    config: cc,
    version: VERSION,
    address: o.address,
    sessions: () => [...o.sessions()].filter(s => s.connected).map(s => ({ agent: s.id, connectedAt: s.connectedAt ?? o.now() })),
    onSweep: r => notices?.(r),
    peerAgents: () => [...o.sessions()].filter(s => s.connected).map(s => ({ agent: s.id, ageMs: Math.max(0, o.now() - s.lastSeen) })),
    peerSecretFile: join(o.config.dataDir, 'cluster-peer.key'),
    ...(o.peerCa !== undefined ? { peerCa: o.peerCa } : {}),
    logger,
    registry: o.registry
  })
  const stop = cluster.stop.bind(cluster)
  const start = cluster.start.bind(cluster)
  // The audit log: audit.db first on every node, copied in order into the cluster's one chain (audit_log).
  const auditShipper = new AuditShipper({ pool: cluster.pool, node: cc.node, audit: o.audit, logger, registry: o.registry, ready: async () => { await cluster.migrateNow() } })
  let mirror: { run: () => Promise<void>, stop: () => void } | undefined
  /** The reports read alerting.db: the shared record is copied into it every 6 heartbeats and before a report run. */
  const startMirror = (): { run: () => Promise<void>, stop: () => void } => {
    const db = new SqliteAlertDb(o.config.dataDir, o.audit)
    let failed = false
    const run = async (): Promise<void> => {
      try {
        await mirrorRecord(cluster.dataPool, db.db)
        failed = false
      } catch (err) {
        if (!failed) logger.warn({ err: pgMessage(err) }, 'cluster: could not copy the incident record into alerting.db for the reports; tried again')
        failed = true
      }
    }
    const timer = setInterval(() => { void run() }, cc.heartbeat * 6)
    timer.unref()
    return { run, stop: () => { clearInterval(timer); db.close() } }
  }
  let store: DegradingAlertStore | undefined
  const fenced = new Counter({ name: 'kanshi_alert_fenced_total', help: 'alerting writes refused because this collector does not hold the agent\'s lease (agent:<id>)', registers: [o.registry] })
  return Object.assign(cluster, {
    sharedAlerting: async (): Promise<SharedAlerting> => {
      let down: string | undefined
      try {
        await cluster.migrateNow()
      } catch (err) {
        down = pgMessage(err)
      }
      const pgStore = new PgAlertStore({ pool: cluster.dataPool, node: cc.node, epochOf: l => cluster.agents.epochOf(l), onFenced: () => { fenced.inc() }, audit: o.audit })
      const shared = sharedSecret(cluster.dataPool)
      // PostgreSQL down for cluster.degradedAfter, or at start: alerting goes on locally (縮退運転), reconciled when it returns.
      const locales = new Map((o.config.alerting?.receivers ?? []).map(r => [r.name, r.locale]))
      store = new DegradingAlertStore({
        pg: pgStore, pool: cluster.dataPool, node: cc.node, dataDir: o.config.dataDir, audit: o.audit, degradedAfterMs: cc.degradedAfter, logger: o.logger.child({ component: 'alerting' }), registry: o.registry, localeOf: r => locales.get(r),
        ...(down !== undefined ? { startDegraded: down } : {}),
        beforeReconcile: async () => {
          await cluster.migrateNow()
          // The leases of the agents here now (moved here while degraded): taken before their journal is written, then fenced again.
          await cluster.agents.renew([...o.sessions()].filter(s => s.connected).map(s => s.id))
          await shared.settle()
        }
      })
      cluster.alertingStatus = () => store!.status()
      return { store, fenceOf: agentLease, onFenced: () => { fenced.inc() }, ackSecret: shared.read, onAckSecret: shared.onSettled }
    },
    attach: (alerting: Alerting | undefined, reports: ReportRunner | undefined): void => {
      if (alerting !== undefined && alerting.store.backend === 'postgres') {
        const adopt = (agent: string): void => { alerting.stage.adopt(agent).catch(err => logger.error({ err, agent }, 'cluster: could not load the series state of an agent taken over; its pending alerts start again')) }
        cluster.agents.onTaken = adopt
        // PostgreSQL down as a session starts here: evaluated alone (series from the warm copy, or fresh); the lease is taken before reconciliation.
        cluster.onTakeUnreachable = agent => {
          if (store === undefined || cluster.agents.epochOf(agentLease(agent)) !== undefined) return
          logger.warn({ agent, degraded: store.degraded }, 'cluster: agent arrived while PostgreSQL is unreachable: evaluated here alone (縮退運転 once degraded); its lease is taken when the database returns')
          adopt(agent)
        }
        mirror = startMirror()
      }
      notices = clusterNotices({ cluster: cc, alerting, alertingConfig: o.config.alerting, audit: o.audit, now: o.now, logger })
      if (alerting !== undefined) alerting.notifier.leader = () => cluster.isLeader()
      if (reports !== undefined) reports.gate = { leader: () => cluster.isLeader(), claim: async (job, dueAt) => await cluster.claim(job, dueAt), before: async () => { await mirror?.run() } }
    },
    auditShipper,
    refreshRecord: async (): Promise<void> => { await mirror?.run() },
    start: (): void => {
      start()
      auditShipper.start()
    },
    stop: async (): Promise<void> => {
      mirror?.stop()
      await auditShipper.stop()
      await stop()
    }
  })
}
