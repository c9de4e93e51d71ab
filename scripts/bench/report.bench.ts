// The monthly report for a fleet: H hosts × one month of 5-minute rollups
// (cpu, mem, disk, net, host_up, an http service, a nightly job; host_up,
// service and job for the month before, which the summary compares), generated
// into a private influxd (kanshi_5m), then kanshi-report timed end to end
// without the PDF (median of R runs) and once with the PDF when Chromium is
// there. Reference, same run: one server-side pass over every series of the
// month (mean per host of each measurement's main field), the least any
// report of this data has to read.
//   node dist/scripts/bench/report.bench.js [hosts] [days]     (default 200 hosts, the whole of October 2026)
//   node dist/scripts/bench/report.bench.js --smoke            (10 hosts, 3 days: a few seconds, for CI)

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startInfluxd } from '../../collector/storage/influxd-process.js'
import { checkCollectorConfig } from '../../collector/config.js'
import { makeMonth, previousMonth } from '../../collector/report/period.js'
import { runReport } from '../../collector/report/report.js'
import { findChromium } from '../../collector/report/pdf.js'
import { VERSION } from '../../protocol/version.js'

const smoke = process.argv.includes('--smoke')
const args = process.argv.slice(2).filter(a => !a.startsWith('--'))
const hosts = smoke ? 10 : Number(args[0] ?? 200)
const month = makeMonth(2026, 10, 'Asia/Tokyo')
const prev = previousMonth(month)
const days = smoke ? 3 : Math.min(31, Number(args[1] ?? 31))
const runs = smoke ? 1 : 3
const SLOT = 300_000
const dir = mkdtempSync(join(tmpdir(), 'kanshi-report-bench-'))
const influxd = await startInfluxd({ dataDir: join(dir, 'influxd') })

const q = async (s: string): Promise<void> => {
  const res = await fetch(`${influxd.url}/query`, { method: 'POST', body: new URLSearchParams({ db: 'kanshi', q: s, epoch: 'ms' }) })
  const body = await res.json() as { results?: Array<{ error?: string }> }
  if (body.results?.[0]?.error !== undefined) throw new Error(body.results[0].error)
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const r4 = (f: string, v: number, n = 30): string => `${f}_mean=${v},${f}_max=${v + 5},${f}_min=${Math.max(0, v - 5)},${f}_count=${n}`

/** prevDay writes one host-day of the month before: only what its summary column reads (host_up, service, job). */
function prevDay (h: number, d: number): string[] {
  const tags = `host=host${String(h).padStart(3, '0')},role=server,site=s${h % 5}`
  const start = prev.start + d * 86_400_000
  const L: string[] = []
  for (let b = 0; b < 288; b++) {
    L.push(`host_up,${tags} up_mean=1,up_max=1,up_min=1,up_count=30 ${start + b * SLOT}`)
    L.push(`service,${tags},service=portal,check=http up_mean=1,up_max=1,up_min=1,up_count=10,${r4('response_ms', 150 + (b % 40), 10)} ${start + b * SLOT}`)
  }
  L.push(`service,${tags},service=nightly,check=job up_mean=1,up_max=1,up_min=1,up_count=1,exit_code_mean=0,exit_code_max=0,exit_code_min=0,exit_code_count=1,on_time_mean=1,on_time_max=1,on_time_min=1,on_time_count=1 ${start + 3_600_000}`)
  return L
}

/** hostDay writes one host-day of rollups: 288 slots × 6 series, and a job run. */
function hostDay (h: number, d: number): string[] {
  const id = `host${String(h).padStart(3, '0')}`
  const tags = `host=${id},role=server,site=s${h % 5}`
  const L: string[] = []
  for (let b = 0; b < 288; b++) {
    const ts = month.start + d * 86_400_000 + b * SLOT
    // every 20th host is down 10:00-11:00 local (slots 120-131 after local midnight) on the 3rd day
    const down = h % 20 === 0 && d === 2 && b >= 120 && b < 132 ? 1 : 0
    L.push(`host_up,${tags} ${r4('up', 1 - down).replace(/up_max=[\d.]+/, `up_max=${1 - down}`).replace(/up_min=[\d.]+/, `up_min=${1 - down}`)} ${ts}`)
    if (down === 1) continue
    const cpu = 10 + ((h * 7 + b) % 70)
    L.push(`cpu,${tags} ${r4('usage_percent', cpu)} ${ts}`)
    L.push(`mem,${tags} ${r4('used_percent', 40 + (h % 50))} ${ts}`)
    L.push(`disk,${tags},mount=/,fstype=ext4 ${r4('used_percent', 30 + (h % 40) + (d * 288 + b) * (h % 7) / 10_000)},${r4('total_bytes', 1e11)} ${ts}`)
    L.push(`net,${tags},iface=eth0 ${r4('rx_bytes_per_sec', 1000 * (1 + h % 9))},${r4('tx_bytes_per_sec', 400 * (1 + h % 9))} ${ts}`)
    L.push(`service,${tags},service=portal,check=http ${r4('up', 1, 10).replace(/up_max=[\d.]+/, 'up_max=1').replace(/up_min=[\d.]+/, 'up_min=1')},${r4('response_ms', 150 + (b % 40), 10)} ${ts}`)
  }
  L.push(`service,${tags},service=nightly,check=job up_mean=1,up_max=1,up_min=1,up_count=1,exit_code_mean=0,exit_code_max=0,exit_code_min=0,exit_code_count=1,on_time_mean=1,on_time_max=1,on_time_min=1,on_time_count=1 ${month.start + d * 86_400_000 + 3_600_000}`)
  return L
}

try {
  await q('CREATE DATABASE kanshi')
  await q('CREATE RETENTION POLICY kanshi_raw ON kanshi DURATION INF REPLICATION 1 DEFAULT')
  await q('CREATE RETENTION POLICY kanshi_5m ON kanshi DURATION INF REPLICATION 1')
  const t0 = Date.now()
  let points = 0
  const jobs: Array<() => string[]> = []
  for (let h = 0; h < hosts; h++) {
    for (let d = 0; d < days; d++) jobs.push(() => hostDay(h, d))
    for (let d = 0; d < Math.min(days, prev.days.length); d++) jobs.push(() => prevDay(h, d))
  }
  await Promise.all(Array.from({ length: 3 }, async (_, w) => {
    for (let j = w; j < jobs.length; j += 3) {
      const lines = jobs[j]!()
      const res = await fetch(`${influxd.url}/write?db=kanshi&rp=kanshi_5m&precision=ms`, { method: 'POST', body: lines.join('\n') })
      await res.arrayBuffer()
      if (res.status !== 204) throw new Error(`write ${res.status}`)
      points += lines.length
    }
  }))
  const loadS = (Date.now() - t0) / 1000

  const config = checkCollectorConfig(join(dir, 'collector.yaml'), { influx: { url: influxd.url }, dataDir: join(dir, 'collector') })
  let sections = ''
  const report = async (pdf: boolean): Promise<{ ms: number, queryMs: number, statements: number }> => {
    const a = performance.now()
    const r = await runReport({ config, month, outDir: join(dir, 'out'), lang: 'ja', pdf, now: Date.now() })
    sections += `  sections (ms, concurrent): ${JSON.stringify(r.cur.timings)}\n`
    return { ms: performance.now() - a, queryMs: r.queryMs, statements: r.statements }
  }
  const times: number[] = []
  const queryTimes: number[] = []
  let statements = 0
  for (let i = 0; i < runs; i++) { const r = await report(false); times.push(r.ms); queryTimes.push(r.queryMs); statements = r.statements }
  const refs: number[] = []
  const range = `time >= ${month.start}ms AND time < ${month.end}ms`
  for (let i = 0; i < runs; i++) {
    const a = performance.now()
    for (const [m, f] of [['cpu', 'usage_percent'], ['mem', 'used_percent'], ['disk', 'used_percent'], ['net', 'rx_bytes_per_sec'], ['host_up', 'up'], ['service', 'up']]) {
      await q(`SELECT mean("${f}_mean") FROM "kanshi_5m"."${m}" WHERE ${range} GROUP BY "host"`)
    }
    refs.push(performance.now() - a)
  }
  const chromium = findChromium()
  const withPdf = chromium !== undefined ? await report(true) : undefined
  const ms = median(times)
  const ref = median(refs)
  process.stdout.write(`report: ${hosts} hosts × ${days} days of 5-minute rollups (and the month before for the summary) = ${points} points (loaded in ${loadS.toFixed(0)} s); kanshi ${VERSION}, node ${process.version}\n` +
    '| measure | median ms |\n|---|---|\n' +
    `| kanshi-report, no PDF (runs: ${times.map(x => Math.round(x)).join(', ')}) | ${Math.round(ms)} |\n` +
    `| of which InfluxDB queries, both months (${statements} statements) | ${Math.round(median(queryTimes))} |\n` +
    `| with the PDF (Chromium), one run | ${withPdf === undefined ? 'no Chromium' : Math.round(withPdf.ms)} |\n` +
    `| reference: one pass over the month, mean per host of 6 measurements | ${Math.round(ref)} |\n` +
    sections +
    `ratio report / reference pass: ${(ms / Math.max(1, ref)).toFixed(1)}; target under 30 s: ${ms < 30_000 ? 'met' : 'MISSED'}\n`)
} finally {
  await influxd.stop()
  rmSync(dir, { recursive: true, force: true })
}
