// The benchmarks' smoke run, as CI runs it: every bench starts its real
// references (node_exporter, influxd, an SMTP server), runs for seconds and
// prints its ratio lines. Benchmarks never fail CI for being slow: only that
// each ran and printed its ratios is checked, never a figure.

import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..', '..')

t.test('npm run bench --smoke: each bench runs and prints its ratio lines', async t => {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'scripts', 'bench', 'run.js'), '--smoke'], { encoding: 'utf8', timeout: 240_000 })
  t.equal(r.status, 0, `run.js --smoke exits 0\n${r.stderr.slice(-2000)}`)
  t.match(r.stdout, /^machine: \d+ cores/m)
  const section = (name: string): string => {
    const start = r.stdout.indexOf(`\n## ${name}\n`)
    if (start < 0) return ''
    const end = r.stdout.indexOf('\n## ', start + 1)
    return r.stdout.slice(start, end < 0 ? undefined : end)
  }
  const expect: Record<string, RegExp[]> = {
    inputs: [/^ratio systeminformation \/ proc, all six inputs: [\d.]+$/m],
    agent: [/^ratio kanshi-agent \(package bin\) \/ node_exporter: CPU [\d.]+, RSS median [\d.]+, RSS peak [\d.]+$/m],
    ingest: [/^ratios: pinned = ([\d.]+|n\/a \(one core\)); shared = [\d.]+$/m],
    connections: [/^ratio collector \/ bare ws: CPU [\d.]+, RSS [\d.]+$/m],
    alert: [/^ratio kanshi \/ reference: p50 [\d.]+, p99 [\d.]+$/m],
    capacity: [/^ratio [^\n]*tier[^\n]*: [\d.]+/m],
    logs: [/^ {2}utf8 .* ratio kanshi\/reference [\d.]+$/m, /^ {2}cp932 .* ratio kanshi\/reference [\d.]+$/m],
    repair: [/^ratio daily \/ hourly repair, one agent: [\d.]+$/m]
  }
  if (existsSync(join(root, 'dist', 'scripts', 'bench', 'report.bench.js'))) expect['report'] = [/ratio/i]
  for (const [name, res] of Object.entries(expect)) {
    const s = section(name)
    t.not(s, '', `${name} ran`)
    t.match(s, new RegExp(`\\(${name}: [\\d.]+ s, exit 0;`), `${name} exited 0`)
    for (const re of res) t.match(s, re, `${name} printed its ratio line`)
  }
})
