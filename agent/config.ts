// agent.yaml: one schema with every default, checked at start-up, then frozen.
// The token may come from KANSHI_AGENT_TOKEN instead of the file.

import { hostname } from 'node:os'
import { resolve, dirname, isAbsolute } from 'node:path'
import { Type, type Static, type StaticDecode } from '@sinclair/typebox'
import { checkConfig, ConfigError, decodeConfig, deepFreeze, DurationMs, OneOf, readYamlFile, SizeBytes } from '../common/config.js'
import { CheckSchema, buildChecks, checkLabel } from './inputs/checks/config.js'
import type { ServiceCheckSpec } from './inputs/checks/service.js'
import { LogSchema, buildLogs, logLabel, type LogSpecs } from './inputs/logs/config.js'
import { buildRedactor, RedactSchema } from './inputs/logs/redact.js'
import type { PushPolicy } from './inputs/push/policy.js'
import { buildSnmpTraps, hideSecret, SnmpTrapsSchema, withDeviceTags } from './inputs/snmp/config.js'
import type { TrapSpec } from './inputs/snmp/traps.js'

/** The system inputs an agent.yaml may enable, in their default order. */
export const SYSTEM_INPUTS = ['cpu', 'mem', 'disk', 'diskio', 'net', 'system'] as const
export type SystemInputName = typeof SYSTEM_INPUTS[number]

const Strict = { additionalProperties: false } as const
const StringList = (description: string) => Type.Array(Type.String(), { description })
const CollectorUrl = Type.String({ pattern: '^wss?://[^\\s/]+', description: 'a ws:// or wss:// URL such as ws://collector:8080/v1/agent' })

export const AgentConfigSchema = Type.Object({
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s]+$', description: 'an agent id without spaces (default: the hostname)' })),
  collector: Type.Object({
    url: Type.Optional(CollectorUrl),
    urls: Type.Optional(Type.Array(CollectorUrl, { minItems: 1, maxItems: 16, description: 'a list of 1 to 16 ws:// or wss:// URLs, the preferred first' })),
    preferFirstAfter: DurationMs({ default: '10m', min: 0 }),
    token: Type.Optional(Type.String({ minLength: 1, description: 'the agent token (or KANSHI_AGENT_TOKEN)' })),
    ca: Type.Optional(Type.String({ description: 'a PEM CA file path for wss://' })),
    insecureSkipVerify: Type.Boolean({ default: false, description: 'true or false' }),
    backoffMin: DurationMs({ default: '1s', min: 10 }),
    backoffMax: DurationMs({ default: '60s', min: 10 }),
    pingInterval: DurationMs({ default: '30s', min: 100 }),
    maxInflight: Type.Integer({ default: 64, minimum: 1, maximum: 10000, description: 'a number of batches' })
  }, { ...Strict, description: 'a map with the collector url (and token)' }),
  interval: DurationMs({ default: '10s', min: 100 }),
  dataDir: Type.String({ default: './var/agent', description: 'a directory path' }),
  timezone: Type.String({ default: 'Asia/Tokyo', description: 'an IANA timezone for job deadlines' }),
  // the business calendar of backup checks: copy the collector's alerting.calendar here
  calendar: Type.Object({
    holidays: Type.Boolean({ default: true, description: 'true or false' }),
    yearEndClosure: Type.Boolean({ default: true, description: 'true or false' }),
    closedDays: Type.Array(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a date YYYY-MM-DD' }), { default: [] }),
    openDays: Type.Array(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a date YYYY-MM-DD' }), { default: [] })
  }, { ...Strict, default: {} }),
  role: Type.String({ default: 'server', description: 'a role reported in hello (the collector decides the stored tag)' }),
  site: Type.String({ default: '', description: 'a site name reported in hello' }),
  labels: Type.Record(Type.String(), Type.String(), { default: {}, description: 'a map of label names to strings' }),
  spool: Type.Object({
    maxBytes: SizeBytes({ default: '256MiB', min: 64 * 1024 })
  }, { ...Strict, default: {} }),
  inputs: Type.Object({
    enabled: Type.Array(OneOf(SYSTEM_INPUTS), { default: [...SYSTEM_INPUTS], description: `a list drawn from ${SYSTEM_INPUTS.join(', ')}` }),
    disk: Type.Object({
      ignoreFs: Type.Optional(StringList('a list of filesystem types')),
      includeFs: Type.Optional(StringList('a list of filesystem types')),
      ignoreMounts: Type.Optional(StringList('a list of mount paths or globs'))
    }, { ...Strict, default: {} }),
    net: Type.Object({
      ignoreInterfaces: Type.Optional(StringList('a list of interface names or globs'))
    }, { ...Strict, default: {} }),
    inventory: Type.Object({
      enabled: Type.Boolean({ default: true, description: 'true or false' }),
      interval: DurationMs({ default: '6h', min: 60_000 })
    }, { ...Strict, default: {} })
  }, { ...Strict, default: {} }),
  checks: Type.Array(CheckSchema, { default: [], description: 'a list of service checks' }),
  logs: Type.Array(LogSchema, { default: [], description: 'a list of log sources' }),
  logPollInterval: DurationMs({ default: '1s', min: 50 }),
  snmpTraps: Type.Optional(SnmpTrapsSchema),
  push: Type.Object({
    enabled: Type.Boolean({ default: false, description: 'true or false' }),
    host: Type.String({ default: '127.0.0.1', description: 'a loopback address' }),
    port: Type.Integer({ default: 8089, minimum: 0, maximum: 65535, description: 'a TCP port' }),
    allowStrings: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'a list of field names that may carry strings' }),
    allowTags: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'a list of tag keys a push client may set (host, role and site are always allowed)' }),
    allowMeasurements: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'a list of measurement names a push client may send' })),
    allowFields: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'a list of field keys a push client may send' })),
    allowEvents: Type.Boolean({ default: false, description: 'true or false (events are free text)' }),
    redact: Type.Optional(RedactSchema)
  }, { ...Strict, default: {} }),
  log: Type.Object({
    level: OneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], { default: 'info' })
  }, { ...Strict, default: {} })
}, Strict)

type Decoded = StaticDecode<typeof AgentConfigSchema>

/**
 * AgentConfig is the decoded schema (durations in ms, sizes in bytes) with the
 * id and token settled and the checks and log sources built to run.
 */
export type AgentConfig = Readonly<Omit<Decoded, 'id' | 'collector' | 'checks' | 'logs' | 'push' | 'snmpTraps'> & {
  file: string
  id: string
  /** urls: the collectors in order of preference (collector.url alone becomes a list of one) */
  collector: Omit<Decoded['collector'], 'url' | 'urls'> & { urls: string[], token: string }
  checks: ServiceCheckSpec[]
  logs: LogSpecs
  push: Omit<Decoded['push'], 'redact'> & { policy: PushPolicy }
  /** the SNMP trap receiver, a log source (undefined: none) */
  snmpTraps?: TrapSpec
}>

export function loadAgentConfig (file: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  return checkAgentConfig(file, readYamlFile(file), env)
}

export function checkAgentConfig (file: string, raw: unknown, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let checked: Static<typeof AgentConfigSchema>
  try { checked = checkConfig(file, AgentConfigSchema, raw) } catch (err) { throw hideSecret(err) }
  let c: Decoded
  try {
    c = decodeConfig(file, AgentConfigSchema, raw)
  } catch (err) {
    throw hideSecret(labelled(err, checked))
  }
  const base = dirname(resolve(file))
  const path = (p: string): string => isAbsolute(p) ? p : resolve(base, p)
  const token = env['KANSHI_AGENT_TOKEN'] ?? c.collector.token
  if (token === undefined || token === '') throw new ConfigError(file, 'collector.token', 'expected the agent token here or in KANSHI_AGENT_TOKEN, got missing')
  const { url, urls: list, ...collector } = c.collector
  const urls = collectorUrls(file, url, list)
  const { backoffMin, backoffMax } = c.collector
  if (backoffMax < backoffMin) throw new ConfigError(file, 'collector.backoffMax', `expected at least collector.backoffMin (${backoffMin}ms), got ${backoffMax}ms`)
  const { snmpTraps, ...rest } = c
  const checks = buildChecks(file, c.checks, process.platform, env, c.timezone, c.calendar)
  const traps = withDeviceTags(buildSnmpTraps(file, snmpTraps, env), checks)
  return deepFreeze({
    ...rest,
    file,
    id: c.id ?? hostname().split('.')[0]!,
    collector: { ...collector, urls, ...(c.collector.ca !== undefined ? { ca: path(c.collector.ca) } : {}), token },
    dataDir: path(c.dataDir),
    checks,
    logs: buildLogs(file, c.logs),
    push: pushSection(file, c.push),
    ...(traps !== undefined ? { snmpTraps: traps } : {})
  })
}

/** collectorUrls checks that exactly one of collector.url and collector.urls is set, each URL parseable and listed once. */
function collectorUrls (file: string, url: string | undefined, urls: string[] | undefined): string[] {
  if (url !== undefined && urls !== undefined) throw new ConfigError(file, 'collector.urls', 'expected either collector.url or collector.urls, not both')
  const list = urls ?? (url !== undefined ? [url] : undefined)
  if (list === undefined) throw new ConfigError(file, 'collector.url', 'expected a ws:// or wss:// URL (or collector.urls, a list of them), got missing')
  const key = (i: number): string => urls !== undefined ? `collector.urls.${i}` : 'collector.url'
  const seen = new Set<string>()
  list.forEach((u, i) => {
    let parsed: URL
    try { parsed = new URL(u) } catch { throw new ConfigError(file, key(i), `expected a ws:// or wss:// URL such as ws://collector:8080/v1/agent, got ${JSON.stringify(u)}`) }
    if (parsed.username !== '' || parsed.password !== '') throw new ConfigError(file, key(i), 'expected a URL without user or password (the token goes in collector.token)')
    if (seen.has(parsed.href)) throw new ConfigError(file, key(i), `expected each collector once, got ${JSON.stringify(u)} twice`)
    seen.add(parsed.href)
  })
  return list
}

/** pushSection builds what push clients may send from push: (allowStrings, allowEvents, redact). */
function pushSection (file: string, p: Decoded['push']): AgentConfig['push'] {
  const { redact: rules, ...rest } = p
  const redact = buildRedactor(file, j => `push.redact.${j}`, rules)
  const names = { ...(p.allowMeasurements !== undefined ? { allowMeasurements: p.allowMeasurements } : {}), ...(p.allowFields !== undefined ? { allowFields: p.allowFields } : {}) }
  return { ...rest, policy: { allowStrings: p.allowStrings, allowTags: p.allowTags, allowEvents: p.allowEvents, ...names, ...(redact !== undefined ? { redact } : {}) } }
}

/** labelled names a checks: or logs: entry in a decoding error, as the per-entry rules do: logs.0(/var/log/app.log).rotateWait. */
function labelled (err: unknown, c: Static<typeof AgentConfigSchema>): unknown {
  if (!(err instanceof ConfigError)) return err
  const m = /^(checks|logs)\.(\d+)\.(.*)$/.exec(err.key)
  if (m === null) return err
  const i = Number(m[2])
  const check = c.checks[i]
  const log = c.logs[i]
  const label = m[1] === 'checks' ? (check !== undefined ? checkLabel(check, i) : undefined) : (log !== undefined ? `logs.${i}(${logLabel(log)})` : undefined)
  if (label === undefined) return err
  return new ConfigError(err.file, `${label}.${m[3]!}`, err.expected)
}
