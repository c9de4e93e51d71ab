// The storage back end that the influx.* config describes (InfluxDB 1.x or 2.x).

import type { CollectorConfig } from '../config.js'
import type { InfluxConfig } from '../config/influx.js'
import type { StorageBackend } from './backend.js'
import { InfluxV1 } from './influx-v1.js'
import { InfluxV2 } from './influx-v2.js'

/** makeBackend returns undefined when there is no URL (WAL-only); target: one of influxTargets (default: the query target). */
export function makeBackend (c: CollectorConfig, url: string | undefined, onNote?: (message: string) => void, target: InfluxConfig = c.influx): StorageBackend | undefined {
  if (url === undefined) return undefined
  const i = target
  if (i.version === 2) {
    return new InfluxV2({
      url, token: i.token!, org: i.org!, bucket: i.bucket!, timeoutMs: i.timeout, maxLines: i.batchLines,
      rollupBucket: i.rollupBucket ?? `${i.bucket!}_5m`, logBucket: logBucketOf(i)
    })
  }
  const r = i.retention
  return new InfluxV1({
    url, db: i.db, timeoutMs: i.timeout,
    ...(r.manage ? { retention: { raw: { name: r.rawPolicy, duration: r.raw }, rollup: { name: r.rollupPolicy, duration: r.rollup }, logs: { name: r.logsPolicy, duration: r.logs } } } : {}),
    ...(i.rp !== undefined ? { rp: i.rp } : {}),
    ...(i.username !== undefined ? { username: i.username } : {}),
    ...(i.password !== undefined ? { password: i.password } : {}),
    ...(onNote !== undefined ? { onNote } : {})
  })
}

/** logBucketOf is a 2.x target's bucket for log events: logBucket, else <bucket>_logs. */
export function logBucketOf (i: InfluxConfig): string {
  return i.logBucket ?? `${i.bucket ?? 'kanshi'}_logs`
}
