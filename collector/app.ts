// The collector's app factory: build(opts) wires WAL → ingest → storage and
// the HTTP/WebSocket routes, without listening, so tests build the real app.

import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import websocket from '@fastify/websocket'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import { Errors } from '../protocol/errors.js'
import type { CollectorConfig } from './config.js'
import { createMetrics, type Metrics } from './metrics.js'
import { Wal } from './state/wal.js'
import { SeqStore } from './state/seqs.js'
import { decodeHead } from './state/entry.js'
import { AddressLimiter, AgentAuth, sha256Hex } from './ingest/auth.js'
import { AuditLog } from './ingest/audit.js'
import { Ingest } from './ingest/ingest.js'
import { Session } from './ingest/session.js'
import type { StorageBackend } from './storage/backend.js'
import { InfluxV1 } from './storage/influx-v1.js'
import { InfluxV2 } from './storage/influx-v2.js'
import { DeadLetter } from './storage/dead-letter.js'
import { StorageWriter } from './storage/writer.js'
import { RollupStage } from './storage/rollup-stage.js'
import { createAlerting, type Alerting } from './alerting/index.js'
import { ApiAuth, registerAlertApi } from './api/alerts.js'
import { registerConsole } from './console/routes.js'

export interface BuildOptions {
  config: CollectorConfig
  logger: Logger
  /** a back end to use instead of the one influx.* describes (benchmarks: NullSink) */
  backend?: StorageBackend
  /** the InfluxDB URL when the config has none (the embedded influxd) */
  influxUrl?: string
  registry?: Registry
}

export interface Collector {
  app: FastifyInstance
  wal: Wal
  ingest: Ingest
  auth: AgentAuth
  /** audit is dataDir/audit.db: agent authentication failures and agent list reloads */
  audit: AuditLog
  writer: StorageWriter | undefined
  metrics: Metrics
  alerting: Alerting | undefined
  /** storage describes where data goes, for logs and /readyz */
  storage: string
  /** reloadAgents swaps the allowed agents (SIGHUP) and disconnects revoked ones. */
  reloadAgents(agents: CollectorConfig['agents']): void
  /** shutdown stops accepting, lets the writer flush what it can, and leaves the rest in the WAL. */
  shutdown(): Promise<void>
}

export function makeBackend (c: CollectorConfig, url: string | undefined, onNote?: (message: string) => void): StorageBackend | undefined {
  if (url === undefined) return undefined
  const i = c.influx
  if (i.version === 2) return new InfluxV2({ url, token: i.token!, org: i.org!, bucket: i.bucket!, timeoutMs: i.timeoutMs, maxLines: i.batchLines, rollupBucket: i.rollupBucket ?? `${i.bucket!}_5m` })
  const r = i.retention
  return new InfluxV1({
    url, db: i.db, timeoutMs: i.timeoutMs,
    ...(r.manage ? { retention: { raw: { name: r.rawPolicy, duration: r.raw }, rollup: { name: r.rollupPolicy, duration: r.rollup } } } : {}),
    ...(i.rp !== undefined ? { rp: i.rp } : {}),
    ...(i.username !== undefined ? { username: i.username } : {}),
    ...(i.password !== undefined ? { password: i.password } : {}),
    ...(onNote !== undefined ? { onNote } : {})
  })
}

export async function build (opts: BuildOptions): Promise<Collector> {
  const { config, logger } = opts
  const metrics = createMetrics(opts.registry ?? new Registry())
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const seqs = new SeqStore(config.dataDir)
  await seqs.load()
  const backend = opts.backend ?? makeBackend(config, config.influx.url ?? opts.influxUrl, message => logger.warn({ component: 'storage' }, message))
  const walLog = logger.child({ component: 'wal' })
  // 'storage' always reads, even WAL-only: its cursor stands still until a database is configured, so nothing is deleted meanwhile.
  const walReaders = ['storage', ...(backend !== undefined && config.influx.rollups ? ['rollup'] : []), ...(config.alerting !== undefined ? ['alerting'] : [])]
  const wal = await Wal.open({
    dir: join(config.dataDir, 'wal'),
    maxBytes: config.wal.maxBytes,
    segmentBytes: config.wal.segmentBytes,
    readers: walReaders,
    onRecover: data => {
      const e = decodeHead(data)
      if (e.a !== '') seqs.observe(e.a, e.s)
    },
    beforeDelete: async () => await seqs.checkpoint()
  })
  const rec = wal.recovery
  metrics.walTornBytes.set(rec.tornBytes)
  metrics.walRecovered.set(rec.records)
  if (rec.tornBytes > 0) walLog.warn(rec, 'WAL recovery cut a torn or corrupt tail')
  else walLog.info(rec, 'WAL recovered')
  wal.onFlush = (records, _bytes, ms) => {
    metrics.walRecords.inc(records)
    metrics.walFsync.observe(ms / 1000)
  }
  metrics.walMaxBytes.set(config.wal.maxBytes)

  const auth = new AgentAuth(config.agents)
  const audit = new AuditLog(config.dataDir)
  const limiter = new AddressLimiter(config.ingest.maxErrorsPerMinute, config.ingest.maxConnectionsPerAddress)
  const ingest = new Ingest({
    wal, seqs, metrics, logger: logger.child({ component: 'ingest' }),
    defaultIntervalMs: config.ingest.defaultIntervalMs,
    hostDownAfterIntervals: config.ingest.hostDownAfterIntervals,
    knownAgents: () => auth.identities(),
    pace: walReaders.map(n => {
      const reader = wal.reader(n)
      // Rollups and alerting need only CPU: alive while they read. The storage writer reads again on every
      // retry, so it counts as alive only while writes succeed (commits). 16 MiB keeps what it reads inside the
      // WAL's 32 MiB memory tail: at 32 MiB it read from disk and parsed again, and fell further behind.
      return n === 'storage'
        ? { reader, bytes: 16 * 1024 * 1024, alive: () => backend !== undefined && performance.now() - reader.lastCommitAt < 5000 }
        : { reader, bytes: 8 * 1024 * 1024, alive: () => performance.now() - reader.lastReadAt < 1000 }
    })
  })

  let writer: StorageWriter | undefined
  if (backend !== undefined) {
    writer = new StorageWriter({
      wal, reader: wal.reader('storage'), backend, metrics,
      logger: logger.child({ component: 'storage', backend: backend.name }),
      deadLetter: new DeadLetter(config.dataDir, { metrics, logger: logger.child({ component: 'storage' }) }),
      batchLines: config.influx.batchLines,
      lingerMs: config.influx.flushIntervalMs
    })
  }
  const storage = backend === undefined ? 'none (WAL-only: data is kept on disk and not written to any database)' : `${backend.name}`

  const alerting = config.alerting === undefined
    ? undefined
    : createAlerting(config.alerting, config.dataDir, wal, logger, (kind, result) => metrics.mails.inc({ kind, result }), config.agents)

  const app = Fastify({
    loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
    requestTimeout: config.listen.requestTimeoutMs,
    // An HTTP socket idle this long is closed (ws clears it on upgraded sockets, which have their own pings).
    connectionTimeout: config.listen.requestTimeoutMs,
    ...serverOptions(await readTls(config), config.listen.headersTimeoutMs)
  })
  limitSockets(app, config.ingest.maxConnectionsPerAddress, config.listen.headersTimeoutMs, metrics)
  // UTF-8 is checked per frame in the session, so a bad frame gets E_BAD_UTF8 instead of a dropped socket.
  await app.register(websocket, { options: { maxPayload: config.ingest.maxFrameBytes * 2, skipUTF8Validation: true } })

  // Every refusal carries a code from protocol/errors.ts, and a 5xx never shows what went wrong inside.
  app.setErrorHandler(async (err: { statusCode?: number, validation?: unknown, message: string }, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) {
      req.log.error({ err }, 'request failed')
      return await reply.code(500).send({ code: 'E_INTERNAL', message: Errors.E_INTERNAL.message })
    }
    const code = status === 413 ? 'E_TOO_LARGE' : status === 404 ? 'E_NOT_FOUND' : 'E_BAD_REQUEST'
    return await reply.code(status).send({ code, message: err.message.slice(0, 300) })
  })

  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff')
    reply.header('cache-control', 'no-store')
  })

  const sessionLogger = logger.child({ component: 'session' })
  app.get('/v1/agent', {
    websocket: true,
    preValidation: async (req, reply) => {
      const addr = req.ip
      if (limiter.blocked(addr)) {
        metrics.authFailures.inc({ reason: 'rate_limited' })
        return await reply.code(429).send({ code: 'E_RATE_LIMIT', message: Errors.E_RATE_LIMIT.message })
      }
      const header = req.headers.authorization
      const id = auth.authenticate(header)
      if (id === undefined) {
        limiter.fail(addr)
        const reason = header === undefined ? 'missing' : 'invalid'
        metrics.authFailures.inc({ reason })
        req.log.warn({ remote: addr, reason }, 'agent authentication failed')
        // The hash prefix tells a revoked or mistyped token apart from guessing, without the token itself.
        const presented = header === undefined ? undefined : sha256Hex(header.replace(/^Bearer\s+/i, '').trim()).slice(0, 12)
        audit.append('agent', 'agent.auth_failed', { remote: addr, reason, ...(presented !== undefined ? { tokenSha256Prefix: presented } : {}) })
        if (limiter.blocked(addr)) {
          // Logged and audited once per block; further attempts are only counted (kanshi_auth_failures_total).
          req.log.warn({ remote: addr, code: 'E_RATE_LIMIT' }, 'agent authentication failures over the limit: this address is refused for a minute')
          audit.append('agent', 'agent.auth_blocked', { remote: addr, limitPerMinute: config.ingest.maxErrorsPerMinute })
        }
        return await reply.code(401).send({ code: 'E_AUTH', message: Errors.E_AUTH.message })
      }
      if (!limiter.tryOpen(addr)) {
        metrics.authFailures.inc({ reason: 'too_many_connections' })
        return await reply.code(429).send({ code: 'E_RATE_LIMIT', message: 'too many connections from this address' })
      }
      ;(req as unknown as { kanshiIdentity: unknown }).kanshiIdentity = id
    }
  }, (socket, req) => {
    const id = (req as unknown as { kanshiIdentity: ReturnType<AgentAuth['authenticate']> }).kanshiIdentity!
    metrics.connections.inc()
    metrics.connectionsTotal.inc()
    // Only the address outlives the upgrade: a closure over req kept the whole request (headers, raw
    // IncomingMessage) alive for the life of each connection (issue 8, 10,000 agents).
    const ip = req.ip
    socket.on('close', () => limiter.closed(ip))
    new Session(socket, id, ip, {
      ingest, metrics, logger: sessionLogger, tcp: req.socket,
      maxFrameBytes: config.ingest.maxFrameBytes, maxErrorsPerMinute: config.ingest.maxErrorsPerMinute,
      audit: (action, detail) => audit.append('agent', action, detail)
    })
  })

  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (_req, reply) => {
    const problems: string[] = []
    if (backend === undefined) problems.push(`storage: ${storage}`)
    else if (writer !== undefined && !writer.healthy && writer.lastError !== undefined) problems.push(`storage: ${writer.lastError}`)
    else if (!(await backend.ping())) problems.push('storage: InfluxDB does not answer')
    const walBytes = wal.totalBytes
    if (walBytes > config.wal.maxBytes * 0.8) problems.push(`wal: ${walBytes} bytes held, over 80% of its bound ${config.wal.maxBytes}`)
    if (wal.diskError !== undefined) problems.push(`wal: ${wal.diskError}`)
    if (alerting !== undefined) {
      const stuck = alerting.store.pendingMail()
      if (stuck > 50) problems.push(`alerting: ${stuck} mails waiting in the outbox (SMTP down?)`)
    }
    const body = { status: problems.length === 0 ? 'ready' : 'not ready', storage, problems, walBytes, walMaxBytes: config.wal.maxBytes, agentsConnected: [...ingest.status.values()].filter(s => s.connected).length }
    return await reply.code(problems.length === 0 ? 200 : 503).send(body)
  })

  app.get('/metrics', async (_req, reply) => {
    metrics.walBytes.set(wal.totalBytes)
    if (writer !== undefined) {
      const r = wal.reader('storage')
      metrics.walOldestAge.set({ reader: 'storage' }, r.oldestPendingTs === 0 ? 0 : Math.max(0, (Date.now() - r.oldestPendingTs) / 1000))
    }
    return await reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics())
  })

  app.get('/api/v1/agents', async () => ({ agents: [...ingest.status.values()] }))
  const apiAuth = new ApiAuth(config.api.tokens)
  const consoleAuth = registerConsole(app, {
    apiAuth, ingest, wal, metrics, alerting, tls: config.listen.tls !== undefined,
    readers: [...(writer !== undefined ? ['storage'] : []), ...(alerting !== undefined ? ['alerting'] : [])],
    grafanaUrl: config.alerting?.grafanaUrl, publicUrl: config.alerting?.publicUrl, logger: logger.child({ component: 'console' }),
    audit: (actor, action, detail, at) => audit.append(actor, action, detail, at)
  })
  if (alerting !== undefined) registerAlertApi(app, alerting, apiAuth, consoleAuth)

  const rollups = backend !== undefined && config.influx.rollups
    ? new RollupStage({ wal, reader: wal.reader('rollup'), logger: logger.child({ component: 'rollup' }), onLate: n => metrics.rollupLate.inc(n) })
    : undefined

  ingest.start()
  writer?.start()
  rollups?.start()
  alerting?.stage.start()

  let down: Promise<void> | undefined
  const shutdown = (): Promise<void> => {
    down ??= (async () => {
      ingest.stop()
      ingest.closeAll(1001, 'collector shutting down')
      await app.close()
      await rollups?.stop()
      await writer?.stop()
      await alerting?.close()
      await wal.close()
      await seqs.checkpoint()
      await backend?.close()
      audit.close()
    })()
    return down
  }
  const reloadAgents = (agents: CollectorConfig['agents']): void => {
    const before = new Set(auth.identities().map(i => i.id))
    auth.reload(agents)
    alerting?.setAgents(agents)
    ingest.revokeExcept(new Set(agents.map(a => a.id)), h => auth.valid(h))
    audit.append('collector', 'agents.reload', {
      agents: agents.length,
      added: agents.filter(a => !before.has(a.id)).map(a => a.id),
      removed: [...before].filter(id => !agents.some(a => a.id === id)),
      rotating: agents.filter(a => a.tokenSha256Next !== undefined).map(a => a.id)
    })
  }
  return { app, wal, ingest, auth, audit, writer, metrics, alerting, storage, shutdown, reloadAgents }
}

async function readTls (c: CollectorConfig): Promise<{ key: Buffer, cert: Buffer, ca?: Buffer } | undefined> {
  const t = c.listen.tls
  if (t === undefined) return undefined
  const [key, cert, ca] = await Promise.all([readFile(t.key), readFile(t.cert), t.ca === undefined ? undefined : readFile(t.ca)])
  return ca === undefined ? { key, cert } : { key, cert, ca }
}

/** serverOptions: TLS when configured, and a header deadline checked every second instead of Node's 30 s. */
function serverOptions (tls: { key: Buffer, cert: Buffer, ca?: Buffer } | undefined, headersTimeout: number): { https?: object, http?: object } {
  const timing = { headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) }
  return tls === undefined ? { http: timing } : { https: { ...tls, ...timing } }
}

/**
 * limitSockets caps open TCP sockets per remote address (upgraded WebSockets
 * included), so one host cannot hold thousands of idle sockets, and closes a
 * socket that sends nothing at all within the header deadline (Node's own
 * headersTimeout starts only at the first byte).
 */
function limitSockets (app: FastifyInstance, max: number, silentMs: number, metrics: Metrics): void {
  const open = new Map<string, number>()
  app.server.on('connection', (socket: import('node:net').Socket) => {
    const silent = setTimeout(() => socket.destroy(), silentMs)
    silent.unref()
    socket.once('data', () => clearTimeout(silent))
    socket.once('close', () => clearTimeout(silent))
    const addr = socket.remoteAddress ?? ''
    const n = (open.get(addr) ?? 0) + 1
    if (n > max) {
      metrics.authFailures.inc({ reason: 'too_many_connections' })
      socket.destroy()
      return
    }
    open.set(addr, n)
    socket.once('close', () => {
      const left = (open.get(addr) ?? 1) - 1
      if (left <= 0) open.delete(addr); else open.set(addr, left)
    })
  })
}
