// Collector ingest, side by side in one run on this machine:
//   (a) the collector alone (null sink): protocol v1 load → WAL fsync → ack
//   (b) the collector into a real influxd: acked rate, and the rate at which InfluxDB holds the points
//   (c) the reference: the same influxd fed line protocol directly by the generator, no kanshi
// Each runs in its own processes; prints a table of points/s and ack latency and the ratios.
//   node dist/scripts/bench/ingest.bench.js [seconds] [agents] [--rounds 3] [--smoke]

import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startInfluxd, freePort } from '../../collector/storage/influxd-process.js'
import { loadavg } from './proc-stat.js'

const smoke = process.argv.includes('--smoke')
const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--rounds')
const seconds = smoke ? 2 : Number(positional[0] ?? 20)
const agents = smoke ? 4 : Number(positional[1] ?? 20)
const roundsAt = process.argv.indexOf('--rounds')
const roundsWanted = smoke ? 1 : roundsAt > 0 ? Number(process.argv[roundsAt + 1]) : 3
const here = resolve(import.meta.dirname)
const dist = resolve(here, '..', '..')

const children = new Set<ChildProcess>()
function run (file: string, args: string[]): ChildProcess {
  const c = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.add(c)
  c.on('exit', () => children.delete(c))
  return c
}

/** ready polls /healthz: on a loaded machine the collector can take seconds to listen. */
async function ready (port: number): Promise<void> {
  for (const t0 = Date.now(); Date.now() - t0 < 60_000;) {
    try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return } catch { /* not yet */ }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`collector on port ${port} did not become ready in 60 s`)
}

function output (c: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    c.stdout!.on('data', (b: Buffer) => { out += b.toString() })
    c.on('exit', code => code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${out}`)))
  })
}

async function countPoints (url: string): Promise<number> {
  const q = new URLSearchParams({ db: 'kanshi', q: 'SELECT count(v) FROM bench' })
  const r = await (await fetch(`${url}/query?${q.toString()}`)).json() as { results: Array<{ series?: Array<{ values: number[][] }> }> }
  return r.results[0]?.series?.[0]?.values[0]?.[1] ?? 0
}

interface Load { pointsPerSec: number, points: number, ackP50ms: number, ackP99ms: number, seconds: number }

async function viaCollector (dir: string, influxUrl: string | undefined): Promise<{ load: Load, storedPerSec?: number }> {
  const port = await freePort()
  const tokens = Array.from({ length: agents }, (_, i) => ({ id: `bench${i}`, token: randomBytes(16).toString('hex') }))
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify(tokens))
  const config = {
    listen: { host: '127.0.0.1', port }, dataDir: join(dir, `collector-${port}`),
    influx: influxUrl === undefined ? {} : { version: 1, url: influxUrl, db: 'kanshi' },
    log: { level: 'warn' },
    agents: tokens.map(a => ({ id: a.id, tokenSha256: createHash('sha256').update(a.token).digest('hex') }))
  }
  writeFileSync(join(dir, 'c.yaml'), JSON.stringify(config))
  const collector = influxUrl === undefined
    ? run(join(dist, 'scripts/bench/collector-null.js'), ['--config', join(dir, 'c.yaml')])
    : run(join(dist, 'collector/main.js'), ['--config', join(dir, 'c.yaml')])
  await ready(port)
  const t0 = Date.now()
  const load = JSON.parse(await output(run(join(dist, 'scripts/bench/loadgen.js'), ['--url', `ws://127.0.0.1:${port}/v1/agent`, '--tokens', join(dir, 'tokens.json'), '--seconds', String(seconds)]))) as Load
  let storedPerSec: number | undefined
  if (influxUrl !== undefined) {
    // Stored rate: when did InfluxDB hold every acked point?
    while ((await countPoints(influxUrl)) < load.points) await new Promise(resolve => setTimeout(resolve, 200))
    storedPerSec = Math.round(load.points / ((Date.now() - t0) / 1000))
  }
  collector.kill('SIGTERM')
  await new Promise(resolve => collector.on('exit', resolve))
  return storedPerSec === undefined ? { load } : { load, storedPerSec }
}

async function direct (url: string): Promise<Load> {
  return JSON.parse(await output(run(join(dist, 'scripts/bench/loadgen.js'), ['--influx', url, '--writers', String(Math.min(agents, 8)), '--seconds', String(seconds)]))) as Load
}

const dir = mkdtempSync(join(tmpdir(), 'kanshi-bench-'))
const influxds: Array<{ stop(): Promise<void> }> = []
const median = (xs: number[]): number => { const s = [...xs].sort((x, y) => x - y); return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2 }
try {
  // Rounds interleave (a), (c), (b): on a shared machine the load drifts by the minute,
  // and a ratio of neighbouring runs holds better than one of runs minutes apart.
  const rounds: Array<{ nul: Load, ref: Load, kan: Load, stored: number }> = []
  for (let r = 0; r < roundsWanted; r++) {
    const nul = await viaCollector(dir, undefined)
    const inf1 = await startInfluxd({ dataDir: join(dir, `influx-ref-${r}`) })
    influxds.push(inf1)
    const ref = await direct(inf1.url)
    await inf1.stop()
    const inf2 = await startInfluxd({ dataDir: join(dir, `influx-kanshi-${r}`) })
    influxds.push(inf2)
    await fetch(`${inf2.url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'CREATE DATABASE kanshi' }) })
    const kan = await viaCollector(dir, inf2.url)
    await inf2.stop()
    rounds.push({ nul: nul.load, ref, kan: kan.load, stored: kan.storedPerSec! })
  }
  const m = (f: (x: typeof rounds[number]) => number): number => +median(rounds.map(f)).toFixed(2)
  const rows = [
    `| run | points/s${rounds.length > 1 ? ' (median)' : ''} | ack p50 ms | ack p99 ms | per round |`,
    '|---|---|---|---|---|',
    `| (a) collector, null sink | ${m(x => x.nul.pointsPerSec)} | ${m(x => x.nul.ackP50ms)} | ${m(x => x.nul.ackP99ms)} | ${rounds.map(x => x.nul.pointsPerSec).join(', ')} |`,
    `| (b) collector → influxd (acked) | ${m(x => x.kan.pointsPerSec)} | ${m(x => x.kan.ackP50ms)} | ${m(x => x.kan.ackP99ms)} | ${rounds.map(x => x.kan.pointsPerSec).join(', ')} |`,
    `| (b) collector → influxd (stored) | ${m(x => x.stored)} | | | ${rounds.map(x => x.stored).join(', ')} |`,
    `| (c) reference: direct /write | ${m(x => x.ref.pointsPerSec)} | ${m(x => x.ref.ackP50ms)} | ${m(x => x.ref.ackP99ms)} | ${rounds.map(x => x.ref.pointsPerSec).join(', ')} |`
  ]
  process.stdout.write(`ingest: ${agents} agents, 100 points per batch, ${seconds} s per run, ${rounds.length} round(s) of (a), (c), (b); load average ${loadavg()}\n${rows.join('\n')}\n`)
  process.stdout.write(`per round (b stored)/(c): ${rounds.map(x => (x.stored / x.ref.pointsPerSec).toFixed(2)).join(', ')}; (a)/(c): ${rounds.map(x => (x.nul.pointsPerSec / x.ref.pointsPerSec).toFixed(2)).join(', ')}\n`)
  process.stdout.write(`ratios: (b stored)/(c) = ${m(x => x.stored / x.ref.pointsPerSec).toFixed(2)}; (a)/(c) = ${m(x => x.nul.pointsPerSec / x.ref.pointsPerSec).toFixed(2)}\n`)
} finally {
  for (const c of children) c.kill('SIGKILL')
  for (const i of influxds) await i.stop().catch(() => {})
  rmSync(dir, { recursive: true, force: true })
}
