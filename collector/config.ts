// collector.yaml: one schema per section (collector/config/, report/config.ts, alerting), each
// with its defaults; decoded at start-up, paths resolved beside the file, secrets taken from
// KANSHI_* variables, sections checked against each other, then frozen.

import { Type, type StaticDecode } from '@sinclair/typebox'
import { Strict, deepFreeze, decodeConfig, readYamlFile, relativeTo } from '../common/config.js'
import { AlertingSchema, DEFAULT_SCHEDULES, checkAlerting, type AlertingConfig } from './alerting/config.js'
import { AgentsSchema, checkAgents } from './config/agents.js'
import { ApiSchema } from './config/api.js'
import { ArchiveSchema, checkArchive } from './config/archive.js'
import { InfluxListSchema, InfluxSchema, queryTarget, resolveInfluxTargets, type InfluxConfig } from './config/influx.js'
import { IngestSchema } from './config/ingest.js'
import { ListenSchema, resolveListen } from './config/listen.js'
import { MetricsSchema } from './config/metrics.js'
import { WalSchema } from './config/wal.js'
import { RollupSchema } from './config/rollup.js'
import { ReportSchema, checkReport, type ReportConfig, type ScheduleLike } from './report/config.js'
import { ReportsSchema, checkReports, type ReportsConfig } from './config/reports.js'
import { SystemsSchema, checkSystems } from './config/systems.js'
import { StatusSchema } from './status/config.js'
import { JobsSchema, checkJobs } from './jobs/config.js'
import { ClusterSchema, checkCluster, type ClusterConfig } from './config/cluster.js'


const LogSchema = Type.Object({
  level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map(l => Type.Literal(l)), { default: 'info', description: 'one of fatal, error, warn, info, debug, trace' })
}, { ...Strict, default: {} })

export const CollectorConfigSchema = Type.Object({
  listen: ListenSchema,
  dataDir: Type.String({ default: './var/collector', description: 'a directory path' }),
  influx: InfluxSchema,
  agents: AgentsSchema,
  wal: WalSchema,
  ingest: IngestSchema,
  log: LogSchema,
  alerting: Type.Optional(AlertingSchema),
  report: ReportSchema,
  reports: ReportsSchema,
  api: ApiSchema,
  metrics: MetricsSchema,
  archive: ArchiveSchema,
  systems: SystemsSchema,
  status: StatusSchema,
  jobs: JobsSchema,
  rollup: RollupSchema,
  cluster: Type.Optional(ClusterSchema)
}, Strict)

/** Raw is the decoded file, before paths, secrets and the checks across sections. */
type Raw = StaticDecode<typeof CollectorConfigSchema>

/** CollectorConfig is the decoded file with paths resolved beside it, secrets applied and sections resolved against each other. */
export type CollectorConfig = Omit<Raw, 'influx' | 'alerting' | 'report' | 'reports' | 'cluster'> & {
  file: string
  /** the target reports and the console read (influx.query, else the first) */
  influx: InfluxConfig
  /** every InfluxDB target: each gets every point (`influx:` as a list; one map is a list of one) */
  influxTargets: readonly InfluxConfig[]
  alerting: AlertingConfig | undefined
  /** kanshi-report: targets, service hours, thresholds (collector/report/config.ts) */
  report: ReportConfig
  /** generated reports: where kept, how long, when mailed (collector/config/reports.ts) */
  reports: ReportsConfig
  /** several collectors on one PostgreSQL (collector/config/cluster.ts); undefined: one collector, no PostgreSQL */
  cluster: ClusterConfig | undefined
}

/** loadCollectorConfig reads, checks and freezes a collector config; it throws ConfigError. */
export function loadCollectorConfig (file: string, env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  return checkCollectorConfig(file, readYamlFile(file), env)
}

export function checkCollectorConfig (file: string, raw: unknown, env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  // influx: may be a list; each item is checked as a whole target, the rest of the file as usual.
  const list = (raw as { influx?: unknown } | null)?.influx
  const many = Array.isArray(list) ? decodeConfig(file, InfluxListSchema, { influx: list }).influx : undefined
  const c = decodeConfig(file, CollectorConfigSchema, many === undefined ? raw : { ...(raw as object), influx: {} })
  const path = relativeTo(file)
  const dataDir = path(c.dataDir)
  const influxTargets = resolveInfluxTargets(file, many ?? [c.influx], { dataDir, path, env })
  const influx = queryTarget(influxTargets)
  // Opening hours name a schedule; with no alerting section the default schedules apply.
  const defaultSchedules: readonly ScheduleLike[] = DEFAULT_SCHEDULES
  const schedules = c.alerting?.schedules ?? defaultSchedules
  checkAgents(file, c.agents, schedules.map(x => x.name))
  checkSystems(file, c.systems, schedules.map(x => x.name))
  checkJobs(file, c.jobs, schedules.map(x => x.name))
  const listen = resolveListen(file, c.listen, path)
  const alerting = c.alerting === undefined ? undefined : checkAlerting(file, c.alerting, path, env)
  const timezone = c.alerting?.timezone ?? (AlertingSchema.properties.timezone.default as string)
  const report = checkReport(file, c.report, { schedules, defaultSchedules, timezone, agents: c.agents })
  const reports = checkReports(file, c.reports, path, alerting)
  const archive = checkArchive(file, c.archive, path, dataDir)
  const cluster = checkCluster(file, c.cluster, path, env, alerting?.receivers.map(r => r.name))
  return deepFreeze({ ...c, file, listen, dataDir, influx, influxTargets, alerting, report, reports, archive, cluster })
}
