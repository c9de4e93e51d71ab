// Connection scale: N agents at a 10 s interval on one collector (null sink:
// auth, validation, WAL fsync, acks, rollups; no database), opened from several
// loopback source addresses by fleet processes, held steady for a while. Prints
// the collector's CPU (cores), RSS and memory per connection, and the same for
// the reference: a bare `ws` server holding the same fleet (ws-floor.ts).
//   node dist/scripts/bench/connections.bench.js [--agents 10000] [--seconds 180] [--points 30] [--protocol 3] [--no-rollups] [--smoke]

import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort } from '../../collector/storage/influxd-process.js'
import { cpuSeconds, loadavg, median, memory, mib } from './proc-stat.js'

const { values } = parseArgs({ options: { agents: { type: 'string' }, seconds: { type: 'string' }, fleets: { type: 'string', default: '4' }, points: { type: 'string', default: '30' }, protocol: { type: 'string', default: '3' }, smoke: { type: 'boolean', default: false }, 'no-rollups': { type: 'boolean', default: false } } })
const agents = Number(values.agents ?? (values.smoke ? 200 : 10_000))
const seconds = Number(values.seconds ?? (values.smoke ? 3 : 180))
const fleets = Number(values.fleets)
const INTERVAL_MS = values.smoke ? 1000 : 10_000
const dist = resolve(import.meta.dirname, '..', '..')
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

interface FleetStats { agents: number, connected: number, failedConnects: number, closedEarly: number, batches: number, acked: number, errors: number, ackP50ms: number, ackP99ms: number }
interface Result { label: string, cores: number, rssBase: number, rss: number, hwm: number, perConn: number, fleet: FleetStats, connectS: number }

function lines (c: ChildProcess, onLine: (l: string) => void): void {
  let buf = ''
  c.stdout!.on('data', (b: Buffer) => {
    buf += b.toString()
    let i
    while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1) }
  })
}

async function measure (label: string, server: ChildProcess, url: string, tokensFile: string): Promise<Result> {
  await sleep(1000)
  const rssBase = memory(server.pid!).rss
  const per = Math.ceil(agents / fleets)
  const t0 = Date.now()
  const connected: Array<Promise<void>> = []
  const finals: Array<Promise<FleetStats>> = []
  const procs: ChildProcess[] = []
  for (let f = 0; f < fleets; f++) {
    const local = [0, 1].map(k => `127.0.0.${2 + f * 2 + k}`).join(',')
    const p = spawn(process.execPath, [join(dist, 'scripts/bench/fleet.js'), '--url', url, '--tokens', tokensFile, '--from', String(f * per), '--to', String(Math.min(agents, (f + 1) * per)), '--local', local, '--rate', '250', '--interval', String(INTERVAL_MS), '--points', values.points!, '--protocol', values.protocol!], { stdio: ['pipe', 'pipe', 'inherit'] })
    procs.push(p)
    connected.push(new Promise(resolve => lines(p, l => { if (l.startsWith('connected')) resolve() })))
    finals.push(new Promise((resolve, reject) => {
      lines(p, l => { if (l.startsWith('{')) resolve(JSON.parse(l) as FleetStats) })
      p.on('exit', code => { if (code !== 0) reject(new Error(`fleet exited ${code}`)) })
    }))
  }
  await Promise.all(connected)
  const connectS = (Date.now() - t0) / 1000
  // One interval for the phases to spread out before the steady window starts.
  await sleep(INTERVAL_MS)
  const cpu0 = cpuSeconds(server.pid!)
  const s0 = performance.now()
  const rss: number[] = []
  const sampler = setInterval(() => rss.push(memory(server.pid!).rss), 5000)
  await sleep(seconds * 1000)
  clearInterval(sampler)
  const cores = (cpuSeconds(server.pid!) - cpu0) / ((performance.now() - s0) / 1000)
  const m = memory(server.pid!)
  rss.push(m.rss)
  for (const p of procs) p.stdin!.end()
  const all = await Promise.all(finals)
  const fleet = all.reduce((a, b) => {
    const out = { ...a }
    for (const k of Object.keys(b) as Array<keyof FleetStats>) out[k] = (k === 'ackP50ms' || k === 'ackP99ms') ? Math.max(a[k], b[k]) : a[k] + b[k]
    return out
  })
  return { label, cores, rssBase, rss: median(rss), hwm: m.hwm, perConn: (median(rss) - rssBase) / Math.max(1, fleet.connected), fleet, connectS }
}

async function stop (c: ChildProcess): Promise<void> {
  if (c.exitCode !== null) return
  c.kill('SIGTERM')
  await new Promise(resolve => c.once('exit', resolve))
}

const dir = mkdtempSync(join(tmpdir(), 'kanshi-conn-bench-'))
try {
  const tokens = Array.from({ length: agents }, (_, i) => ({ id: `fleet${i}`, token: randomBytes(16).toString('hex') }))
  const tokensFile = join(dir, 'tokens.json')
  writeFileSync(tokensFile, JSON.stringify(tokens))
  const port = await freePort()
  writeFileSync(join(dir, 'c.yaml'), JSON.stringify({
    listen: { host: '127.0.0.1', port }, dataDir: join(dir, 'collector'), log: { level: 'warn' },
    ingest: { maxConnectionsPerAddress: agents },
    // --no-rollups shows what the rollup state (one record per series and tier) costs at this scale.
    ...(values['no-rollups'] ? { influx: { rollups: false } } : {}),
    agents: tokens.map(a => ({ id: a.id, tokenSha256: createHash('sha256').update(a.token).digest('hex') }))
  }))
  const collector = spawn(process.execPath, [join(dist, 'scripts/bench/collector-null.js'), '--config', join(dir, 'c.yaml')], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise(resolve => collector.stdout!.once('data', resolve))
  const kan = await measure(`kanshi collector (null sink${values['no-rollups'] ? ', rollups off' : ', rollups on'})`, collector, `ws://127.0.0.1:${port}/v1/agent`, tokensFile)
  await stop(collector)
  const fport = await freePort()
  const floor = spawn(process.execPath, [join(dist, 'scripts/bench/ws-floor.js'), '--port', String(fport)], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise(resolve => floor.stdout!.once('data', resolve))
  const ref = await measure('reference: bare ws server (parse + ack)', floor, `ws://127.0.0.1:${fport}/v1/agent`, tokensFile)
  await stop(floor)
  const row = (r: Result): string => `| ${r.label} | ${r.fleet.connected} / ${agents} | ${r.connectS.toFixed(0)} | ${r.cores.toFixed(3)} | ${mib(r.rssBase)} | ${mib(r.rss)} | ${mib(r.hwm)} | ${(r.perConn / 1024).toFixed(1)} | ${r.fleet.acked} / ${r.fleet.batches} | ${r.fleet.errors + r.fleet.failedConnects + r.fleet.closedEarly} | ${r.fleet.ackP50ms} / ${r.fleet.ackP99ms} |`
  process.stdout.write([
    `connections: ${agents} agents at a ${INTERVAL_MS / 1000} s interval, ${values.points} points per batch, protocol ${values.protocol!}, ${fleets} fleet processes over ${fleets * 2} loopback addresses, ${seconds} s steady; load average ${loadavg()}`,
    '| server | connected | connect s | CPU cores | RSS idle MiB | RSS steady MiB | RSS peak MiB | KiB per connection | acked / sent batches | errors | ack p50 / p99 ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    row(kan), row(ref),
    `ratio collector / bare ws: CPU ${(kan.cores / Math.max(ref.cores, 1e-6)).toFixed(2)}, RSS ${(kan.rss / ref.rss).toFixed(2)}`
  ].join('\n') + '\n')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
