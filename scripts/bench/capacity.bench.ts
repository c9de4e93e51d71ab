// The capacity review's long-range query on rollups: H hosts × D days of cpu
// rollups, 5-minute (cpu), hourly (cpu_1h) and daily (cpu_1d), generated into a
// private influxd (kanshi_5m); then the dashboard's daily mean/max query and the
// p95 query over all of it on each tier, timed (median of 3). Reference: the
// daily query over the last 1 day.
//   node dist/scripts/bench/capacity.bench.js [hosts] [days] [--smoke]

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startInfluxd } from '../../collector/storage/influxd-process.js'

const smoke = process.argv.includes('--smoke')
const hosts = smoke ? 5 : Number(process.argv[2] ?? 200)
const days = smoke ? 7 : Number(process.argv[3] ?? 365)
const dir = mkdtempSync(join(tmpdir(), 'kanshi-capacity-'))
const influxd = await startInfluxd({ dataDir: dir })
const q = async (s: string): Promise<unknown> => {
  const res = await fetch(`${influxd.url}/query`, { method: 'POST', body: new URLSearchParams({ db: 'kanshi', q: s, epoch: 'ms' }) })
  const body = await res.json() as { results?: Array<{ error?: string }> }
  if (body.results?.[0]?.error !== undefined) throw new Error(body.results[0].error)
  return body
}
try {
  await q('CREATE DATABASE kanshi')
  await q('CREATE RETENTION POLICY kanshi_5m ON kanshi DURATION 730d REPLICATION 1')
  const end = Math.floor(Date.now() / 300_000) * 300_000
  const start = end - days * 86_400_000
  const t0 = Date.now()
  let points = 0
  // one host-day per request: 288 lines
  const writers = 4
  const jobs: Array<[number, number]> = []
  for (let h = 0; h < hosts; h++) for (let d = 0; d < days; d++) jobs.push([h, d])
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    for (let j = w; j < jobs.length; j += writers) {
      const [h, d] = jobs[j]!
      const lines: string[] = []
      for (let b = 0; b < 288; b++) {
        const ts = start + d * 86_400_000 + b * 300_000
        const v = 20 + ((h * 7 + b) % 50)
        lines.push(`cpu,host=host${String(h).padStart(3, '0')},role=server,site=s${h % 5} usage_percent_mean=${v},usage_percent_max=${v + 10} ${ts}`)
        if (b % 12 === 0) lines.push(`cpu_1h,host=host${String(h).padStart(3, '0')},role=server,site=s${h % 5} usage_percent_mean=${v},usage_percent_max=${v + 10} ${ts}`)
        if (b === 0) lines.push(`cpu_1d,host=host${String(h).padStart(3, '0')},role=server,site=s${h % 5} usage_percent_mean=${v},usage_percent_max=${v + 10} ${ts}`)
      }
      const res = await fetch(`${influxd.url}/write?db=kanshi&rp=kanshi_5m&precision=ms`, { method: 'POST', body: lines.join('\n') })
      await res.arrayBuffer()
      if (res.status !== 204) throw new Error(`write ${res.status}`)
      points += lines.length
    }
  }))
  const loadS = (Date.now() - t0) / 1000
  const time = async (s: string): Promise<number> => {
    const runs: number[] = []
    for (let i = 0; i < 3; i++) { const a = performance.now(); await q(s); runs.push(performance.now() - a) }
    return Math.round(runs.sort((x, y) => x - y)[1]!)
  }
  const daily = await time(`SELECT mean("usage_percent_mean"), max("usage_percent_max") FROM "kanshi_5m"."cpu" WHERE time > now() - ${days}d GROUP BY time(1d), "host"`)
  const p95 = await time(`SELECT percentile("usage_percent_mean", 95), max("usage_percent_max") FROM "kanshi_5m"."cpu" WHERE time > now() - ${days}d GROUP BY "host"`)
  const daily1h = await time(`SELECT mean("usage_percent_mean"), max("usage_percent_max") FROM "kanshi_5m"."cpu_1h" WHERE time > now() - ${days}d GROUP BY time(1d), "host"`)
  const p951h = await time(`SELECT percentile("usage_percent_mean", 95), max("usage_percent_max") FROM "kanshi_5m"."cpu_1h" WHERE time > now() - ${days}d GROUP BY "host"`)
  const daily1d = await time(`SELECT mean("usage_percent_mean"), max("usage_percent_max") FROM "kanshi_5m"."cpu_1d" WHERE time > now() - ${days}d GROUP BY time(1d), "host"`)
  const ref = await time(`SELECT mean("usage_percent_mean"), max("usage_percent_max") FROM "kanshi_5m"."cpu" WHERE time > now() - 1d GROUP BY time(1d), "host"`)
  process.stdout.write(`capacity: ${hosts} hosts × ${days} days of 5-minute cpu rollups = ${points} points (loaded in ${loadS.toFixed(0)} s)\n` +
    `| query | 5-minute tier, median ms | hourly tier, median ms | daily tier, median ms |\n|---|---|---|---|\n| daily mean/max per host, ${days} days | ${daily} | ${daily1h} | ${daily1d} |\n| p95 and max per host, ${days} days | ${p95} | ${p951h} | |\n| reference: daily mean/max per host, last 1 day | ${ref} | | |\n` +
    `ratio 5-minute / hourly tier (daily query): ${(daily / Math.max(1, daily1h)).toFixed(1)}\n` +
    `ratio hourly / daily tier (daily query): ${(daily1h / Math.max(1, daily1d)).toFixed(1)}\n`)
} finally {
  await influxd.stop()
  rmSync(dir, { recursive: true, force: true })
}
