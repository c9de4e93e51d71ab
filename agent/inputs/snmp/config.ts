// agent.yaml keys of the device checks (type: ping and type: snmp) and of
// snmpTraps:, with errors that name the check and the key and never quote a
// community or a key. Secrets may come from the environment (communityEnv,
// authKeyEnv, privKeyEnv: the name of a variable), like KANSHI_AGENT_TOKEN.

import { Type, type StaticDecode } from '@sinclair/typebox'
import { ConfigError, OneOf } from '../../../common/config.js'
import { LEVELS, type Level } from '../logs/logline.js'
import { buildRedactor, RedactSchema } from '../logs/redact.js'
import type { CustomOid } from './presets.js'
import type { SnmpTarget } from './session.js'
import type { TrapSpec, TrapUser } from './traps.js'

export const AUTH_PROTOCOLS = ['sha', 'sha224', 'sha256', 'sha384', 'sha512', 'md5'] as const
export const PRIV_PROTOCOLS = ['aes', 'aes256b', 'aes256r', 'des'] as const
export const SECURITY_LEVELS = ['authPriv', 'authNoPriv', 'noAuthNoPriv'] as const
export const PRESETS = ['system', 'interfaces', 'ups'] as const
/** The keys that hold secrets: a config error about them never shows the value. */
export const SECRET_KEYS = ['community', 'communities', 'authKey', 'privKey'] as const

const Secret = (what: string) => Type.Union([Type.String({ minLength: 1 }), Type.Number()], { description: what })
const EnvName = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'the name of an environment variable' })

/** V3Keys: an SNMPv3 user, in checks and in snmpTraps.users. */
const V3Keys = {
  securityLevel: Type.Optional(OneOf(SECURITY_LEVELS)),
  authProtocol: Type.Optional(OneOf(AUTH_PROTOCOLS)),
  authKey: Type.Optional(Secret('an authentication passphrase (8 characters or more)')),
  authKeyEnv: Type.Optional(EnvName),
  privProtocol: Type.Optional(OneOf(PRIV_PROTOCOLS)),
  privKey: Type.Optional(Secret('a privacy passphrase (8 characters or more)')),
  privKeyEnv: Type.Optional(EnvName)
}

/** DeviceCheckKeys are spread into the flat CheckSchema (../checks/config.ts). */
export const DeviceCheckKeys = {
  device: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'a device name (default: the check name)' })),
  role: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'a role such as switch, ups, firewall (default: device)' })),
  site: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'a site name' })),
  parent: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'the device or host this device hangs on' })),
  count: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, description: 'a number of probes (1-20)' })),
  version: Type.Optional(Type.Union([Type.String(), Type.Number()], { description: '2c or 3' })),
  community: Type.Optional(Secret('an SNMP community')),
  communityEnv: Type.Optional(EnvName),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'an SNMPv3 user name' })),
  ...V3Keys,
  preset: Type.Optional(OneOf(PRESETS)),
  oids: Type.Optional(Type.Array(Type.Object({
    oid: Type.String({ description: 'a numeric OID such as 1.3.6.1.2.1.1.3.0' }),
    name: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$', description: 'a field name (letters, digits, _)' }),
    type: OneOf(['gauge', 'counter', 'string'], { default: 'gauge' })
  }, { additionalProperties: false }), { description: 'a list of { oid, name, type }' })),
  interfaces: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'a list of interface names or globs' })),
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'a number of retries (0-10)' }))
}

type DeviceEntry = { name: string, host?: string | undefined, port?: number | undefined, timeout: number } & { [K in keyof typeof DeviceCheckKeys]?: StaticDecode<typeof DeviceCheckKeys[K]> }

/** deviceTags are the tags of every point of a ping or snmp check: device and host = the device, role, site, parent. */
export function deviceTags (c: Pick<DeviceEntry, 'name' | 'device' | 'role' | 'site' | 'parent'>): Record<string, string> {
  const device = c.device ?? c.name
  return { device, host: device, role: c.role ?? 'device', ...(c.site !== undefined ? { site: c.site } : {}), ...(c.parent !== undefined ? { parent: c.parent } : {}) }
}

const OID = /^\.?[0-2](\.(0|[1-9]\d{0,9}))+$/
/** checkOid normalises a numeric OID (no leading dot) or throws naming the key. */
export function checkOid (file: string, key: string, oid: string): string {
  if (!OID.test(oid) || oid.split('.').some(a => Number(a) > 4294967295)) throw new ConfigError(file, key, `expected a numeric OID such as 1.3.6.1.2.1.1.3.0 (MIB names are not resolved), got ${JSON.stringify(oid)}`)
  return oid.replace(/^\./, '')
}

/** secret reads a secret from the file or from the environment variable named by keyEnv, never quoting it. */
function secret (file: string, at: (k: string) => string, env: NodeJS.ProcessEnv, v: string | number | undefined, key: string, envName: string | undefined): string | undefined {
  if (v !== undefined && envName !== undefined) throw new ConfigError(file, at(key), `expected ${key} or ${key}Env, not both`)
  if (envName === undefined) return v === undefined ? undefined : String(v)
  const e = env[envName]
  if (e === undefined || e === '') throw new ConfigError(file, at(`${key}Env`), `expected the environment variable ${envName} to hold the ${key}, got it unset or empty`)
  return e
}

/** v3User builds an SNMPv3 user; authPriv (the default) needs both keys, authNoPriv the authKey. */
export function v3User (file: string, at: (k: string) => string, env: NodeJS.ProcessEnv, name: string, c: { [K in keyof typeof V3Keys]?: StaticDecode<typeof V3Keys[K]> }): TrapUser {
  const level = c.securityLevel ?? 'authPriv'
  const authKey = secret(file, at, env, c.authKey, 'authKey', c.authKeyEnv)
  const privKey = secret(file, at, env, c.privKey, 'privKey', c.privKeyEnv)
  const user: TrapUser = { name, level }
  if (level !== 'noAuthNoPriv') {
    if (authKey === undefined) throw new ConfigError(file, at('authKey'), `expected an authKey (or authKeyEnv) for securityLevel ${level}, got missing`)
    if (authKey.length < 8) throw new ConfigError(file, at('authKey'), `expected at least 8 characters (RFC 3414), got ${authKey.length}`)
    Object.assign(user, { authProtocol: c.authProtocol ?? 'sha', authKey })
  }
  if (level === 'authPriv') {
    if (privKey === undefined) throw new ConfigError(file, at('privKey'), 'expected a privKey (or privKeyEnv) for securityLevel authPriv, got missing')
    if (privKey.length < 8) throw new ConfigError(file, at('privKey'), `expected at least 8 characters (RFC 3414), got ${privKey.length}`)
    Object.assign(user, { privProtocol: c.privProtocol ?? 'aes', privKey })
  }
  return user
}

export interface BuiltSnmp { target: SnmpTarget, preset: typeof PRESETS[number], oids: CustomOid[], interfaces: string[] }

/** buildSnmp checks an snmp check's keys: version, community or v3 user, preset, OIDs. */
export function buildSnmp (file: string, at: (k: string) => string, c: DeviceEntry, env: NodeJS.ProcessEnv): BuiltSnmp {
  if (c.host === undefined) throw new ConfigError(file, at('host'), 'expected a host (the device\'s name or address) for an snmp check, got missing')
  const version = c.version === undefined ? '2c' : String(c.version)
  if (version !== '2c' && version !== '3') throw new ConfigError(file, at('version'), `expected 2c or 3 (SNMPv1 is not supported), got ${JSON.stringify(c.version)}`)
  const retries = c.retries ?? 1
  const target: SnmpTarget = { host: c.host, port: c.port ?? 161, version, requestTimeoutMs: Math.max(100, Math.floor(c.timeout * 0.8 / (retries + 1))), retries }
  if (version === '2c') {
    if (c.user !== undefined) throw new ConfigError(file, at('user'), 'expected no user for version 2c (set version: 3 for a v3 user)')
    const community = secret(file, at, env, c.community, 'community', c.communityEnv)
    if (community === undefined) throw new ConfigError(file, at('community'), 'expected a community (or communityEnv) for SNMP v2c, got missing')
    target.community = community
  } else {
    if (c.community !== undefined || c.communityEnv !== undefined) throw new ConfigError(file, at('community'), 'expected no community for version 3 (v3 uses user, authKey and privKey)')
    if (c.user === undefined) throw new ConfigError(file, at('user'), 'expected a user for SNMP v3, got missing')
    target.user = v3User(file, at, env, c.user, c)
  }
  const names = new Set<string>()
  const oids = (c.oids ?? []).map((o, j): CustomOid => {
    if (names.has(o.name)) throw new ConfigError(file, at(`oids.${j}.name`), `expected a unique name, got "${o.name}" twice`)
    names.add(o.name)
    return { oid: checkOid(file, at(`oids.${j}.oid`), o.oid), name: o.name, type: (o.type ?? 'gauge') as CustomOid['type'] }
  })
  if (c.interfaces !== undefined && c.preset !== 'interfaces') throw new ConfigError(file, at('interfaces'), 'expected interfaces only with preset: interfaces')
  return { target, preset: c.preset ?? 'system', oids, interfaces: c.interfaces ?? [] }
}

/** refuseDeviceKeys refuses device keys on checks of other types (a community on an http check is a mistake). */
export function refuseDeviceKeys (file: string, at: (k: string) => string, c: Record<string, unknown>, type: string): void {
  const allowed: Record<string, readonly string[]> = {
    ping: ['device', 'role', 'site', 'parent', 'count'],
    snmp: Object.keys(DeviceCheckKeys).filter(k => k !== 'count')
  }
  for (const k of Object.keys(DeviceCheckKeys)) {
    if (c[k] !== undefined && !(allowed[type] ?? []).includes(k)) throw new ConfigError(file, at(k), `expected no ${k} for a ${type} check (it applies to ${Object.entries(allowed).filter(([, ks]) => ks.includes(k)).map(([t]) => t).join(' and ')} checks)`)
  }
}

/** hideSecret rewrites a config error about a secret key so that it does not quote the value. */
export function hideSecret (err: unknown): unknown {
  if (!(err instanceof ConfigError)) return err
  const last = err.key.split('.').at(-1)?.replace(/\(.*\)$/, '') ?? ''
  const inList = /\.communities\.\d+$/.test(err.key)
  if (!(SECRET_KEYS as readonly string[]).includes(last) && !inList) return err
  return new ConfigError(err.file, err.key, err.expected.replace(/, got [\s\S]*$/, ', got a value of the wrong kind (not shown: it is a secret)'))
}

export const SnmpTrapsSchema = Type.Object({
  listen: Type.String({ pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]+):\\d{1,5}$', description: 'host:port such as 0.0.0.0:162 or 127.0.0.1:9162' }),
  communities: Type.Array(Secret('an SNMP community'), { default: [], description: 'a list of v1/v2c communities accepted' }),
  communitiesEnv: Type.Optional(EnvName),
  users: Type.Array(Type.Object({ name: Type.String({ minLength: 1, maxLength: 32, description: 'an SNMPv3 user name' }), ...V3Keys }, { additionalProperties: false }), { default: [], description: 'a list of SNMPv3 users' }),
  devices: Type.Record(Type.String(), Type.String({ minLength: 1, maxLength: 128 }), { default: {}, description: 'a map of sender addresses to device names' }),
  levels: Type.Record(Type.String(), OneOf(LEVELS), { default: {}, description: 'a map of trap names or OIDs to levels' }),
  minLevel: OneOf(LEVELS, { default: 'debug' }),
  rateLimit: Type.Number({ default: 100, minimum: 0, description: 'a number of traps per second (0: no limit)' }),
  redact: Type.Optional(RedactSchema)
}, { additionalProperties: false, description: 'a map with listen (host:port)' })

/** buildSnmpTraps turns snmpTraps: into the trap source's spec (communities and users from the file or the environment). */
export function buildSnmpTraps (file: string, c: StaticDecode<typeof SnmpTrapsSchema> | undefined, env: NodeJS.ProcessEnv): TrapSpec | undefined {
  if (c === undefined) return undefined
  const at = (k: string): string => `snmpTraps.${k}`
  const i = c.listen.lastIndexOf(':')
  const host = c.listen.slice(0, i).replace(/^\[|\]$/g, '')
  const port = Number(c.listen.slice(i + 1))
  if (port < 1 || port > 65535) throw new ConfigError(file, at('listen'), `expected a UDP port 1-65535, got ${port}`)
  const communities = c.communities.map(String)
  if (c.communitiesEnv !== undefined) {
    const e = env[c.communitiesEnv]
    if (e === undefined || e === '') throw new ConfigError(file, at('communitiesEnv'), `expected the environment variable ${c.communitiesEnv} to hold communities (comma-separated), got it unset or empty`)
    communities.push(...e.split(',').map(s => s.trim()).filter(s => s !== ''))
  }
  const users = c.users.map((u, j) => v3User(file, k => at(`users.${j}(${u.name}).${k}`), env, u.name, u))
  if (communities.length + users.length === 0) throw new ConfigError(file, at('communities'), 'expected at least one community or v3 user to accept traps from, got none')
  const levels: Record<string, Level> = {}
  for (const [k, l] of Object.entries(c.levels)) levels[/^[A-Za-z][A-Za-z0-9]*$/.test(k) ? k : checkOid(file, at(`levels.${k}`), k)] = l
  const redact = buildRedactor(file, j => at(`redact.${j}`), c.redact)
  return {
    name: 'snmptrap', levels: [], defaultLevel: 'warning', minLevel: c.minLevel, include: [], exclude: [],
    rateLimit: c.rateLimit, burst: Math.max(1, Math.ceil(c.rateLimit * 10)), tags: {}, ...(redact !== undefined ? { redact } : {}),
    host, port, communities, users, devices: c.devices, trapLevels: levels
  }
}

/**
 * withDeviceTags gives the trap spec the identity of every device the agent's ping and snmp checks
 * name (a tag from the first check of a device wins, later ones fill in), so a trap from a named sender carries its role, site and parent.
 */
export function withDeviceTags (spec: TrapSpec | undefined, checks: ReadonlyArray<{ tags?: Readonly<Record<string, string>> | undefined }>): TrapSpec | undefined {
  if (spec === undefined) return undefined
  const deviceTags: Record<string, Readonly<Record<string, string>>> = {}
  for (const c of checks) {
    const d = c.tags?.['device']
    if (d !== undefined && c.tags!['host'] === d) deviceTags[d] = { ...c.tags, ...deviceTags[d] }
  }
  return { ...spec, deviceTags }
}
