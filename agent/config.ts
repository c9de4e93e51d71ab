// agent.yaml: one schema with every default, checked at start-up, then frozen.
// The token may come from KANSHI_AGENT_TOKEN instead of the file.

import { hostname } from 'node:os'
import { resolve, dirname, isAbsolute } from 'node:path'
import { Type, type Static } from '@sinclair/typebox'
import { ConfigError, bytesAt, checkConfig, deepFreeze, durationAt, readYamlFile } from '../common/config.js'
import { CheckSchema, buildChecks } from './checks-config.js'
import type { ServiceCheckSpec } from './inputs/service.js'
import { LogSchema, buildLogs, type LogSpecs } from './logs-config.js'

const Duration = (def: string) => Type.Union([Type.String(), Type.Number()], { default: def, description: 'a duration such as "10s" or "1m"' })
const Strict = { additionalProperties: false } as const
const StringList = (description: string) => Type.Array(Type.String(), { description })

export const AgentConfigSchema = Type.Object({
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s]+$', description: 'an agent id without spaces (default: the hostname)' })),
  collector: Type.Object({
    url: Type.String({ pattern: '^wss?://', description: 'a ws:// or wss:// URL such as ws://collector:8080/v1/agent' }),
    token: Type.Optional(Type.String({ minLength: 1, description: 'the agent token (or KANSHI_AGENT_TOKEN)' })),
    ca: Type.Optional(Type.String({ description: 'a PEM CA file path for wss://' })),
    insecureSkipVerify: Type.Boolean({ default: false, description: 'true or false' }),
    backoffMin: Duration('1s'),
    backoffMax: Duration('60s'),
    pingInterval: Duration('30s'),
    maxInflight: Type.Integer({ default: 64, minimum: 1, maximum: 10000, description: 'a number of batches' })
  }, { ...Strict, description: 'a map with the collector url (and token)' }),
  interval: Duration('10s'),
  dataDir: Type.String({ default: './var/agent', description: 'a directory path' }),
  timezone: Type.String({ default: 'Asia/Tokyo', description: 'an IANA timezone for job deadlines' }),
  role: Type.String({ default: 'server', description: 'a role reported in hello (the collector decides the stored tag)' }),
  site: Type.String({ default: '', description: 'a site name reported in hello' }),
  labels: Type.Record(Type.String(), Type.String(), { default: {}, description: 'a map of label names to strings' }),
  spool: Type.Object({
    maxBytes: Type.Union([Type.String(), Type.Number()], { default: '256MiB', description: 'a size such as "256MiB"' })
  }, { ...Strict, default: {} }),
  inputs: Type.Object({
    enabled: Type.Array(Type.Union(['cpu', 'mem', 'disk', 'diskio', 'net', 'system'].map(n => Type.Literal(n)), { description: 'one of cpu, mem, disk, diskio, net, system' }), { default: ['cpu', 'mem', 'disk', 'diskio', 'net', 'system'], description: 'a list drawn from cpu, mem, disk, diskio, net, system' }),
    disk: Type.Object({
      ignoreFs: Type.Optional(StringList('a list of filesystem types')),
      includeFs: Type.Optional(StringList('a list of filesystem types')),
      ignoreMounts: Type.Optional(StringList('a list of mount paths or globs'))
    }, { ...Strict, default: {} }),
    net: Type.Object({
      ignoreInterfaces: Type.Optional(StringList('a list of interface names or globs'))
    }, { ...Strict, default: {} })
  }, { ...Strict, default: {} }),
  checks: Type.Array(CheckSchema, { default: [], description: 'a list of service checks' }),
  logs: Type.Array(LogSchema, { default: [], description: 'a list of log sources' }),
  logPollInterval: Duration('1s'),
  push: Type.Object({
    enabled: Type.Boolean({ default: false, description: 'true or false' }),
    host: Type.String({ default: '127.0.0.1', description: 'a loopback address' }),
    port: Type.Integer({ default: 8089, minimum: 0, maximum: 65535, description: 'a TCP port' })
  }, { ...Strict, default: {} }),
  log: Type.Object({
    level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map(l => Type.Literal(l)), { default: 'info', description: 'one of fatal, error, warn, info, debug, trace' })
  }, { ...Strict, default: {} })
}, Strict)

type Raw = Static<typeof AgentConfigSchema>

export interface AgentConfig {
  file: string
  id: string
  collector: Omit<Raw['collector'], 'backoffMin' | 'backoffMax' | 'pingInterval' | 'token'> & { token: string, backoffMinMs: number, backoffMaxMs: number, pingIntervalMs: number }
  intervalMs: number
  dataDir: string
  timezone: string
  role: string
  site: string
  labels: Record<string, string>
  spool: { maxBytes: number }
  inputs: Raw['inputs']
  checks: ServiceCheckSpec[]
  logs: LogSpecs
  logPollIntervalMs: number
  push: Raw['push']
  log: Raw['log']
}

export function loadAgentConfig (file: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  return checkAgentConfig(file, readYamlFile(file), env)
}

export function checkAgentConfig (file: string, raw: unknown, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const c = checkConfig(file, AgentConfigSchema, raw)
  const base = dirname(resolve(file))
  const path = (p: string): string => isAbsolute(p) ? p : resolve(base, p)
  const token = env['KANSHI_AGENT_TOKEN'] ?? c.collector.token
  if (token === undefined || token === '') throw new ConfigError(file, 'collector.token', 'expected the agent token here or in KANSHI_AGENT_TOKEN, got missing')
  const { backoffMin, backoffMax, pingInterval, token: _t, ...collector } = c.collector
  const backoffMinMs = durationAt(file, 'collector.backoffMin', backoffMin, 10)
  const backoffMaxMs = durationAt(file, 'collector.backoffMax', backoffMax, 10)
  if (backoffMaxMs < backoffMinMs) throw new ConfigError(file, 'collector.backoffMax', `expected at least collector.backoffMin (${backoffMinMs}ms), got ${backoffMaxMs}ms`)
  return deepFreeze({
    file,
    id: c.id ?? hostname().split('.')[0]!,
    collector: {
      ...collector,
      ...(collector.ca !== undefined ? { ca: path(collector.ca) } : {}),
      token,
      backoffMinMs,
      backoffMaxMs,
      pingIntervalMs: durationAt(file, 'collector.pingInterval', pingInterval, 100)
    },
    intervalMs: durationAt(file, 'interval', c.interval, 100),
    dataDir: path(c.dataDir),
    timezone: c.timezone,
    role: c.role,
    site: c.site,
    labels: c.labels,
    spool: { maxBytes: bytesAt(file, 'spool.maxBytes', c.spool.maxBytes, 64 * 1024) },
    inputs: c.inputs,
    checks: buildChecks(file, c.checks),
    logs: buildLogs(file, c.logs),
    logPollIntervalMs: durationAt(file, 'logPollInterval', c.logPollInterval, 50),
    push: c.push,
    log: c.log
  })
}
