// Health and metrics: /healthz (the process answers), /readyz (storage, WAL,
// outbox: what a load balancer or the console asks) and /metrics (Prometheus).

import type { FastifyPluginAsync } from 'fastify'
import type { Alerting } from '../alerting/index.js'
import type { Ingest } from '../ingest/ingest.js'
import type { Metrics } from '../metrics.js'
import type { Wal } from '../state/wal/index.js'
import type { StorageBackend } from '../storage/backend.js'
import type { StorageWriter } from '../storage/writer.js'

export interface HealthOptions {
  wal: Wal
  walMaxBytes: number
  ingest: Ingest
  metrics: Metrics
  backend: StorageBackend | undefined
  writer: StorageWriter | undefined
  alerting: Alerting | undefined
  /** where data goes, in words */
  storage: string
  now?: () => number
}

export const health: FastifyPluginAsync<HealthOptions> = async (app, o) => {
  const now = o.now ?? Date.now
  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (_req, reply) => {
    const problems: string[] = []
    if (o.backend === undefined) problems.push(`storage: ${o.storage}`)
    else if (o.writer !== undefined && !o.writer.healthy && o.writer.lastError !== undefined) problems.push(`storage: ${o.writer.lastError}`)
    else if (!(await o.backend.ping())) problems.push('storage: InfluxDB does not answer')
    const walBytes = o.wal.totalBytes
    if (walBytes > o.walMaxBytes * 0.8) problems.push(`wal: ${walBytes} bytes held, over 80% of its bound ${o.walMaxBytes}`)
    if (o.wal.diskError !== undefined) problems.push(`wal: ${o.wal.diskError}`)
    if (o.alerting !== undefined) {
      const stuck = o.alerting.store.pendingMail()
      if (stuck > 50) problems.push(`alerting: ${stuck} mails waiting in the outbox (SMTP down?)`)
    }
    const agentsConnected = [...o.ingest.status.values()].filter(s => s.connected).length
    const body = { status: problems.length === 0 ? 'ready' : 'not ready', storage: o.storage, problems, walBytes, walMaxBytes: o.walMaxBytes, agentsConnected }
    return await reply.code(problems.length === 0 ? 200 : 503).send(body)
  })

  app.get('/metrics', async (_req, reply) => {
    const m = o.metrics
    m.walBytes.set(o.wal.totalBytes)
    if (o.writer !== undefined) {
      const r = o.wal.reader('storage')
      m.walOldestAge.set({ reader: 'storage' }, r.oldestPendingTs === 0 ? 0 : Math.max(0, (now() - r.oldestPendingTs) / 1000))
    }
    return await reply.header('content-type', m.registry.contentType).send(await m.registry.metrics())
  })
}
