// The REST API: the agents list, the audit log (verified on every read), the
// generated reports and, when alerting is on, the alerting API.

import type { FastifyPluginAsync } from 'fastify'
import type { Alerting } from '../alerting/index.js'
import type { CollectorConfig } from '../config.js'
import type { AuditLog } from '../audit/log.js'
import type { Ingest } from '../ingest/ingest.js'
import { alertApi } from './alerts.js'
import { guard, type ApiAuth, type RequestAuth } from './auth.js'
import { reportApi } from './reports.js'
import { incidentApi } from './incidents.js'
import { deviceApi } from './devices.js'

export interface ApiOptions {
  apiAuth: ApiAuth
  /** the console's sessions, accepted where no bearer token is sent */
  consoleAuth: RequestAuth
  ingest: Ingest
  audit: AuditLog
  alerting: Alerting | undefined
  /** reports.outDir: the generated reports listed for download */
  reportsDir: string
  /** the collector's config (the incident report is generated from it) */
  config?: CollectorConfig | undefined
  now?: () => number
  /** cluster mode: the shared audit chain (cluster/audit-pg.ts sharedAuditView) */
  sharedAudit?: (() => Promise<object>) | undefined
  /** cluster mode: copies the shared incident record into alerting.db before a 障害報告書 is made from it */
  refreshRecord?: (() => Promise<void>) | undefined
}

export const api: FastifyPluginAsync<ApiOptions> = async (app, o) => {
  const { need, actorOf } = guard(o.apiAuth, o.consoleAuth)
  // Host names, addresses, versions and OS: a viewer's (or the console's) to see, not a stranger's.
  app.get('/api/v1/agents', { onRequest: need('viewer') }, async () => ({ agents: [...o.ingest.status.values()] }))
  // The full check (edits, gaps, a cut tail against the head witness), not only the rows shown.
  app.get('/v1/audit', { onRequest: need('admin') }, async () => {
    const r = o.audit.verify()
    // In cluster mode also the shared chain; PostgreSQL unreachable is said, the local log is still shown.
    const cluster = o.sharedAudit === undefined ? undefined : await o.sharedAudit()
    return { brokenAt: r.broken?.id ?? null, problem: r.broken?.reason ?? null, records: r.records, entries: o.audit.entries(200), ...(cluster !== undefined ? { cluster } : {}) }
  })
  if (o.alerting !== undefined) await app.register(alertApi, { alerting: o.alerting, need, actorOf })
  if (o.alerting !== undefined) await app.register(incidentApi, { alerting: o.alerting, audit: o.audit, need, actorOf, config: o.config, beforeReport: o.refreshRecord })
  await app.register(reportApi, { outDir: o.reportsDir, need })
  await app.register(deviceApi, { ingest: o.ingest, need, now: o.now ?? Date.now })
}
