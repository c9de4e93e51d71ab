// Cost of one gather per system input on this Linux machine: /proc + statfs
// (what the agent uses on Linux) against systeminformation (what it uses on
// Windows and elsewhere), in one process. Prints µs per gather and the ratio
// systeminformation / proc.
//
// Usage: node dist/scripts/bench/inputs.bench.js [rounds=20] [--smoke]
//
// systeminformation caches fsStats, networkStats and processes for 500 ms; the
// agent gathers every 10 s and never hits those caches, so rounds are spaced
// 550 ms apart (the wait is not timed). The system input through
// systeminformation is shown twice: with the process list refreshed (once a
// minute in the agent) and with it cached (the other gathers).

import { readFileSync } from 'node:fs'
import { createSystemInputs, SYSTEM_INPUTS } from '../../agent/inputs/registry.js'
import { PointAccumulator, type PolledInput as Input } from '../../agent/inputs/input.js'
import { SystemInput } from '../../agent/inputs/system.js'

const smoke = process.argv.includes('--smoke')
const rounds = smoke ? 3 : Number(process.argv[2] ?? 20)
const SPACING_MS = 550

interface Cost { wallUs: number[], cpuUs: number, childTicks: number }
const newCost = (): Cost => ({ wallUs: [], cpuUs: 0, childTicks: 0 })

/** childTicks reads the CPU time of reaped children (df, ps, cat spawned by systeminformation), in clock ticks. */
function childTicks (): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')
  return Number(f[13]) + Number(f[14]) // cutime, cstime (fields 16 and 17 of stat)
}

async function timeOne (input: Input, cost: Cost, now: number): Promise<void> {
  const ticks0 = childTicks()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  try { await input.gather(new PointAccumulator(now), now) } catch { /* errors cost time too */ }
  cost.wallUs.push((performance.now() - t0) * 1000)
  const c = process.cpuUsage(cpu0)
  cost.cpuUs += c.user + c.system
  cost.childTicks += childTicks() - ticks0
}

const rssBefore = process.memoryUsage().rss
await import('systeminformation')
const siRssMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20

const names = [...SYSTEM_INPUTS]
const proc = new Map(names.map(n => [n, createSystemInputs({ enabled: [n], platform: 'linux' })[0]!]))
const si = new Map(names.map(n => [n, createSystemInputs({ enabled: [n], platform: 'win32' })[0]!]))
const costs = new Map<string, Cost>()
const cost = (k: string): Cost => costs.get(k) ?? (costs.set(k, newCost()), costs.get(k)!)

// Warm-up: first counter readings, module loading, systeminformation's first process list.
// An input may refuse on this host (diskio's Windows path throws when systeminformation finds
// no disk counters, as on Linux): the bench times the attempt like any other gather.
for (const n of names) {
  await proc.get(n)!.gather(new PointAccumulator(0), 0).catch(() => {})
  await si.get(n)!.gather(new PointAccumulator(0), 0).catch(() => {})
}
for (let r = 1; r <= rounds; r++) {
  await new Promise(resolve => setTimeout(resolve, SPACING_MS))
  const now = r * 10_000
  for (const n of names) {
    await timeOne(proc.get(n)!, cost(`${n} proc`), now)
    await timeOne(si.get(n)!, cost(`${n} si`), now)
  }
  // A fresh SystemInput has no cached process count: it lists processes on every gather.
  await timeOne(new SystemInput('/proc', 'win32'), cost('system si-refresh'), now)
}

const tick = 1e6 / 100 // µs per clock tick (USER_HZ = 100 on Linux)
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const row = (label: string, p: Cost, s: Cost): string => {
  const cpuP = p.cpuUs / rounds + p.childTicks * tick / rounds
  const cpuS = s.cpuUs / rounds + s.childTicks * tick / rounds
  return `| ${label} | ${Math.round(mean(p.wallUs))} | ${Math.round(median(p.wallUs))} | ${Math.round(mean(s.wallUs))} | ${Math.round(median(s.wallUs))} | ${(mean(s.wallUs) / mean(p.wallUs)).toFixed(1)}× | ${Math.round(cpuP)} | ${Math.round(cpuS)} |`
}
const lines = [
  `rounds: ${rounds}, ${SPACING_MS} ms apart; systeminformation module: +${siRssMb.toFixed(1)} MiB RSS when loaded`,
  '',
  '| input | /proc µs mean | /proc µs median | si µs mean | si µs median | si / proc (mean) | /proc CPU µs | si CPU µs (incl. children) |',
  '|---|---|---|---|---|---|---|---|'
]
for (const n of names) {
  lines.push(row(n === 'system' ? 'system (si lists processes 1 gather in 6, as in the agent)' : n, cost(`${n} proc`), cost(`${n} si`)))
}
lines.push(row('system (si lists processes every gather)', cost('system proc'), cost('system si-refresh')))
// One agent interval: all six inputs.
const sum = (path: 'proc' | 'si'): Cost => {
  const c = newCost()
  for (let r = 0; r < rounds; r++) c.wallUs.push(names.reduce((w, n) => w + cost(`${n} ${path}`).wallUs[r]!, 0))
  for (const n of names) { c.cpuUs += cost(`${n} ${path}`).cpuUs; c.childTicks += cost(`${n} ${path}`).childTicks }
  return c
}
lines.push(row('**all six, one interval**', sum('proc'), sum('si')))
const all = (path: 'proc' | 'si'): number => mean(sum(path).wallUs)
lines.push(`ratio systeminformation / proc, all six inputs: ${(all('si') / all('proc')).toFixed(1)}`)
process.stdout.write(lines.join('\n') + '\n')
