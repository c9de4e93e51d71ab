// Agent overhead against node_exporter, side by side in one run on this
// machine: a real kanshi agent (interval 10 s, the six system inputs) sending to
// a real collector, and Debian's prometheus-node-exporter on a free port with a
// private textfile dir, scraped by this script every 10 s. CPU comes from
// /proc/<pid>/stat (the process, its reaped children and live descendants),
// memory from /proc/<pid>/status (VmRSS sampled every 10 s, VmHWM at the end).
// Each --flags value adds a run of the single-file bundle under those node
// options ("--max-semi-space-size=1"), to show what a launcher flag buys.
//   node dist/scripts/bench/agent.bench.js [--seconds 180] [--interval 10] [--smoke] [--flags "…"]…

import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort } from '../../collector/storage/influxd-process.js'
import { cpuSeconds, loadavg, median, memory, mib } from './proc-stat.js'

const { values } = parseArgs({ options: { seconds: { type: 'string' }, smoke: { type: 'boolean', default: false }, interval: { type: 'string' }, 'warmup': { type: 'string' }, flags: { type: 'string', multiple: true } } })
const seconds = Number(values.seconds ?? (values.smoke ? 8 : 180))
const warmup = Number(values.warmup ?? (values.smoke ? 2 : 20))
const INTERVAL_S = Number(values.interval ?? (values.smoke ? 2 : 10))
const dist = resolve(import.meta.dirname, '..', '..')
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter'

interface Subject { label: string, child: ChildProcess, rss: number[], cpu0: number, cpu1: number, hwm: number }

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

function firstLine (c: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    c.once('exit', code => reject(new Error(`exited ${code} before it was ready`)))
    c.stdout!.once('data', (b: Buffer) => resolve(b.toString().trim()))
  })
}

const dir = mkdtempSync(join(tmpdir(), 'kanshi-agent-bench-'))
const children: ChildProcess[] = []
try {
  if (!existsSync(NODE_EXPORTER)) throw new Error(`${NODE_EXPORTER} is missing: apt-get install prometheus-node-exporter`)
  // The agents' targets: the collector process with a null sink (the agent's cost does not depend on the database).
  const port = await freePort()
  const variants: Array<{ label: string, file: string, flags: string[] }> = []
  const bundle = join(dist, 'kanshi-agent.mjs')
  if (existsSync(bundle)) {
    variants.push({ label: 'kanshi-agent (single-file bundle)', file: bundle, flags: [] })
    for (const f of values.flags ?? []) variants.push({ label: `kanshi-agent (bundle, node ${f})`, file: bundle, flags: f.split(' ').filter(x => x !== '') })
  }
  // The package bin, as `kanshi-agent` runs after npm install: it loads the bundle too (one agent).
  variants.push({ label: 'kanshi-agent (package bin)', file: join(dist, '..', 'bin', 'kanshi-agent.js'), flags: [] })
  const tokens = variants.map((_, i) => ({ id: `bench-agent-${i}`, token: randomBytes(16).toString('hex') }))
  writeFileSync(join(dir, 'c.yaml'), JSON.stringify({
    listen: { host: '127.0.0.1', port }, dataDir: join(dir, 'collector'), log: { level: 'warn' },
    agents: tokens.map(t => ({ id: t.id, tokenSha256: createHash('sha256').update(t.token).digest('hex') }))
  }))
  const collector = spawn(process.execPath, [join(dist, 'scripts/bench/collector-null.js'), '--config', join(dir, 'c.yaml')], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(collector)
  await firstLine(collector)

  const subjects: Subject[] = []
  for (const [i, v] of variants.entries()) {
    const cfg = join(dir, `agent-${i}.yaml`)
    writeFileSync(cfg, JSON.stringify({ id: tokens[i]!.id, collector: { url: `ws://127.0.0.1:${port}/v1/agent`, token: tokens[i]!.token }, interval: `${INTERVAL_S}s`, dataDir: join(dir, `agent-${i}`), log: { level: 'warn' } }))
    const child = spawn(process.execPath, [...v.flags, v.file, '--config', cfg], { stdio: ['ignore', 'ignore', 'inherit'] })
    children.push(child)
    subjects.push({ label: v.label, child, rss: [], cpu0: 0, cpu1: 0, hwm: 0 })
  }
  const nePort = await freePort()
  const textDir = join(dir, 'textfile')
  mkdirSync(textDir)
  const ne = spawn(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${nePort}`, `--collector.textfile.directory=${textDir}`], { stdio: ['ignore', 'ignore', 'ignore'] })
  children.push(ne)
  subjects.push({ label: 'reference: node_exporter 1.5 (defaults, scraped every 10 s)', child: ne, rss: [], cpu0: 0, cpu1: 0, hwm: 0 })
  let scrapes = 0
  let scrapeBytes = 0
  const scrape = async (): Promise<void> => {
    const res = await fetch(`http://127.0.0.1:${nePort}/metrics`)
    scrapeBytes = (await res.arrayBuffer()).byteLength
    if (res.ok) scrapes++
  }
  // node_exporter needs a moment to listen; its first scrape is part of its warm-up like the agent's first gather.
  for (let i = 0; ; i++) { try { await scrape(); break } catch (err) { if (i > 50) throw err; await sleep(100) } }
  const scraper = setInterval(() => { void scrape().catch(() => {}) }, INTERVAL_S * 1000)

  await sleep(warmup * 1000)
  // An agent that exited (a missing build, a bad config) is named, not met as ENOENT under /proc.
  const alive = (): void => {
    for (const s of subjects) if (s.child.exitCode !== null || s.child.signalCode !== null) throw new Error(`${s.label} exited (${s.child.exitCode ?? s.child.signalCode!}) during the bench; is dist/ built (npx tsc -p tsconfig.json && node dist/scripts/bundle.js)?`)
  }
  alive()
  for (const s of subjects) s.cpu0 = cpuSeconds(s.child.pid!)
  const t0 = performance.now()
  let died: Error | undefined
  const sampler = setInterval(() => {
    try { alive(); for (const s of subjects) s.rss.push(memory(s.child.pid!).rss) } catch (err) { died ??= err as Error }
  }, INTERVAL_S * 1000 / 2)
  await sleep(seconds * 1000)
  const elapsed = (performance.now() - t0) / 1000
  clearInterval(sampler)
  clearInterval(scraper)
  if (died !== undefined) throw died
  alive()
  for (const s of subjects) {
    s.cpu1 = cpuSeconds(s.child.pid!)
    const m = memory(s.child.pid!)
    s.rss.push(m.rss)
    s.hwm = m.hwm
    if (s.child.exitCode !== null) throw new Error(`${s.label} exited with ${s.child.exitCode}`)
  }
  const intervals = elapsed / INTERVAL_S
  const perHour = (s: Subject): number => (s.cpu1 - s.cpu0) / elapsed * 3600
  const rows = subjects.map(s => `| ${s.label} | ${perHour(s).toFixed(1)} | ${((s.cpu1 - s.cpu0) * 1000 / intervals).toFixed(1)} | ${mib(median(s.rss))} | ${mib(s.hwm)} |`)
  const ref = subjects[subjects.length - 1]!
  const lines = [
    `agent overhead: ${elapsed.toFixed(0)} s measured after ${warmup} s warm-up, ${INTERVAL_S} s interval; node_exporter scraped ${scrapes} times (${(scrapeBytes / 1024).toFixed(0)} KiB each); load average ${loadavg()}`,
    '| process | CPU s per hour | CPU ms per interval | RSS median MiB | RSS peak (VmHWM) MiB |',
    '|---|---|---|---|---|',
    ...rows,
    '(CPU is counted in 10 ms ticks: in a short run one tick is a large share.)'
  ]
  for (const s of subjects.slice(0, -1)) {
    lines.push(`ratio ${s.label} / node_exporter: CPU ${(perHour(s) / Math.max(perHour(ref), 1e-9)).toFixed(2)}, RSS median ${(median(s.rss) / median(ref.rss)).toFixed(2)}, RSS peak ${(s.hwm / ref.hwm).toFixed(2)}`)
  }
  process.stdout.write(lines.join('\n') + '\n')
} finally {
  for (const c of children.reverse()) if (c.exitCode === null) { c.kill('SIGTERM'); await new Promise(resolve => c.once('exit', resolve)) }
  rmSync(dir, { recursive: true, force: true })
}
