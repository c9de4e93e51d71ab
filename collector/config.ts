// collector.yaml: one schema with every default, checked at start-up, then
// frozen. Secrets may come from KANSHI_* environment variables instead.

import { resolve, dirname, isAbsolute } from 'node:path'
import { Type, type Static } from '@sinclair/typebox'
import { ConfigError, bytesAt, checkConfig, deepFreeze, durationAt, readYamlFile } from '../protocol/config.js'

const Duration = (def: string, description = 'a duration such as "10s" or "5m"') =>
  Type.Union([Type.String(), Type.Number()], { default: def, description })
const Size = (def: string) => Type.Union([Type.String(), Type.Number()], { default: def, description: 'a size such as "256MiB" or a number of bytes' })
const Strict = { additionalProperties: false } as const

export const AgentEntrySchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s]+$', description: 'an agent id without spaces' }),
  tokenSha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'the hex SHA-256 of the agent token (64 hex digits)' }),
  role: Type.String({ default: 'server', minLength: 1, maxLength: 64, description: 'a role such as server or kiosk' }),
  site: Type.String({ default: '', maxLength: 64, description: 'a site name' }),
  labels: Type.Record(Type.String(), Type.String(), { default: {}, description: 'a map of label names to strings' })
}, Strict)

export const CollectorConfigSchema = Type.Object({
  listen: Type.Object({
    host: Type.String({ default: '127.0.0.1', description: 'a host or address to listen on' }),
    port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'a TCP port (0-65535)' }),
    tls: Type.Optional(Type.Object({
      cert: Type.String({ description: 'a PEM certificate file path' }),
      key: Type.String({ description: 'a PEM private key file path' }),
      ca: Type.Optional(Type.String({ description: 'a PEM CA file path' }))
    }, Strict))
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
  }, { ...Strict, default: {} })
}, Strict)

type Raw = Static<typeof CollectorConfigSchema>

/** CollectorConfig is the checked config with durations and sizes in numbers and paths resolved. */
export interface CollectorConfig {
  file: string
  listen: Raw['listen']
  dataDir: string
  influx: Omit<Raw['influx'], 'timeout' | 'flushInterval'> & { timeoutMs: number, flushIntervalMs: number, embeddedDataDir: string }
  agents: Raw['agents']
  wal: { maxBytes: number, segmentBytes: number }
  ingest: { maxFrameBytes: number, hostDownAfterIntervals: number, defaultIntervalMs: number, maxConnectionsPerAddress: number, maxErrorsPerMinute: number }
  log: Raw['log']
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
  if (c.listen.tls !== undefined) {
    c.listen.tls = { ...c.listen.tls, cert: path(c.listen.tls.cert), key: path(c.listen.tls.key) }
    if (c.listen.tls.ca !== undefined) c.listen.tls.ca = path(c.listen.tls.ca)
  }
  const dataDir = path(c.dataDir)
  const { timeout, flushInterval, ...rest } = influx
  return deepFreeze({
    file,
    listen: c.listen,
    dataDir,
    influx: {
      ...rest,
      timeoutMs: durationAt(file, 'influx.timeout', timeout, 100),
      flushIntervalMs: durationAt(file, 'influx.flushInterval', flushInterval, 10),
      embeddedDataDir: path(influx.embedded.dataDir ?? resolve(dataDir, '..', 'influxdb'))
    },
    agents: c.agents.map(a => ({ ...a, tokenSha256: a.tokenSha256.toLowerCase() })),
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
    log: c.log
  })
}
