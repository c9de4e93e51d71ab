// influx: where the storage writer sends points (InfluxDB 1.x or 2.x, or an embedded influxd),
// how it batches them, and the retention of raw data, rollups and log events. `influx:` is one
// map or a list of them: every target gets every point, through its own writer and WAL cursor.

import { join } from 'node:path'
import { Type, type StaticDecode } from '@sinclair/typebox'
import { ConfigError, DurationMs, Strict } from '../../common/config.js'

/** LogsBySchema: log events of matching agents kept only `keep` (kiosks: as long as their own nightly erasure allows). */
const LogsBySchema = Type.Object({
  where: Type.Object({
    role: Type.Optional(Type.String({ minLength: 1, description: 'a role such as kiosk' })),
    site: Type.Optional(Type.String({ minLength: 1, description: 'a site name' }))
  }, { ...Strict, description: 'an object with role and/or site' }),
  keep: DurationMs({ min: 3_600_000, description: 'a duration such as "1d" (at least 1h)' })
}, Strict)

export const InfluxSchema = Type.Object({
  name: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'a name of letters, digits, _ . - (it names the target\'s WAL cursor and metrics)' })),
  query: Type.Boolean({ default: false, description: 'true on the one target that reports, the console and the daily report read (default: the first)' }),
  version: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1, description: '1 (InfluxDB 1.x /write) or 2 (InfluxDB 2.x client)' }),
  url: Type.Optional(Type.String({ pattern: '^https?://', description: 'an http:// or https:// URL' })),
  db: Type.String({ default: 'kanshi', minLength: 1, description: 'a database name' }),
  rp: Type.Optional(Type.String({ description: 'a retention policy name' })),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  token: Type.Optional(Type.String()),
  org: Type.Optional(Type.String()),
  bucket: Type.Optional(Type.String()),
  timeout: DurationMs({ default: '10s', min: 100 }),
  batchLines: Type.Integer({ default: 5000, minimum: 1, maximum: 100000, description: 'a number of lines (1-100000)' }),
  backlogBatchLines: Type.Integer({ default: 20000, minimum: 1, maximum: 100000, description: 'a number of lines (1-100000)' }),
  flushInterval: DurationMs({ default: '1s', min: 10 }),
  rollups: Type.Boolean({ default: true, description: 'true or false: write 5-minute rollups as data passes' }),
  retention: Type.Object({
    manage: Type.Boolean({ default: true, description: 'true to create or alter the retention policies at start (version 1)' }),
    raw: Type.String({ default: '35d', pattern: '^(\\d+[hdw]|INF)$', description: 'an InfluxQL duration such as 35d, 5w or INF' }),
    rollup: Type.String({ default: '730d', pattern: '^(\\d+[hdw]|INF)$', description: 'an InfluxQL duration such as 730d or INF' }),
    rawPolicy: Type.String({ default: 'kanshi_raw', minLength: 1, description: 'a retention policy name' }),
    rollupPolicy: Type.String({ default: 'kanshi_5m', minLength: 1, description: 'a retention policy name' }),
    logs: Type.String({ default: '400d', pattern: '^(\\d+[hdw]|INF)$', description: 'an InfluxQL duration such as 400d or INF' }),
    logsPolicy: Type.String({ default: 'kanshi_logs', minLength: 1, description: 'a retention policy name' }),
    logsBy: Type.Array(LogsBySchema, { default: [], description: 'a list of { where: { role, site }, keep } rules' }),
    sweepInterval: DurationMs({ default: '1h', min: 1000 })
  }, { ...Strict, default: {} }),
  rollupBucket: Type.Optional(Type.String({ minLength: 1, description: 'the 2.x bucket for rollups (default: <bucket>_5m)' })),
  logBucket: Type.Optional(Type.String({ minLength: 1, description: 'the 2.x bucket for log events (default: <bucket>_logs)' })),
  lagFraction: Type.Number({ default: 0.5, minimum: 0.05, maximum: 0.95, description: 'a fraction of wal.maxBytes between 0.05 and 0.95' }),
  embedded: Type.Object({
    enabled: Type.Boolean({ default: true, description: 'true or false' }),
    port: Type.Integer({ default: 8086, minimum: 0, maximum: 65535, description: 'a TCP port' }),
    // Unset: <dataDir>/../influxdb (resolveInflux fills it in).
    dataDir: Type.Optional(Type.String({ description: 'a directory path' }))
  }, { ...Strict, default: {} })
}, { ...Strict, default: {} })

/** InfluxConfig is one decoded target; its embedded data directory, name and WAL reader are always resolved. */
export type InfluxConfig = StaticDecode<typeof InfluxSchema> & { embedded: { dataDir: string }, name: string, reader: string }

/** LogsByRule is one influx.retention.logsBy rule. */
export type LogsByRule = StaticDecode<typeof LogsBySchema>

/** InfluxListSchema checks `influx:` given as a list (each item is a whole target). */
export const InfluxListSchema = Type.Object({ influx: Type.Array(InfluxSchema, { minItems: 1, description: 'a list of InfluxDB targets' }) })

/**
 * resolveInflux takes the secrets from KANSHI_INFLUX_TOKEN and KANSHI_INFLUX_PASSWORD when set,
 * checks what version 2 needs, and places the embedded data beside dataDir; it throws ConfigError.
 */
export function resolveInflux (file: string, i: StaticDecode<typeof InfluxSchema>, o: { dataDir: string, path: (p: string) => string, env: NodeJS.ProcessEnv, key?: string }): InfluxConfig {
  const key = o.key ?? 'influx'
  const token = o.env['KANSHI_INFLUX_TOKEN'] ?? i.token
  const password = o.env['KANSHI_INFLUX_PASSWORD'] ?? i.password
  const name = i.name ?? derivedName(i)
  const r = { ...i, token, password, name, reader: 'storage', embedded: { ...i.embedded, dataDir: o.path(i.embedded.dataDir ?? join(o.dataDir, '..', 'influxdb')) } }
  if (r.version === 2 && r.url !== undefined) {
    for (const k of ['token', 'org', 'bucket'] as const) {
      if (r[k] === undefined || r[k] === '') {
        throw new ConfigError(file, `${key}.${k}`, `expected a non-empty string when influx.version is 2${k === 'token' ? ' (or KANSHI_INFLUX_TOKEN)' : ''}, got missing`)
      }
    }
  }
  const roles = new Set<string>()
  i.retention.logsBy.forEach((rule, j) => {
    if (rule.where.role === undefined && rule.where.site === undefined) throw new ConfigError(file, `${key}.retention.logsBy.${j}.where`, 'expected role and/or site, got neither')
    const k = `${rule.where.role ?? '*'}/${rule.where.site ?? '*'}`
    if (roles.has(k)) throw new ConfigError(file, `${key}.retention.logsBy.${j}.where`, `expected each role/site once, got ${k} twice`)
    roles.add(k)
  })
  return r
}

/** derivedName names an unnamed target by where it writes: host-port-db (1.x) or host-port-bucket (2.x). */
export function derivedName (i: { version: 1 | 2, url?: string | undefined, db: string, bucket?: string | undefined }): string {
  let where = 'local'
  try { if (i.url !== undefined) { const u = new URL(i.url); where = `${u.hostname}-${u.port === '' ? (u.protocol === 'https:' ? '443' : '80') : u.port}` } } catch { /* the schema checked the URL's shape */ }
  const name = `${where}-${i.version === 2 ? i.bucket ?? '' : i.db}`.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '')
  return name.slice(0, 64)
}

/**
 * resolveInfluxTargets resolves a list of targets: each needs a URL, names are unique (given or
 * derived), and each gets its own WAL reader `storage-<name>`. One unnamed target keeps the
 * historical reader `storage`, so a single-map config upgrades without replaying its WAL.
 */
export function resolveInfluxTargets (file: string, list: Array<StaticDecode<typeof InfluxSchema>>, o: { dataDir: string, path: (p: string) => string, env: NodeJS.ProcessEnv }): InfluxConfig[] {
  const many = list.length > 1
  const out = list.map((i, n) => {
    const key = many ? `influx.${n}` : 'influx'
    if (many && i.url === undefined) throw new ConfigError(file, `${key}.url`, 'expected an http:// or https:// URL on every target of a list (the embedded InfluxDB serves one target only), got missing')
    const r = resolveInflux(file, i, { ...o, key })
    return { ...r, reader: !many && i.name === undefined ? 'storage' : `storage-${r.name}` }
  })
  const seen = new Map<string, number>()
  out.forEach((t, n) => {
    const before = seen.get(t.name)
    if (before !== undefined) throw new ConfigError(file, `influx.${n}.name`, `expected a name unlike influx.${before}'s (${t.name}); give each target its own name:`)
    seen.set(t.name, n)
  })
  if (out.filter(t => t.query).length > 1) throw new ConfigError(file, `influx.${out.findIndex((t, n) => t.query && n > out.findIndex(x => x.query))}.query`, 'expected query: true on one target at most, got a second')
  return out
}

/** queryTarget is the target reports, the console and the daily report read: the one with query: true, else the first. */
export function queryTarget (targets: readonly InfluxConfig[]): InfluxConfig {
  return targets.find(t => t.query) ?? targets[0]!
}
