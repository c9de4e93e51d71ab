// The cold-start cost of the rollup repair (docs/scaling.md, "Rollups across failover"): after a
// collector restart each agent's daily bucket is repaired by one aggregate query over a day of its
// raw points, one agent at a time. A real influxd holds one day of raw data for N agents (13 series
// each at 10 s, agent-like fields); influxd is restarted (its caches empty; the OS page cache is
// not dropped), then the repairs of the daily tier run one after the other with the collector's
// own query (repairQuery), client (InfluxQL) and parser (repairPoints). Prints ms per agent and in
// total for each N, and the hourly and 5-minute repairs of one agent; the ratio is daily / hourly
// (the hourly repair: about what a daily one read from the 5-minute tier would cost).
//   node dist/scripts/bench/repair-cold.bench.js [--agents 1,10,50] [--smoke]   (npm run bench -- --only repair)

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startInfluxd } from '../../collector/storage/influxd-process.js'
import { InfluxQL } from '../../collector/report/influxql.js'
import { repairQuery } from '../../collector/storage/rollup-repair.js'
import { repairPoints } from '../../collector/storage/rollup-repair-run.js'
import { DEFAULT_TIERS } from '../../collector/storage/rollup.js'

const smoke = process.argv.includes('--smoke')
const arg = process.argv.indexOf('--agents')
const counts = (arg > 0 ? process.argv[arg + 1]! : smoke ? '1,3' : '1,10,50').split(',').map(Number).sort((a, b) => a - b)
const maxAgents = counts.at(-1)!
const INTERVAL_MS = 10_000
const DAY_MS = 86_400_000
// One UTC day, the day before yesterday: inside any raw retention, and a whole daily bucket.
const DAY = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS
const STEP = smoke ? 60_000 : INTERVAL_MS

/** An agent's series: measurement, extra tags, fields (what cpu, mem, disk, diskio, net, system, agent and two checks send). */
const SHAPE: Array<[string, string, string[]]> = [
  ['cpu', 'cpu=cpu-total', ['usage_user', 'usage_system', 'usage_idle', 'usage_iowait', 'usage_percent']],
  ['mem', '', ['used_bytes', 'available_bytes', 'used_percent', 'swap_used_bytes', 'swap_percent']],
  ...['/', '/var', '/data'].map((m): [string, string, string[]] => ['disk', `mount=${m}`, ['used_bytes', 'free_bytes', 'used_percent', 'inodes_used_percent']]),
  ...['sda', 'sdb'].map((d): [string, string, string[]] => ['diskio', `device=${d}`, ['read_bytes_per_sec', 'write_bytes_per_sec', 'reads_per_sec', 'writes_per_sec', 'util_percent']]),
  ...['eth0', 'eth1'].map((i): [string, string, string[]] => ['net', `interface=${i}`, ['rx_bytes_per_sec', 'tx_bytes_per_sec', 'rx_errors', 'tx_errors']]),
  ['system', '', ['load1', 'load5', 'load15', 'uptime_s', 'procs']],
  ['agent', '', ['spool_batches', 'spool_bytes', 'rss_bytes', 'cpu_percent', 'connected']],
  ...['portal', 'db'].map((s): [string, string, string[]] => ['service', `service=${s},check=http`, ['up', 'response_ms']])
]
const pointsPerAgent = SHAPE.length * (DAY_MS / STEP)

const dir = mkdtempSync(join(tmpdir(), 'kanshi-repair-bench-'))
const influx = await startInfluxd({ dataDir: dir })
const ql = new InfluxQL({ url: influx.url, db: 'kanshi', rawRp: 'kanshi_raw', timeoutMs: 600_000 })
const target = { db: 'kanshi', rawRp: 'kanshi_raw' }
const host = (i: number): string => `web${String(i).padStart(4, '0')}`

try {
  await ql.query(['CREATE DATABASE kanshi'])
  await ql.query(['CREATE RETENTION POLICY kanshi_raw ON kanshi DURATION INF REPLICATION 1 DEFAULT'])
  // Write the day, host by host, 5,000 lines a request, two requests in flight.
  const t0 = performance.now()
  for (let a = 0; a < maxAgents; a++) {
    const lines: string[] = []
    const tags = `host=${host(a)},role=server,site=honcho`
    for (let t = DAY; t < DAY + DAY_MS; t += STEP) {
      const k = (t - DAY) / STEP
      for (const [m, extra, fields] of SHAPE) {
        const f = fields.map((name, j) => `${name}=${((k * 7 + j * 13 + a) % 1000) / 10}`).join(',')
        lines.push(`${m},${tags}${extra === '' ? '' : ',' + extra} ${f} ${t}`)
      }
    }
    const chunks: string[] = []
    for (let i = 0; i < lines.length; i += 5000) chunks.push(lines.slice(i, i + 5000).join('\n'))
    let next = 0
    await Promise.all([0, 1].map(async () => {
      while (next < chunks.length) {
        const body = chunks[next++]!
        const res = await fetch(`${influx.url}/write?db=kanshi&rp=kanshi_raw&precision=ms`, { method: 'POST', body })
        if (res.status !== 204) throw new Error(`write: HTTP ${res.status} ${await res.text()}`)
      }
    }))
  }
  const writeS = (performance.now() - t0) / 1000
  console.log(`wrote one day for ${maxAgents} agents: ${(maxAgents * pointsPerAgent).toLocaleString('en')} points (${SHAPE.length} series × ${DAY_MS / STEP} per agent) in ${writeS.toFixed(1)} s`)

  /** repair runs one (host, tier) repair as the runner does: query, then parse into rollup points. */
  const repair = async (h: string, tierNo: number): Promise<{ ms: number, points: number }> => {
    const tier = DEFAULT_TIERS[tierNo]!
    const start = Math.floor(DAY / tier.bucketMs) * tier.bucketMs
    const s = performance.now()
    const [series] = await ql.query([repairQuery(target, h, start, tier.bucketMs)])
    const pts = repairPoints(series!, tier, start)
    return { ms: performance.now() - s, points: pts.length }
  }
  const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!

  console.log('\ndaily repair after an influxd restart, one agent at a time:')
  console.log('agents | first (cold) ms | median ms | p95 ms | total s | rollup points per agent')
  for (const n of counts) {
    await influx.restart()
    const ms: number[] = []
    let points = 0
    for (let a = 0; a < n; a++) { const r = await repair(host(a), 2); ms.push(r.ms); points = r.points }
    if (points !== SHAPE.length) throw new Error(`expected ${SHAPE.length} daily rollup points per agent, got ${points}`)
    console.log(`${String(n).padStart(6)} | ${ms[0]!.toFixed(0).padStart(15)} | ${q(ms, 0.5).toFixed(0).padStart(9)} | ${q(ms, 0.95).toFixed(0).padStart(6)} | ${(ms.reduce((x, y) => x + y, 0) / 1000).toFixed(2).padStart(7)} | ${points}`)
  }

  console.log('\none agent, warm, five runs each (median ms):')
  const medians: number[] = []
  for (const tierNo of [0, 1, 2]) {
    const ms: number[] = []
    for (let i = 0; i < 5; i++) ms.push((await repair(host(0), tierNo)).ms)
    const tier = DEFAULT_TIERS[tierNo]!
    medians.push(q(ms, 0.5))
    console.log(`  ${tier.suffix === '' ? '5m' : tier.suffix.slice(1)} bucket (${(tier.bucketMs / STEP * SHAPE.length).toLocaleString('en')} raw points): ${q(ms, 0.5).toFixed(1)} ms`)
  }
  // The reference: the hourly repair, about what a daily repair read from the 5-minute tier would cost.
  console.log(`ratio daily / hourly repair, one agent: ${(medians[2]! / medians[1]!).toFixed(2)}`)
} finally {
  await influx.stop()
  rmSync(dir, { recursive: true, force: true })
}
