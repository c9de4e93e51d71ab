// A real influxd (Debian package influxdb, 1.x) per test, in a temp dir on a free port.

import type { Test } from 'tap'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { startInfluxd, findInfluxd, type InfluxdProcess } from '../../collector/storage/influxd-process.js'
import { tmpDir } from './tmp.js'

export async function withInfluxd (t: Test): Promise<InfluxdProcess> {
  if (findInfluxd() === undefined) throw new Error('influxd is not installed: apt-get install influxdb (scripts/test.sh does this as root)')
  const dir = await tmpDir(t)
  const p = await startInfluxd({ dataDir: dir })
  t.teardown(async () => await p.stop())
  return p
}

export async function query (url: string, db: string, q: string): Promise<any> {
  const res = await fetch(`${url}/query?${new URLSearchParams({ db, q, epoch: 'ms' }).toString()}`, { signal: AbortSignal.timeout(10_000) })
  const body = await res.json() as { results?: Array<{ error?: string }>, error?: string }
  if (!res.ok || body.error !== undefined || body.results?.[0]?.error !== undefined) throw new Error(`query ${q}: ${JSON.stringify(body)}`)
  return body
}

/** reportDb creates the kanshi database with the collector's policies (raw, rollups, logs), kept forever (generated data may be old). */
export async function reportDb (url: string): Promise<void> {
  await query(url, '', 'CREATE DATABASE kanshi')
  await query(url, 'kanshi', 'CREATE RETENTION POLICY kanshi_raw ON kanshi DURATION INF REPLICATION 1 DEFAULT')
  await query(url, 'kanshi', 'CREATE RETENTION POLICY kanshi_5m ON kanshi DURATION INF REPLICATION 1')
  await query(url, 'kanshi', 'CREATE RETENTION POLICY kanshi_logs ON kanshi DURATION INF REPLICATION 1')
}

/** writeLines writes line protocol (ms) to db kanshi, policy rp, 5,000 lines a request; it throws on a refusal. */
export async function writeLines (url: string, rp: string, lines: string[]): Promise<void> {
  for (let i = 0; i < lines.length; i += 5000) {
    const res = await fetch(`${url}/write?db=kanshi&rp=${rp}&precision=ms`, { method: 'POST', body: lines.slice(i, i + 5000).join('\n') })
    if (res.status !== 204) throw new Error(`write: HTTP ${res.status} ${await res.text()}`)
  }
}

/** withReportDb starts influxd with the report database, and a temp dir holding dataDir ./collector for the incident record. */
export async function withReportDb (t: Test): Promise<{ influx: InfluxdProcess, dir: string, dataDir: string }> {
  const influx = await withInfluxd(t)
  const dir = await tmpDir(t)
  const dataDir = join(dir, 'collector')
  mkdirSync(dataDir)
  await reportDb(influx.url)
  return { influx, dir, dataDir }
}
