// Collector ingest against InfluxDB's own speed (issue 22). Each round runs, with a fresh influxd each:
//   direct:    the points, pre-built as line protocol, POSTed straight to influxd (4 in flight, 5,000 lines)
//   collector: the same points, pre-built as protocol-3 frames (columns), sent by 4 agent connections through the
//              collector (WAL fsync before ack, rollups, alert evaluation on) into influxd; its rate is
//              points / time until influxd holds them all (stored), not until the acks
// once with every process sharing both cores and once pinned: influxd on core 0, the sender (and the
// collector) on core 1. Prints a table, the ratios per round and their medians.
// --before DIR adds a second collector build (a dist/ directory of another commit) to every round, alternating.
// --variants a,b adds collector runs changed in one way each (ingest-diag.ts: WAL or influxd on tmpfs,
// rollups or alerting off, protocol-2 frames: points as objects, not columns) to every round; --mode pinned|shared runs only that mode. After each run
// a line on stderr says where it waited (WAL commits, writes, flow control; influxd's own write times).
//   node dist/scripts/bench/ingest.bench.js [--points 400000] [--rounds 3] [--profile DIR] [--before DIR] [--variants V,..] [--mode M] [--smoke]

import { spawn, type ChildProcess } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { startInfluxd, freePort, type InfluxdProcess } from '../../collector/storage/influxd-process.js'
import { FIELDS, MEASUREMENT, ROLE, SITE } from './ingest-points.js'
import { cpuSeconds, loadavg } from './proc-stat.js'
import { collectorDiag, coreTimes, diagText, idleText, influxDiag, variantsOf, type Variant } from './ingest-diag.js'

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, points: { type: 'string', default: '400000' }, rounds: { type: 'string', default: '3' }, profile: { type: 'string' }, before: { type: 'string' }, variants: { type: 'string' }, mode: { type: 'string' } } })
const points = values.smoke ? 20_000 : Number(values.points)
const roundsWanted = values.smoke ? 1 : Number(values.rounds)
const clients = 4
const pinnable = cpus().length >= 2
const dist = resolve(import.meta.dirname, '..', '..')

const children = new Set<ChildProcess>()
/** run starts a node program, on core 1 when pinned. */
function run (file: string, args: string[], pinned: boolean, nodeArgs: string[] = []): ChildProcess {
  const argv = [...nodeArgs, file, ...args]
  const c = pinned ? spawn('taskset', ['-c', '1', process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] })
  children.add(c)
  c.on('exit', () => children.delete(c))
  return c
}

function output (c: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    c.stdout!.on('data', (b: Buffer) => { out += b.toString() })
    c.on('exit', code => code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${out}`)))
  })
}

async function ready (port: number): Promise<void> {
  for (const t0 = Date.now(); Date.now() - t0 < 60_000;) {
    try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return } catch { /* not yet */ }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`collector on port ${port} did not become ready in 60 s`)
}

async function countPoints (url: string, since?: number): Promise<number> {
  const q = new URLSearchParams({ db: 'kanshi', q: `SELECT count(${FIELDS[0]}) FROM ${MEASUREMENT}${since === undefined ? '' : ` WHERE time >= ${since}ms`}` })
  const r = await (await fetch(`${url}/query?${q.toString()}`)).json() as { results: Array<{ series?: Array<{ values: number[][] }> }> }
  return r.results[0]?.series?.[0]?.values[0]?.[1] ?? 0
}

/** freshInfluxd starts influxd with database kanshi; pinned, every thread of it on core 0. */
async function freshInfluxd (dir: string, pinned: boolean): Promise<InfluxdProcess> {
  const inf = await startInfluxd({ dataDir: join(dir, `influx-${randomBytes(4).toString('hex')}`) })
  if (pinned) execFileSync('taskset', ['-a', '-p', '-c', '0', String(inf.pid)], { stdio: 'ignore' })
  await fetch(`${inf.url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'CREATE DATABASE kanshi' }) })
  return inf
}

interface Sent { points: number, total: number, base: number, started: number, storedAt?: number, seconds: number, pointsPerSec: number, p50ms: number, p99ms: number, errors: number }
/** stored points/s; CPU µs per point of the collector (0 for direct) and of influxd, from /proc over the run */
interface Run { stored: number, sent: Sent, collectorUs: number, influxdUs: number }
const usPerPoint = (seconds: number, points: number): number => +(seconds * 1e6 / points).toFixed(2)

async function direct (dir: string, pinned: boolean): Promise<Run> {
  const inf = await freshInfluxd(dir, pinned)
  try {
    const cpu0 = cpuSeconds(inf.pid)
    const cores0 = coreTimes()
    const sent = JSON.parse(await output(run(join(dist, 'scripts/bench/loadgen.js'), ['--influx', inf.url, '--points', String(points), '--clients', String(clients)], pinned))) as Sent
    const cores1 = coreTimes()
    const held = await countPoints(inf.url)
    if (held !== sent.total || sent.errors > 0) throw new Error(`direct: influxd holds ${held} of ${sent.total} points (${sent.errors} failed writes)`)
    process.stderr.write(`  direct: ${idleText(cores0, cores1)}; ${diagText(undefined, await influxDiag(inf.url))}\n`)
    return { stored: sent.pointsPerSec, sent, collectorUs: 0, influxdUs: usPerPoint(cpuSeconds(inf.pid) - cpu0, sent.total) }
  } finally { await inf.stop() }
}

async function viaCollector (dir: string, pinned: boolean, profile: string | undefined, build = dist, variant?: Variant): Promise<Run> {
  const inf = await freshInfluxd(variant === 'influx-tmpfs' ? shm : dir, pinned)
  const port = await freePort()
  const tokens = Array.from({ length: clients }, (_, i) => ({ id: `bench${i}`, token: randomBytes(16).toString('hex') }))
  const cdir = join(variant === 'wal-tmpfs' ? shm : dir, `collector-${port}`)
  mkdirSync(join(cdir, 'rules'), { recursive: true })
  writeFileSync(join(cdir, 'tokens.json'), JSON.stringify(tokens))
  // One threshold rule on the bench's measurement, never crossed: every point is evaluated, no mail sent.
  writeFileSync(join(cdir, 'rules', 'r.yaml'), `- { name: bench, type: threshold, metric: ${MEASUREMENT}.${FIELDS[0]}, op: ">", threshold: 1000, for: 0s, severity: critical, summary: { ja: "{{host}}", en: "{{host}}" } }\n`)
  const config = {
    listen: { host: '127.0.0.1', port }, dataDir: join(cdir, 'data'), log: { level: 'warn' },
    influx: { version: 1, url: inf.url, db: 'kanshi', rollups: variant !== 'no-rollups' },
    metrics: { auth: 'none' },
    alerting: variant === 'no-alerting' ? undefined : { rulesDir: join(cdir, 'rules'), smtp: { host: '127.0.0.1', port: 9 }, receivers: [{ name: 'r', email: ['oncall@example.jp'] }], routes: [{ receiver: 'r' }] },
    agents: tokens.map(a => ({ id: a.id, tokenSha256: createHash('sha256').update(a.token).digest('hex'), role: ROLE, site: SITE }))
  }
  writeFileSync(join(cdir, 'c.yaml'), JSON.stringify(config))
  const prof = profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profile]
  const collector = run(join(build, 'collector/main.js'), ['--config', join(cdir, 'c.yaml')], pinned, prof)
  try {
    await ready(port)
    const cpu0 = { c: cpuSeconds(collector.pid!), i: cpuSeconds(inf.pid) }
    const cores0 = coreTimes()
    // Protocol 2, as agents speak it: the collector sends `stored` once every storage target answered
    // for a batch and its cursor moved past it. Stored = when the last of those came (an upper bound on
    // when influxd held the points); then one full count checks that influxd holds every point.
    // (Until 2026-12-06 the bench polled influxd every 20 ms instead; each poll cost influxd about
    // 2.5 ms of CPU, about 1.9 µs per point of the run, on the core it was draining the collector with.)
    const sent = JSON.parse(await output(run(join(dist, 'scripts/bench/loadgen.js'), ['--url', `ws://127.0.0.1:${port}/v1/agent`, '--tokens', join(cdir, 'tokens.json'), '--points', String(points), '--clients', String(clients), '--protocol', variant === 'protocol-2' ? '2' : '3'], pinned))) as Sent
    if (sent.points !== sent.total || sent.errors > 0) throw new Error(`collector: ${sent.points} of ${sent.total} points acked (${sent.errors} errors)`)
    if (sent.storedAt === undefined) throw new Error('collector: not every batch was reported stored within 300 s')
    const cpu1 = { c: cpuSeconds(collector.pid!), i: cpuSeconds(inf.pid) }
    const cores1 = coreTimes()
    process.stderr.write(`  collector${variant === undefined ? '' : ` (${variant})`}${build === dist ? '' : ` ${build}`}: ${idleText(cores0, cores1)}; ${diagText(await collectorDiag(port).catch(() => undefined), await influxDiag(inf.url))}\n`)
    const held = await countPoints(inf.url)
    if (held !== sent.total) throw new Error(`collector: reported stored, but influxd holds ${held} of ${sent.total} points`)
    const stored = Math.round(sent.total / ((sent.storedAt - sent.started) / 1000))
    return { stored, sent, collectorUs: usPerPoint(cpu1.c - cpu0.c, sent.total), influxdUs: usPerPoint(cpu1.i - cpu0.i, sent.total) }
  } finally {
    collector.kill('SIGTERM')
    await new Promise(resolve => collector.on('exit', resolve))
    await inf.stop()
  }
}

const dir = mkdtempSync(join(tmpdir(), 'kanshi-bench-'))
// The tmpfs variants' data (WAL or influxd), gone with the run.
const shm = mkdtempSync(join('/dev/shm', 'kanshi-bench-'))
const variants = variantsOf(values.variants)
const median = (xs: number[]): number => { const s = [...xs].sort((x, y) => x - y); return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2 }
try {
  // Alternating: the order of direct and collector swaps every round, shared and pinned side by side,
  // so each ratio compares neighbouring minutes of a shared machine.
  const modes = (pinnable ? [false, true] : [false]).filter(p => values.mode === undefined || values.mode === (p ? 'pinned' : 'shared'))
  const before = values.before === undefined ? undefined : resolve(values.before)
  const rounds: Array<Record<'shared' | 'pinned', { direct: Run, kanshi: Run, before?: Run } | undefined>> = []
  for (let r = 0; r < roundsWanted; r++) {
    const round: typeof rounds[number] = { shared: undefined, pinned: undefined }
    for (const pinned of modes) {
      const profile = values.profile !== undefined && r === 0 && pinned === modes.includes(true) ? values.profile : undefined
      let d: Run, k: Run
      let b: Run | undefined
      if (r % 2 === 0) {
        d = await direct(dir, pinned)
        k = await viaCollector(dir, pinned, profile)
        if (before !== undefined) b = await viaCollector(dir, pinned, undefined, before)
      } else {
        if (before !== undefined) b = await viaCollector(dir, pinned, undefined, before)
        k = await viaCollector(dir, pinned, profile)
        d = await direct(dir, pinned)
      }
      const vs: string[] = []
      for (const v of variants) { const x = await viaCollector(dir, pinned, undefined, dist, v); vs.push(`${v} ${x.stored} (${x.collectorUs} µs/point, its influxd ${x.influxdUs})`) }
      if (vs.length > 0) process.stderr.write(`  variants: ${vs.join('; ')}\n`)
      round[pinned ? 'pinned' : 'shared'] = b === undefined ? { direct: d, kanshi: k } : { direct: d, kanshi: k, before: b }
      process.stderr.write(`round ${r + 1} ${pinned ? 'pinned' : 'shared'}: direct ${d.stored}, collector ${k.stored} points/s (acked ${k.sent.pointsPerSec}); CPU µs/point: influxd direct ${d.influxdUs}, collector ${k.collectorUs}, its influxd ${k.influxdUs}${b === undefined ? '' : `, before ${b.stored} (collector ${b.collectorUs} µs/point, its influxd ${b.influxdUs})`}; load ${loadavg()}\n`)
    }
    rounds.push(round)
  }
  const out: string[] = [`ingest: ${points} points (${clients} hosts × ${points / clients}, ${FIELDS.length} float fields, tags host/n/role/site), ${roundsWanted} round(s); load average ${loadavg()}`,
    '| run | direct points/s (median) | collector stored points/s (median) | collector acked points/s | ack p50/p99 ms | ratio per round | ratio (median) |', '|---|---|---|---|---|---|---|']
  const ratios: Record<string, number> = {}
  const cpu: string[] = []
  for (const mode of ['pinned', 'shared'] as const) {
    const rs = rounds.map(x => x[mode]).filter(x => x !== undefined)
    if (rs.length === 0) continue
    const per = rs.map(x => x.kanshi.stored / x.direct.stored)
    ratios[mode] = median(per)
    const bs = rs.filter(x => x.before !== undefined).map(x => x.before!.stored / x.direct.stored)
    if (bs.length > 0) out.push(`| ${mode}, build ${values.before!} | | ${median(rs.map(x => x.before!.stored))} | ${median(rs.map(x => x.before!.sent.pointsPerSec))} | | ${bs.map(x => x.toFixed(2)).join(', ')} | ${median(bs).toFixed(2)} |`)
    cpu.push(`${mode}: influxd ${median(rs.map(x => x.direct.influxdUs))} µs/point direct, ${median(rs.map(x => x.kanshi.influxdUs))} behind the collector; collector ${median(rs.map(x => x.kanshi.collectorUs))}${bs.length > 0 ? ` (before: ${median(rs.map(x => x.before!.collectorUs))}, its influxd ${median(rs.map(x => x.before!.influxdUs))})` : ''}`)
    out.push(`| ${mode} | ${median(rs.map(x => x.direct.stored))} | ${median(rs.map(x => x.kanshi.stored))} | ${median(rs.map(x => x.kanshi.sent.pointsPerSec))} | ${median(rs.map(x => x.kanshi.sent.p50ms))}/${median(rs.map(x => x.kanshi.sent.p99ms))} | ${per.map(x => x.toFixed(2)).join(', ')} | ${ratios[mode]!.toFixed(2)} |`)
  }
  out.push(`CPU per point stored (medians; from /proc, the loaded machine's other work excluded): ${cpu.join('; ')}`)
  out.push(`ratios: pinned = ${ratios['pinned']?.toFixed(2) ?? 'n/a (one core)'}; shared = ${ratios['shared']?.toFixed(2) ?? 'not run'}`)
  process.stdout.write(out.join('\n') + '\n')
} finally {
  for (const c of children) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
  rmSync(shm, { recursive: true, force: true })
}
