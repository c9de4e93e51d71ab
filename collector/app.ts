// The collector's app factory: build(opts) wires the pipeline (agents → ingest
// → WAL → storage writer / rollups / alerting) and the HTTP plugins, without
// listening, so tests build the real app and inject requests or listen on port 0.

import { hostname } from 'node:os'
import { join } from 'node:path'
import { mkdir, readFile } from 'node:fs/promises'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import websocket from '@fastify/websocket'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import type { CollectorConfig } from './config.js'
import { createMetrics, type Metrics } from './metrics.js'
import type { Position, Wal } from './state/wal/index.js'
import { openWal } from './state/open-wal.js'
import { SeqStore } from './state/seqs.js'
import { AgentAuth } from './ingest/auth.js'
import { Ingest, type AgentStatus } from './ingest/ingest.js'
import { agentRoute } from './ingest/route.js'
import { StoredTracker } from './ingest/stored.js'
import { scanUnstored } from './ingest/stored-scan.js'
import { AuditLog } from './audit/log.js'
import type { StorageBackend } from './storage/backend.js'
import { makeBackend } from './storage/backend-config.js'
import { before, type StorageWriter } from './storage/writer.js'
import { StorageTargets } from './storage/targets.js'
import { LogSweeper, shortLived } from './storage/log-retention.js'
import { RollupStage } from './storage/rollup-stage.js'
import { rollupRepair } from './storage/rollup-repair-wire.js'
import { createAlerting, type Alerting } from './alerting/index.js'
import { hostTopology } from './alerting/topology.js'
import { ApiAuth, guard } from './api/auth.js'
import { api } from './api/plugin.js'
import { inventoryApi } from './api/inventory.js'
import { consoleInventory } from './console/inventory.js'
import { consoleCluster } from './console/cluster.js'
import { influxTarget } from './report/report.js'
import { consoleGate } from './console/gate.js'
import { consolePlugin } from './console/plugin.js'
import { statusPage } from './status/plugin.js'
import { errorReplies } from './http/errors.js'
import { health } from './http/health.js'
import { limits, serverOptions } from './http/limits.js'
import type { ReportRunner, Generators } from './report/delivery/runner.js'
import { createReportRunner } from './report/delivery/generators.js'
import { ARCHIVE_READER, createArchive, type ArchiveStage } from './archive/index.js'
import { JOBS_READER, createJobTracker, jobsWanted } from './jobs/index.js'
import type { JobTracker } from './jobs/tracker.js'
import { startCluster, type Cluster, type WiredCluster } from './cluster/wiring.js'
import { PgSessions } from './cluster/console-sessions-pg.js'
import { PgTokenUse } from './cluster/token-use-pg.js'
import { FileTokenUse, TokenUse } from './api/token-use.js'
import { tokenUseRoute } from './api/token-use-route.js'
import { sharedAuditView } from './cluster/audit-pg.js'
import { pgMessage } from './cluster/pg.js'
import { advertiseUrl } from './cluster/advertise.js'
import { peerRoute } from './cluster/peer-route.js'

export interface BuildOptions {
  config: CollectorConfig
  logger: Logger
  /** a back end to use instead of the one influx.* describes (benchmarks: NullSink) */
  backend?: StorageBackend
  /** the InfluxDB URL when the config has none (the embedded influxd) */
  influxUrl?: string
  registry?: Registry
  /** the collector's clock (tests: a fake one driving the report schedule and the outbox) */
  now?: () => number
  /** report generators instead of the real ones (tests) */
  reportGenerators?: Partial<Generators>
}

export interface Collector {
  app: FastifyInstance
  /** API tokens' last use (GET /api/v1/tokens/use) */
  tokenUse: TokenUse
  wal: Wal
  ingest: Ingest
  auth: AgentAuth
  /** the one audit log (dataDir/audit.db): agents, console, alerting, reloads */
  audit: AuditLog
  /** the first target's writer (see targets for all of them) */
  writer: StorageWriter | undefined
  /** every InfluxDB target with its writer (undefined: WAL-only) */
  targets: StorageTargets | undefined
  /** storedPosition: the WAL position every InfluxDB target has written (min over targets); WAL-only: it never moves */
  storedPosition(): Position
  /** onStored calls cb each time the stored position moves; it returns the unsubscribe */
  onStored(cb: (pos: Position) => void): () => void
  metrics: Metrics
  alerting: Alerting | undefined
  /** the scheduled reports (reports.daily / reports.monthly), when any is configured */
  reports: ReportRunner | undefined
  /** the log archive (archive.enabled): its problem, if any, belongs on /readyz */
  archive: ArchiveStage | undefined
  /** the expected jobs (jobs:): deadlines and overruns, when any is configured */
  jobs: JobTracker | undefined
  /** cluster membership (cluster:): nodes, leases, the leader; undefined: a single collector, no PostgreSQL */
  cluster: Cluster | undefined
  /** storage describes where data goes, for logs and /readyz */
  storage: string
  /** every HTTP route registered (method and URL), so a test can walk them all */
  routes: ReadonlyArray<{ method: string, url: string }>
  /** reloadAgents swaps the allowed agents (SIGHUP) and disconnects revoked ones. */
  reloadAgents(agents: CollectorConfig['agents']): void
  /** shutdown stops accepting, lets the writer flush what it can, and leaves the rest in the WAL. */
  shutdown(): Promise<void>
}

export async function build (opts: BuildOptions): Promise<Collector> {
  const { config, logger } = opts
  const now = opts.now ?? Date.now
  const metrics = createMetrics(opts.registry ?? new Registry())
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const seqs = new SeqStore(config.dataDir)
  await seqs.load()
  const note = (message: string): void => logger.warn({ component: 'storage' }, message)
  const targetBackends = opts.backend !== undefined
    ? [{ config: config.influx, backend: opts.backend }]
    : config.influxTargets.flatMap(t => {
      const b = makeBackend(config, t.url ?? (t === config.influx ? opts.influxUrl : undefined), note, t)
      return b === undefined ? [] : [{ config: t, backend: b }]
    })
  const backend = targetBackends[0]?.backend
  const storage = backend === undefined
    ? 'none (WAL-only: data is kept on disk and not written to any database)'
    : targetBackends.length === 1 ? `${backend.name}` : targetBackends.map(t => `${t.config.name} (${t.backend.name})`).join(', ')
  // 'storage' always reads, even WAL-only: its cursor stands still until a database is configured, so nothing is deleted meanwhile.
  const storageReaders = backend === undefined ? ['storage'] : targetBackends.map(t => t.config.reader)
  const rollupsWanted = config.influxTargets.some(t => t.rollups)
  const readers = [...storageReaders, ...(backend !== undefined && rollupsWanted ? ['rollup'] : []), ...(config.alerting !== undefined ? ['alerting'] : []), ...(config.archive.enabled ? [ARCHIVE_READER] : []), ...(jobsWanted(config) ? [JOBS_READER] : [])]
  const wal = await openWal(config, readers, seqs, metrics, logger.child({ component: 'wal' }))
  const auth = new AgentAuth(config.agents)
  const audit = new AuditLog(config.dataDir, now)

  // Stored acknowledgements (protocol 2) need a storage position: none when WAL-only.
  // The slowest target's cursor is where the stored position starts; the targets move it (below).
  const slowest = storageReaders.map(n => wal.reader(n)).reduce((a, b) => before(b.committed, a.committed) ? b : a)
  const stored = backend !== undefined && config.ingest.maxProtocol >= 2 ? new StoredTracker(a => seqs.acked(a), slowest.committed) : undefined
  if (stored !== undefined) await scanUnstored(wal, slowest.name, stored)
  // Cluster (cluster:): created before ingest, whose host-down judgement asks it; started with the rest.
  const cluster: WiredCluster | undefined = config.cluster === undefined ? undefined : startCluster({ config, logger, registry: metrics.registry, sessions: (): Iterable<AgentStatus> => ingest.status.values(), address: () => appAddress(), audit, now, peerCa: config.listen.tls?.ca === undefined ? undefined : await readFile(config.listen.tls.ca) })
  const ingest = new Ingest({
    wal, seqs, metrics, ...(stored !== undefined ? { stored } : {}), logger: logger.child({ component: 'ingest' }),
    defaultIntervalMs: config.ingest.defaultInterval,
    hostDownAfterIntervals: config.ingest.hostDownAfterIntervals,
    knownAgents: () => auth.identities(),
    // Called only once listening, after rollups below is set.
    onSession: (agent, ev) => { if (ev === 'start') { rollups?.sessionStart(agent); cluster?.takeAgent(agent) } else rollups?.sessionEnd(agent) },
    ...(cluster !== undefined ? { hostDown: (agent: string) => cluster.hostDown(agent) } : {}),
    pace: readers.map(n => {
      const reader = wal.reader(n)
      // Rollups and alerting need only CPU: alive while they read. The storage writer reads again on every
      // retry, so it is alive only while writes succeed; 16 MiB keeps its reads inside the WAL's memory tail.
      return storageReaders.includes(n)
        ? { reader, bytes: 16 * 1024 * 1024, alive: () => backend !== undefined && performance.now() - reader.lastCommitAt < 5000 }
        : { reader, bytes: 8 * 1024 * 1024, alive: () => performance.now() - reader.lastReadAt < 1000 }
    })
  })
  const targets = backend === undefined ? undefined : new StorageTargets({ wal, targets: targetBackends, dataDir: config.dataDir, metrics, logger })
  const unfollow = stored !== undefined && targets !== undefined ? stored.follow(targets) : undefined
  const writer = targets?.list[0]?.writer
  const sweeper = targets === undefined
    ? undefined
    : new LogSweeper({
      targets: targets.list.map(t => ({ name: t.name, backend: t.backend, rules: t.config.retention.logsBy, intervalMs: t.config.retention.sweepInterval })),
      metrics, logger: logger.child({ component: 'log-retention' }), now
    })
  const rollups = backend !== undefined && rollupsWanted
    ? new RollupStage({
      wal, reader: wal.reader('rollup'), logger: logger.child({ component: 'rollup' }), onLate: n => metrics.rollupLate.inc(n),
      repair: rollupRepair(config, opts.influxUrl, () => targets?.storedPosition() ?? { segment: 0, offset: 0 }, r => metrics.rollupRepairs.inc({ result: r }))
    })
    : undefined
  // Parents: agents[].parent (reloaded with the agents) and the devices' parent tags.
  let agentList = config.agents
  const topology = hostTopology(() => agentList, ingest.devices)
  const alerting = config.alerting === undefined
    ? undefined
    : await createAlerting(config.alerting, config.dataDir, wal, logger, (kind, result) => metrics.mails.inc({ kind, result }), config.agents, audit, now, config.systems, topology, await cluster?.sharedAlerting())
  // Log events a logsBy rule keeps shorter stay out of the archive, which must not outlive them.
  const exclude = shortLived(config.influxTargets.flatMap(t => t.retention.logsBy))
  const archive = createArchive({ config, wal, metrics, logger: logger.child({ component: 'archive' }), now, auditFile: audit.file, ...(exclude !== undefined ? { exclude } : {}) })
  const jobs = createJobTracker(config, wal, logger, now)
  const reports = createReportRunner({ config, alerting, audit, now, logger: logger.child({ component: 'reports' }), generators: opts.reportGenerators })

  cluster?.attach(alerting, reports)
  const app = Fastify({
    loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
    requestTimeout: config.listen.requestTimeout,
    // An HTTP socket idle this long is closed (ws clears it on upgraded sockets, which have their own pings).
    connectionTimeout: config.listen.requestTimeout,
    ...(await serverOptions(config))
  })
  const routes: Array<{ method: string, url: string }> = []
  app.addHook('onRoute', r => { for (const method of [r.method].flat()) routes.push({ method, url: r.url }) })
  const appAddress = (): string => {
    const a = app.server.address()
    return advertiseUrl(config.cluster?.advertise, config.listen.tls !== undefined, typeof a === 'object' && a !== null ? a : undefined, config.listen)
  }
  await app.register(limits, { maxSocketsPerAddress: config.ingest.maxConnectionsPerAddress, silentMs: config.listen.headersTimeout, metrics })
  await app.register(errorReplies)
  // UTF-8 is checked per frame in the session, so a bad frame gets E_BAD_UTF8 instead of a dropped socket.
  await app.register(websocket, { options: { maxPayload: config.ingest.maxFrameBytes * 2, skipUTF8Validation: true } })
  const { maxFrameBytes, maxErrorsPerMinute, maxConnectionsPerAddress, maxProtocol } = config.ingest
  await app.register(agentRoute, { auth, audit, ingest, metrics, logger: logger.child({ component: 'session' }), maxFrameBytes, maxErrorsPerMinute, maxConnectionsPerAddress, maxProtocol, ...(stored !== undefined ? { stored } : {}) })
  const apiAuth = new ApiAuth(config.api.tokens)
  // API tokens' last use: noted per request, written once a minute (token-use.json; PostgreSQL in a cluster).
  const tokenUse = new TokenUse({
    node: config.cluster?.node ?? hostname(),
    now,
    backend: cluster === undefined ? new FileTokenUse(join(config.dataDir, 'token-use.json')) : new PgTokenUse(cluster.pool, async () => { await cluster.migrateNow() }),
    onError: err => { logger.warn({ err: pgMessage(err) }, 'api: the last use of API tokens could not be written; kept for the next try') }
  })
  apiAuth.onUse = name => { tokenUse.seen(name) }
  // In cluster mode the console's sessions are shared through PostgreSQL: a login on one node works on all.
  const consoleSessions = cluster === undefined ? undefined : new PgSessions({ pool: cluster.pool, node: config.cluster!.node, now, ready: async () => { await cluster.migrateNow() } })
  const gate = consoleGate({ tls: config.listen.tls !== undefined, publicUrl: config.alerting?.publicUrl, now, sessions: consoleSessions, onError: err => { logger.error({ err: pgMessage(err) }, 'console: the shared sessions cannot be reached') } })
  const { need, callerOf } = guard(apiAuth, gate.requestAuth)
  await app.register(health, { wal, walMaxBytes: config.wal.maxBytes, ingest, metrics, backend, targets, alerting, archive, storage, access: config.metrics, need, callerOf, now, cluster })
  await app.register(api, { apiAuth, consoleAuth: gate.requestAuth, ingest, audit, alerting, reportsDir: config.reports.outDir, config, now, sharedAudit: cluster === undefined ? undefined : async () => await sharedAuditView(cluster.pool, cluster.auditShipper), refreshRecord: cluster === undefined ? undefined : async () => { await cluster.refreshRecord() } })
  await app.register(statusPage, { status: config.status, alerting, timezone: config.alerting?.timezone ?? config.report.timezone, now })
  const inventoryTarget = backend === undefined ? undefined : { ...influxTarget(config), url: config.influx.url ?? opts.influxUrl ?? influxTarget(config).url }
  await app.register(inventoryApi, { need, target: inventoryTarget, timezone: config.report.timezone, ...config.report.inventory, now })
  await app.register(consoleInventory)
  await app.register(consoleCluster, { need, cluster })
  await app.register(peerRoute, { peer: cluster === undefined ? undefined : { node: cluster.node, key: cluster.peerKey, report: () => cluster.peerReport() }, registry: metrics.registry, now })
  await app.register(tokenUseRoute, { need, tokens: config.api.tokens, use: tokenUse })
  await app.register(consolePlugin, {
    gate, apiAuth, ingest, wal, metrics, alerting, audit, now, grafanaUrl: config.alerting?.grafanaUrl, logger: logger.child({ component: 'console' }),
    readers: [...(targets?.list.map(t => t.config.reader) ?? []), ...(alerting !== undefined ? ['alerting'] : [])],
    storageReaders: targets?.list.map(t => t.config.reader) ?? []
  })

  ingest.start()
  targets?.start()
  sweeper?.start()
  rollups?.start()
  alerting?.stage.start()
  reports?.start()
  archive?.start()
  jobs?.start()
  cluster?.start()
  tokenUse.start()

  let down: Promise<void> | undefined
  const shutdown = async (): Promise<void> => await (down ??= (async () => {
    ingest.stop()
    unfollow?.()
    ingest.closeAll(1001, 'collector shutting down')
    await app.close()
    await reports?.stop()
    // Alerting before the cluster: in cluster mode its last writes go through the cluster's pool.
    if (alerting?.store.backend === 'postgres') await alerting.close()
    await tokenUse.stop()
    await cluster?.stop()
    await rollups?.stop()
    await archive?.stop()
    await jobs?.stop()
    await sweeper?.stop()
    await targets?.stop()
    if (alerting?.store.backend !== 'postgres') await alerting?.close()
    await wal.close()
    await seqs.checkpoint()
    await targets?.close()
    audit.close()
  })())
  const reloadAgents = (agents: CollectorConfig['agents']): void => {
    const before = new Set(auth.identities().map(i => i.id))
    auth.reload(agents)
    agentList = agents
    ingest.devices.forgetPollersExcept(new Set(agents.map(a => a.id)))
    alerting?.setAgents(agents)
    ingest.revokeExcept(new Set(agents.map(a => a.id)), h => auth.valid(h))
    audit.append('collector', 'agents.reload', {
      agents: agents.length,
      added: agents.filter(a => !before.has(a.id)).map(a => a.id),
      removed: [...before].filter(id => !agents.some(a => a.id === id)),
      rotating: agents.filter(a => a.tokenSha256Next !== undefined).map(a => a.id)
    })
  }
  const storedPosition = (): Position => targets?.storedPosition() ?? { ...wal.reader('storage').committed }
  const onStored = (cb: (pos: Position) => void): () => void => targets?.onStored(cb) ?? (() => {})
  return { app, tokenUse, wal, ingest, auth, audit, writer, targets, storedPosition, onStored, metrics, alerting, reports, archive, jobs, cluster, storage, routes, shutdown, reloadAgents }
}
