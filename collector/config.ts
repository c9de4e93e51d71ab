// collector.yaml: one schema with every default, checked at start-up, then
// frozen. Secrets may come from KANSHI_* environment variables instead.

import { resolve, dirname, isAbsolute } from 'node:path'
import { Type, type Static } from '@sinclair/typebox'
import { ConfigError, bytesAt, checkConfig, deepFreeze, durationAt, readYamlFile } from '../common/config.js'
import { AnyKey } from '../protocol/messages.js'
import { AlertingSchema, DEFAULT_SCHEDULES, checkAlerting, type AlertingConfig } from './alerting/config.js'
import { openingHours } from './calendar/opening-hours.js'
import { ReportSchema, checkReport, type ReportConfig, type ScheduleLike } from './report/config.js'

const Duration = (def: string, description = 'a duration such as "10s" or "5m"') =>
  Type.Union([Type.String(), Type.Number()], { default: def, description })
const Size = (def: string) => Type.Union([Type.String(), Type.Number()], { default: def, description: 'a size such as "256MiB" or a number of bytes' })
const Strict = { additionalProperties: false } as const

export const AgentEntrySchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s]+$', description: 'an agent id without spaces' }),
  tokenSha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'the hex SHA-256 of the agent token (64 hex digits)' }),
  // A second valid token while one is rotated: both work until the old one is removed and the collector reloaded.
  tokenSha256Next: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'the hex SHA-256 of the agent\'s next token (64 hex digits)' })),
  role: Type.String({ default: 'server', minLength: 1, maxLength: 64, description: 'a role such as server or kiosk' }),
  site: Type.String({ default: '', maxLength: 64, description: 'a site name' }),
  labels: Type.Record(AnyKey, Type.String(), { default: {}, description: 'a map of label names to strings' }),
  // Opening hours (kiosks): outside them the host may be switched off; its alerts are out of schedule.
  schedule: Type.Optional(Type.String({ minLength: 1, description: 'always, or the name of a schedule (alerting.schedules): the hours the host is expected to run' }))
}, Strict)

export const CollectorConfigSchema = Type.Object({
  listen: Type.Object({
    host: Type.String({ default: '127.0.0.1', description: 'a host or address to listen on' }),
    port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'a TCP port (0-65535)' }),
    tls: Type.Optional(Type.Object({
      cert: Type.String({ description: 'a PEM certificate file path' }),
      key: Type.String({ description: 'a PEM private key file path' }),
      ca: Type.Optional(Type.String({ description: 'a PEM CA file path' }))
    }, Strict)),
    // Slow-loris and idle sockets: a client must send its request headers, and then the whole request, within these.
    headersTimeout: Duration('10s'),
    requestTimeout: Duration('30s')
  }, { ...Strict, default: {} }),
  dataDir: Type.String({ default: './var/collector', description: 'a directory path' }),
  influx: Type.Object({
    version: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1, description: '1 (InfluxDB 1.x /write) or 2 (InfluxDB 2.x client)' }),
    url: Type.Optional(Type.String({ pattern: '^https?://', description: 'an http:// or https:// URL' })),
    db: Type.String({ default: 'kanshi', minLength: 1, description: 'a database name' }),
    rp: Type.Optional(Type.String({ description: 'a retention policy name' })),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    token: Type.Optional(Type.String()),
    org: Type.Optional(Type.String()),
    bucket: Type.Optional(Type.String()),
    timeout: Duration('10s'),
    batchLines: Type.Integer({ default: 5000, minimum: 1, maximum: 100000, description: 'a number of lines (1-100000)' }),
    flushInterval: Duration('1s'),
    rollups: Type.Boolean({ default: true, description: 'true or false: write 5-minute rollups as data passes' }),
    retention: Type.Object({
      manage: Type.Boolean({ default: true, description: 'true to create or alter the retention policies at start (version 1)' }),
      raw: Type.String({ default: '35d', pattern: '^(\\d+[hdw]|INF)$', description: 'an InfluxQL duration such as 35d, 5w or INF' }),
      rollup: Type.String({ default: '730d', pattern: '^(\\d+[hdw]|INF)$', description: 'an InfluxQL duration such as 730d or INF' }),
      rawPolicy: Type.String({ default: 'kanshi_raw', minLength: 1, description: 'a retention policy name' }),
      rollupPolicy: Type.String({ default: 'kanshi_5m', minLength: 1, description: 'a retention policy name' })
    }, { ...Strict, default: {} }),
    rollupBucket: Type.Optional(Type.String({ minLength: 1, description: 'the 2.x bucket for rollups (default: <bucket>_5m)' })),
    embedded: Type.Object({
      enabled: Type.Boolean({ default: true, description: 'true or false' }),
      port: Type.Integer({ default: 8086, minimum: 0, maximum: 65535, description: 'a TCP port' }),
      dataDir: Type.Optional(Type.String())
    }, { ...Strict, default: {} })
  }, { ...Strict, default: {} }),
  agents: Type.Array(AgentEntrySchema, { default: [], description: 'a list of { id, tokenSha256, role, site }' }),
  wal: Type.Object({
    maxBytes: Size('1GiB'),
    segmentBytes: Size('64MiB')
  }, { ...Strict, default: {} }),
  ingest: Type.Object({
    maxFrameBytes: Size('4MiB'),
    hostDownAfterIntervals: Type.Integer({ default: 3, minimum: 1, description: 'a whole number of intervals' }),
    defaultInterval: Duration('10s'),
    maxConnectionsPerAddress: Type.Integer({ default: 1000, minimum: 1, description: 'a whole number' }),
    maxErrorsPerMinute: Type.Integer({ default: 20, minimum: 1, description: 'a whole number' })
  }, { ...Strict, default: {} }),
  log: Type.Object({
    level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map(l => Type.Literal(l)), { default: 'info', description: 'one of fatal, error, warn, info, debug, trace' })
  }, { ...Strict, default: {} }),
  alerting: Type.Optional(AlertingSchema),
  report: ReportSchema,
  api: Type.Object({
    tokens: Type.Array(Type.Object({
      name: Type.String({ minLength: 1, description: 'who holds the token (shown in the audit log)' }),
      tokenSha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'the hex SHA-256 of the API token (64 hex digits)' }),
      role: Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')], { description: 'one of viewer, operator, admin' })
    }, Strict), { default: [], description: 'a list of { name, tokenSha256, role }' })
  }, { ...Strict, default: {} })
}, Strict)

type Raw = Static<typeof CollectorConfigSchema>

/** CollectorConfig is the checked config with durations and sizes in numbers and paths resolved. */
export interface CollectorConfig {
  file: string
  listen: Omit<Raw['listen'], 'headersTimeout' | 'requestTimeout'> & { headersTimeoutMs: number, requestTimeoutMs: number }
  dataDir: string
  influx: Omit<Raw['influx'], 'timeout' | 'flushInterval'> & { timeoutMs: number, flushIntervalMs: number, embeddedDataDir: string }
  agents: Raw['agents']
  wal: { maxBytes: number, segmentBytes: number }
  ingest: { maxFrameBytes: number, hostDownAfterIntervals: number, defaultIntervalMs: number, maxConnectionsPerAddress: number, maxErrorsPerMinute: number }
  log: Raw['log']
  alerting: AlertingConfig | undefined
  /** kanshi-report: targets, service hours, thresholds (collector/report/config.ts) */
  report: ReportConfig
  api: Raw['api']
}

/** loadCollectorConfig reads, checks and freezes a collector config; it throws ConfigError. */
export function loadCollectorConfig (file: string, env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  return checkCollectorConfig(file, readYamlFile(file), env)
}

export function checkCollectorConfig (file: string, raw: unknown, env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  const c = checkConfig(file, CollectorConfigSchema, raw)
  const base = dirname(resolve(file))
  const path = (p: string): string => isAbsolute(p) ? p : resolve(base, p)
  const influx = { ...c.influx }
  if (env['KANSHI_INFLUX_TOKEN'] !== undefined) influx.token = env['KANSHI_INFLUX_TOKEN']
  if (env['KANSHI_INFLUX_PASSWORD'] !== undefined) influx.password = env['KANSHI_INFLUX_PASSWORD']
  if (influx.version === 2 && influx.url !== undefined) {
    for (const k of ['token', 'org', 'bucket'] as const) {
      if (influx[k] === undefined || influx[k] === '') {
        throw new ConfigError(file, `influx.${k}`, `expected a non-empty string when influx.version is 2${k === 'token' ? ' (or KANSHI_INFLUX_TOKEN)' : ''}, got missing`)
      }
    }
  }
  const seen = new Set<string>()
  for (const [i, a] of c.agents.entries()) {
    if (seen.has(a.id)) throw new ConfigError(file, `agents.${i}.id`, `expected a unique agent id, got a second "${a.id}"`)
    seen.add(a.id)
  }
  // Opening hours name a schedule; with no alerting section the default schedules apply.
  const schedules: readonly ScheduleLike[] = c.alerting?.schedules ?? DEFAULT_SCHEDULES
  const scheduleNames = schedules.map(x => x.name)
  for (const [i, a] of c.agents.entries()) {
    if (a.schedule !== undefined && a.schedule !== 'always' && !scheduleNames.includes(a.schedule)) {
      throw new ConfigError(file, `agents.${i}.schedule`, `expected always or one of the schedules (${scheduleNames.join(', ') || 'none configured'}), got ${JSON.stringify(a.schedule)}`)
    }
  }
  // One hash, one identity: a shared token would let one agent write as the other.
  const hashes = new Map<string, string>()
  for (const [i, a] of c.agents.entries()) {
    for (const k of ['tokenSha256', 'tokenSha256Next'] as const) {
      const h = a[k]?.toLowerCase()
      if (h === undefined) continue
      const other = hashes.get(h)
      if (other !== undefined) throw new ConfigError(file, `agents.${i}.${k}`, `expected a token hash used by no other entry, got the same hash as ${other}`)
      hashes.set(h, `agents.${i}.${k}`)
    }
  }
  if (c.listen.tls !== undefined) {
    c.listen.tls = { ...c.listen.tls, cert: path(c.listen.tls.cert), key: path(c.listen.tls.key) }
    if (c.listen.tls.ca !== undefined) c.listen.tls.ca = path(c.listen.tls.ca)
  }
  const dataDir = path(c.dataDir)
  const { timeout, flushInterval, ...rest } = influx
  return deepFreeze({
    file,
    listen: listenTimeouts(file, c.listen),
    dataDir,
    influx: {
      ...rest,
      timeoutMs: durationAt(file, 'influx.timeout', timeout, 100),
      flushIntervalMs: durationAt(file, 'influx.flushInterval', flushInterval, 10),
      embeddedDataDir: path(influx.embedded.dataDir ?? resolve(dataDir, '..', 'influxdb'))
    },
    agents: c.agents.map(a => ({ ...a, tokenSha256: a.tokenSha256.toLowerCase(), ...(a.tokenSha256Next !== undefined ? { tokenSha256Next: a.tokenSha256Next.toLowerCase() } : {}) })),
    wal: {
      maxBytes: bytesAt(file, 'wal.maxBytes', c.wal.maxBytes, 1024 * 1024),
      segmentBytes: bytesAt(file, 'wal.segmentBytes', c.wal.segmentBytes, 64 * 1024)
    },
    ingest: {
      maxFrameBytes: bytesAt(file, 'ingest.maxFrameBytes', c.ingest.maxFrameBytes, 1024),
      hostDownAfterIntervals: c.ingest.hostDownAfterIntervals,
      defaultIntervalMs: durationAt(file, 'ingest.defaultInterval', c.ingest.defaultInterval, 100),
      maxConnectionsPerAddress: c.ingest.maxConnectionsPerAddress,
      maxErrorsPerMinute: c.ingest.maxErrorsPerMinute
    },
    log: c.log,
    alerting: c.alerting === undefined ? undefined : checkAlerting(file, c.alerting, path, env),
    report: withOpeningHours(checkReport(file, c.report, schedules, c.alerting?.timezone), c.agents, schedules),
    api: { tokens: c.api.tokens.map(t => ({ ...t, tokenSha256: t.tokenSha256.toLowerCase() })) }
  })
}

/**
 * withOpeningHours adds each agent's opening hours (agents[].schedule; kiosks
 * default to kiosk-hours) to the report's overrides, after the written ones:
 * a kiosk switched off after closing is not unavailable in the report either.
 */
function withOpeningHours (r: ReportConfig, agents: Raw['agents'], schedules: readonly ScheduleLike[]): ReportConfig {
  // One override per schedule (the report runs its queries once per distinct service hours).
  const bySchedule = new Map<string, string[]>()
  for (const a of agents) {
    const name = openingHours(a)
    if (name === undefined || !schedules.some(x => x.name === name)) continue
    const hosts = bySchedule.get(name)
    if (hosts === undefined) bySchedule.set(name, [a.id])
    else hosts.push(a.id)
  }
  const extra: ReportConfig['overrides'] = [...bySchedule].map(([name, hosts]) => {
    const s = schedules.find(x => x.name === name)!
    const alt = hosts.map(h => h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')
    return { match: { host: `~^(?:${alt})$` }, serviceHours: { name: s.name, days: s.days, hours: s.hours }, availability: undefined }
  })
  return extra.length === 0 ? r : { ...r, overrides: [...r.overrides, ...extra] }
}

/** listenTimeouts turns the listen durations into milliseconds; Node wants the headers bound within the request bound. */
function listenTimeouts (file: string, l: Raw['listen']): CollectorConfig['listen'] {
  const { headersTimeout, requestTimeout, ...rest } = l
  const headersTimeoutMs = durationAt(file, 'listen.headersTimeout', headersTimeout, 100)
  const requestTimeoutMs = durationAt(file, 'listen.requestTimeout', requestTimeout, 100)
  if (requestTimeoutMs < headersTimeoutMs) throw new ConfigError(file, 'listen.requestTimeout', `expected a duration at least listen.headersTimeout (${headersTimeoutMs} ms), got ${requestTimeoutMs} ms`)
  return { ...rest, headersTimeoutMs, requestTimeoutMs }
}
