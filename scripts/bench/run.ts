// npm run bench: every benchmark, one after another in its own process (they
// would disturb each other side by side), each measuring kanshi against a
// reference in the same run and printing its ratio lines. --smoke runs each
// for seconds (CI checks that they all still run); --only picks some.
//   node dist/scripts/bench/run.js [--smoke] [--only agent,ingest] [--repeat N]

import { spawn } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { loadavg } from './proc-stat.js'

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, only: { type: 'string' }, repeat: { type: 'string', default: '1' } } })
const here = resolve(import.meta.dirname)

/** Each bench: its script and the arguments of the full run; --smoke is passed on as is. */
const BENCHES: Array<{ name: string, file: string, full: string[] }> = [
  { name: 'inputs', file: 'inputs.bench.js', full: ['30'] },
  { name: 'agent', file: 'agent.bench.js', full: ['--seconds', '180'] },
  { name: 'ingest', file: 'ingest.bench.js', full: ['--points', '400000', '--rounds', '3'] },
  { name: 'connections', file: 'connections.bench.js', full: ['--agents', '10000', '--seconds', '180'] },
  { name: 'alert', file: 'alert.bench.js', full: ['30'] },
  { name: 'capacity', file: 'capacity.bench.js', full: ['200', '365'] },
  { name: 'report', file: 'report.bench.js', full: [] },
  { name: 'logs', file: 'logs.bench.js', full: ['--lines', '300000', '--rounds', '3'] },
  { name: 'repair', file: 'repair-cold.bench.js', full: ['--agents', '1,10,50'] }
]

function version (cmd: string, args: string[]): string {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!.trim() } catch { return `${cmd}: not found` }
}

function runOne (file: string, args: string[]): Promise<number> {
  return new Promise(resolve => {
    const c = spawn(process.execPath, [join(here, file), ...args], { stdio: ['ignore', 'inherit', 'inherit'] })
    c.on('exit', code => resolve(code ?? 1))
  })
}

const only = values.only?.split(',')
const out = process.stdout
out.write(`kanshi benchmarks${values.smoke ? ' (smoke: seconds each, figures meaningless)' : ''}\n`)
out.write(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB; node ${process.version}; ` +
  `${version('influxd', ['version'])}; ${version('/usr/bin/prometheus-node-exporter', ['--version'])}; load average ${loadavg()}\n`)
let failed = 0
for (let r = 1; r <= Number(values.repeat); r++) {
  for (const b of BENCHES) {
    if (only !== undefined && !only.includes(b.name)) continue
    if (!existsSync(join(here, b.file))) { out.write(`\n## ${b.name}: ${b.file} is not built here; skipped\n`); continue }
    out.write(`\n## ${b.name}${Number(values.repeat) > 1 ? ` (run ${r})` : ''}\n`)
    const t0 = Date.now()
    const code = await runOne(b.file, values.smoke ? ['--smoke'] : b.full)
    out.write(`(${b.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s, exit ${code}; load average ${loadavg()})\n`)
    if (code !== 0) failed++
  }
}
process.exitCode = failed === 0 ? 0 : 1
