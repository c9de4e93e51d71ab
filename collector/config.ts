// collector.yaml: one schema per section (collector/config/, report/config.ts, alerting), each
// with its defaults; decoded at start-up, paths resolved beside the file, secrets taken from
// KANSHI_* variables, sections checked against each other, then frozen.

import { Type, type StaticDecode } from '@sinclair/typebox'
import { ConfigError, Strict, deepFreeze, decodeConfig, durationAt, readYamlFile, relativeTo } from '../common/config.js'
import { AnyKey } from '../protocol/messages.js'
import { isValidTimeZone, parseHours } from './alerting/calendar.js'
import { AgentsSchema, checkAgents } from './config/agents.js'
import { ApiSchema } from './config/api.js'
import { InfluxSchema, resolveInflux, type InfluxConfig } from './config/influx.js'
import { IngestSchema } from './config/ingest.js'
import { ListenSchema, resolveListen } from './config/listen.js'
import { WalSchema } from './config/wal.js'
import { ReportSchema, checkReport, type ReportConfig, type ScheduleLike } from './report/config.js'

export { KIOSK_DEFAULT, openingHours } from './config/agents.js'

const Matchers = Type.Record(AnyKey, Type.String(), { description: 'a map of tag names (or rule, severity) to values; "~regex" for a pattern' })

export const AlertingSchema = Type.Object({
  rulesDir: Type.String({ default: './alert-rules', description: 'a directory of rule files' }),
  timezone: Type.String({ default: 'Asia/Tokyo', description: 'an IANA timezone such as Asia/Tokyo' }),
  calendar: Type.Object({
    holidays: Type.Boolean({ default: true, description: 'true or false' }),
    yearEndClosure: Type.Boolean({ default: true, description: 'true or false' }),
    closedDays: Type.Array(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a date YYYY-MM-DD' }), { default: [] }),
    openDays: Type.Array(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a date YYYY-MM-DD' }), { default: [] })
  }, { ...Strict, default: {} }),
  schedules: Type.Array(Type.Object({
    name: Type.String({ minLength: 1, description: 'a schedule name' }),
    days: Type.Union([Type.Literal('business'), Type.Literal('all'), Type.Array(Type.Integer({ minimum: 0, maximum: 6 }))], { description: 'business, all, or a list of weekdays 0-6 (0 = Sunday)' }),
    hours: Type.Array(Type.String({ pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$', description: 'a time range HH:MM-HH:MM' }), { default: [] })
  }, Strict), {
    default: [
      { name: 'business-hours', days: 'business', hours: ['08:30-17:45'] },
      { name: 'kiosk-hours', days: 'business', hours: ['08:30-17:15'] }
    ],
    description: 'a list of { name, days, hours }'
  }),
  smtp: Type.Object({
    host: Type.String({ default: '127.0.0.1', description: 'an SMTP server host' }),
    port: Type.Integer({ default: 25, minimum: 1, maximum: 65535, description: 'a TCP port' }),
    secure: Type.Boolean({ default: false, description: 'true for TLS from the start (465), false for plain or STARTTLS' }),
    requireTLS: Type.Boolean({ default: false, description: 'true to insist on STARTTLS' }),
    user: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    from: Type.String({ default: 'kanshi@localhost', description: 'a sender address' }),
    timeout: Type.Union([Type.String(), Type.Number()], { default: '10s', description: 'a duration such as "10s"' })
  }, { ...Strict, default: {} }),
  receivers: Type.Array(Type.Object({
    name: Type.String({ minLength: 1, description: 'a receiver name' }),
    email: Type.Array(Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', description: 'an e-mail address' }), { minItems: 1, description: 'a list of e-mail addresses' }),
    locale: Type.Union([Type.Literal('ja'), Type.Literal('en')], { default: 'ja', description: 'ja or en' })
  }, Strict), { default: [] }),
  routes: Type.Array(Type.Object({
    match: Type.Optional(Matchers),
    receiver: Type.String({ description: 'the name of a receiver' })
  }, Strict), { default: [], description: 'a list of { match, receiver }; the first match wins' }),
  groupWait: Type.Union([Type.String(), Type.Number()], { default: '30s', description: 'a duration such as "30s"' }),
  groupInterval: Type.Union([Type.String(), Type.Number()], { default: '5m', description: 'a duration such as "5m"' }),
  repeatInterval: Type.Union([Type.String(), Type.Number()], { default: '4h', description: 'a duration such as "4h"' }),
  escalation: Type.Optional(Type.Object({
    after: Type.Union([Type.String(), Type.Number()], { description: 'a duration such as "15m"' }),
    receiver: Type.String({ description: 'the name of a receiver' })
  }, Strict)),
  deadman: Type.Optional(Type.Object({
    interval: Type.Union([Type.String(), Type.Number()], { description: 'a duration such as "24h"' }),
    receiver: Type.String({ description: 'the name of a receiver' })
  }, Strict)),
  publicUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'the collector URL as on-call engineers reach it' })),
  grafanaUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'the Grafana base URL' })),
  ackLinkTtl: Type.Union([Type.String(), Type.Number()], { default: '7d', description: 'a duration such as "7d"' }),
  maintenance: Type.Array(Type.Object({
    name: Type.String({ minLength: 1, description: 'a name' }),
    match: Matchers,
    start: Type.String({ description: 'an ISO 8601 time such as 2026-12-01T22:00:00+09:00' }),
    end: Type.String({ description: 'an ISO 8601 time' }),
    days: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { description: 'weekdays 0-6 for a recurring window' })),
    hours: Type.Optional(Type.String({ pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$', description: 'a time range HH:MM-HH:MM for a recurring window' }))
  }, Strict), { default: [] })
}, Strict)

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
  api: ApiSchema
}, Strict)

/** Raw is the decoded file, before paths, secrets and the checks across sections. */
type Raw = StaticDecode<typeof CollectorConfigSchema>

/** CollectorConfig is the decoded file with paths resolved beside it, secrets applied and sections resolved against each other. */
export type CollectorConfig = Omit<Raw, 'influx' | 'alerting' | 'report'> & {
  file: string
  influx: InfluxConfig
  alerting: AlertingConfig | undefined
  /** kanshi-report: targets, service hours, thresholds (collector/report/config.ts) */
  report: ReportConfig
}

export interface AlertingConfig {
  rulesDir: string
  timezone: string
  calendar: NonNullable<Raw['alerting']>['calendar']
  schedules: NonNullable<Raw['alerting']>['schedules']
  smtp: Omit<NonNullable<Raw['alerting']>['smtp'], 'timeout'> & { timeoutMs: number }
  receivers: NonNullable<Raw['alerting']>['receivers']
  routes: Array<{ match: Record<string, string>, receiver: string }>
  groupWaitMs: number
  groupIntervalMs: number
  repeatIntervalMs: number
  escalation: { afterMs: number, receiver: string } | undefined
  deadman: { intervalMs: number, receiver: string } | undefined
  publicUrl: string | undefined
  grafanaUrl: string | undefined
  ackLinkTtlMs: number
  maintenance: NonNullable<Raw['alerting']>['maintenance']
}

/** loadCollectorConfig reads, checks and freezes a collector config; it throws ConfigError. */
export function loadCollectorConfig (file: string, env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  return checkCollectorConfig(file, readYamlFile(file), env)
}

export function checkCollectorConfig (file: string, raw: unknown, env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  const c = decodeConfig(file, CollectorConfigSchema, raw)
  const path = relativeTo(file)
  const dataDir = path(c.dataDir)
  const influx = resolveInflux(file, c.influx, { dataDir, path, env })
  // Opening hours name a schedule; with no alerting section the default schedules apply.
  const defaultSchedules = AlertingSchema.properties.schedules.default as ScheduleLike[]
  const schedules = c.alerting?.schedules ?? defaultSchedules
  checkAgents(file, c.agents, schedules.map(x => x.name))
  const listen = resolveListen(file, c.listen, path)
  const alerting = c.alerting === undefined ? undefined : checkAlerting(file, c.alerting, path, env)
  const timezone = c.alerting?.timezone ?? (AlertingSchema.properties.timezone.default as string)
  const report = checkReport(file, c.report, { schedules, defaultSchedules, timezone, agents: c.agents })
  return deepFreeze({ ...c, file, listen, dataDir, influx, alerting, report })
}

function checkAlerting (file: string, a: NonNullable<Raw['alerting']>, path: (p: string) => string, env: NodeJS.ProcessEnv): AlertingConfig {
  if (!isValidTimeZone(a.timezone)) throw new ConfigError(file, 'alerting.timezone', `expected an IANA timezone such as Asia/Tokyo, got ${JSON.stringify(a.timezone)}`)
  const receivers = new Set(a.receivers.map(r => r.name))
  a.routes.forEach((r, i) => {
    if (!receivers.has(r.receiver)) throw new ConfigError(file, `alerting.routes.${i}.receiver`, `expected one of the receivers (${[...receivers].join(', ') || 'none configured'}), got ${JSON.stringify(r.receiver)}`)
  })
  if (a.deadman !== undefined && !receivers.has(a.deadman.receiver)) {
    throw new ConfigError(file, 'alerting.deadman.receiver', `expected one of the receivers (${[...receivers].join(', ')}), got ${JSON.stringify(a.deadman.receiver)}`)
  }
  if (a.escalation !== undefined && !receivers.has(a.escalation.receiver)) {
    throw new ConfigError(file, 'alerting.escalation.receiver', `expected one of the receivers (${[...receivers].join(', ')}), got ${JSON.stringify(a.escalation.receiver)}`)
  }
  a.schedules.forEach((s, i) => s.hours.forEach((h, j) => {
    if (parseHours(h) === undefined) throw new ConfigError(file, `alerting.schedules.${i}.hours.${j}`, `expected HH:MM-HH:MM with the start before the end, got ${JSON.stringify(h)}`)
  }))
  a.maintenance.forEach((m, i) => {
    for (const k of ['start', 'end'] as const) {
      if (Number.isNaN(Date.parse(m[k]))) throw new ConfigError(file, `alerting.maintenance.${i}.${k}`, `expected an ISO 8601 time such as 2026-12-01T22:00:00+09:00, got ${JSON.stringify(m[k])}`)
    }
  })
  const { timeout, ...smtp } = a.smtp
  if (env['KANSHI_SMTP_PASSWORD'] !== undefined) smtp.password = env['KANSHI_SMTP_PASSWORD']
  return {
    rulesDir: path(a.rulesDir),
    timezone: a.timezone,
    calendar: a.calendar,
    schedules: a.schedules,
    smtp: { ...smtp, timeoutMs: durationAt(file, 'alerting.smtp.timeout', timeout, 100) },
    receivers: a.receivers,
    routes: a.routes.map(r => ({ match: r.match ?? {}, receiver: r.receiver })),
    groupWaitMs: durationAt(file, 'alerting.groupWait', a.groupWait),
    groupIntervalMs: durationAt(file, 'alerting.groupInterval', a.groupInterval),
    repeatIntervalMs: durationAt(file, 'alerting.repeatInterval', a.repeatInterval, 1000),
    escalation: a.escalation === undefined ? undefined : { afterMs: durationAt(file, 'alerting.escalation.after', a.escalation.after), receiver: a.escalation.receiver },
    deadman: a.deadman === undefined ? undefined : { intervalMs: durationAt(file, 'alerting.deadman.interval', a.deadman.interval, 60_000), receiver: a.deadman.receiver },
    publicUrl: a.publicUrl,
    grafanaUrl: a.grafanaUrl,
    ackLinkTtlMs: durationAt(file, 'alerting.ackLinkTtl', a.ackLinkTtl, 60_000),
    maintenance: a.maintenance
  }
}
