// influx: where the storage writer sends points (InfluxDB 1.x or 2.x, or an embedded influxd),
// how it batches them, and the retention of raw data and rollups.

import { join } from 'node:path'
import { Type, type StaticDecode } from '@sinclair/typebox'
import { ConfigError, DurationMs, Strict } from '../../common/config.js'

export const InfluxSchema = Type.Object({
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
  flushInterval: DurationMs({ default: '1s', min: 10 }),
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
    // Unset: <dataDir>/../influxdb (resolveInflux fills it in).
    dataDir: Type.Optional(Type.String({ description: 'a directory path' }))
  }, { ...Strict, default: {} })
}, { ...Strict, default: {} })

/** InfluxConfig is the decoded section; its embedded data directory is always resolved. */
export type InfluxConfig = StaticDecode<typeof InfluxSchema> & { embedded: { dataDir: string } }

/**
 * resolveInflux takes the secrets from KANSHI_INFLUX_TOKEN and KANSHI_INFLUX_PASSWORD when set,
 * checks what version 2 needs, and places the embedded data beside dataDir; it throws ConfigError.
 */
export function resolveInflux (file: string, i: StaticDecode<typeof InfluxSchema>, o: { dataDir: string, path: (p: string) => string, env: NodeJS.ProcessEnv }): InfluxConfig {
  const token = o.env['KANSHI_INFLUX_TOKEN'] ?? i.token
  const password = o.env['KANSHI_INFLUX_PASSWORD'] ?? i.password
  const r = { ...i, token, password, embedded: { ...i.embedded, dataDir: o.path(i.embedded.dataDir ?? join(o.dataDir, '..', 'influxdb')) } }
  if (r.version === 2 && r.url !== undefined) {
    for (const k of ['token', 'org', 'bucket'] as const) {
      if (r[k] === undefined || r[k] === '') {
        throw new ConfigError(file, `influx.${k}`, `expected a non-empty string when influx.version is 2${k === 'token' ? ' (or KANSHI_INFLUX_TOKEN)' : ''}, got missing`)
      }
    }
  }
  return r
}
