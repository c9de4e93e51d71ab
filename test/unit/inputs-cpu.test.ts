// cpu input: the /proc/stat and /proc/loadavg parsers on recorded bytes, the
// percentage arithmetic's edge cases, this machine's /proc, and the
// systeminformation path that Windows and other systems use.

import t from 'tap'
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { CpuInput, cpuPercents, parseLoadavg, parseProcStat, type CpuTimes } from '../../agent/inputs/cpu.js'
import { PointAccumulator } from '../../agent/inputs/input.js'

const fixture = (rel: string): string => readFileSync(new URL(`../fixtures/proc/${rel}`, import.meta.url), 'utf8')
const times = (user: number, system: number, idle: number, iowait: number): CpuTimes => ({ user, nice: 0, system, idle, iowait, irq: 0, softirq: 0, steal: 0 })

t.test('parseProcStat reads the aggregate line of a recorded /proc/stat', async t => {
  // "cpu  58572 0 11562 612574 4270 0 371 1125 0 0", then per-cpu lines, intr, ctxt…
  t.strictSame(parseProcStat(fixture('debian12-vm/proc0/stat')), { user: 58572, nice: 0, system: 11562, idle: 612574, iowait: 4270, irq: 0, softirq: 371, steal: 1125 })
  // Linux 2.6.11 had no steal column: the missing column reads as 0.
  t.strictSame(parseProcStat('cpu  10 1 5 100 2 0 3\n'), { user: 10, nice: 1, system: 5, idle: 100, iowait: 2, irq: 0, softirq: 3, steal: 0 })
  t.throws(() => parseProcStat('cpu0 1 2 3 4\n'), /no aggregate "cpu" line/)
  t.throws(() => parseProcStat('cpu  a b c d\n'), /unreadable cpu line/)
})

t.test('cpuPercents', async t => {
  t.strictSame(cpuPercents(times(100, 50, 800, 50), times(160, 70, 900, 70)), { usage_percent: 40, user_percent: 30, system_percent: 10, iowait_percent: 10 })
  // iowait went back by 2 jiffies (a tickless kernel): clamped to 0, the rest still counts.
  // deltas user 30, system 10, idle 60, iowait 0 (not -2): total 100
  t.strictSame(cpuPercents(times(100, 50, 800, 52), times(130, 60, 860, 50)), { usage_percent: 40, user_percent: 30, system_percent: 10, iowait_percent: 0 })
  t.equal(cpuPercents(times(100, 50, 800, 50), times(100, 50, 800, 50)), undefined, 'no time elapsed')
  t.equal(cpuPercents(times(5000, 3000, 90000, 100), times(50, 30, 900, 1)), undefined, 'counters restarted (reboot)')
  // A reboot soon after the previous reading: user and system happen to be higher, idle far lower.
  // The total went back, so this is a restart, not 100 % busy.
  t.equal(cpuPercents(times(100, 50, 10000, 10), times(150, 60, 500, 5)), undefined, 'total went back, some columns up')
})

t.test('parseLoadavg reads loads and the thread count of a recorded /proc/loadavg', async t => {
  t.strictSame(parseLoadavg(fixture('debian12-vm/proc0/loadavg')), { load1: 0.27, load5: 0.6, load15: 0.53, running: 2, threads: 114 })
  t.throws(() => parseLoadavg(''), /unreadable/)
})

t.test('this machine: two gathers from /proc give sane numbers', async t => {
  const cpu = new CpuInput()
  const first = new PointAccumulator(0)
  await cpu.gather(first)
  t.strictSame(Object.keys(first.points[0]!.f).sort(), ['load1', 'load15', 'load5'], 'the first gather has only load averages')
  await busy(200)
  const acc = new PointAccumulator(0)
  await cpu.gather(acc)
  const f = acc.points[0]!.f as Record<string, number>
  for (const k of ['usage_percent', 'user_percent', 'system_percent', 'iowait_percent']) t.ok(f[k]! >= 0 && f[k]! <= 100, `${k} = ${f[k]}`)
  t.ok(f['usage_percent']! > 0, 'a busy loop shows as usage')
  t.ok(f['user_percent']! + f['system_percent']! <= f['usage_percent']! + 0.02, 'user + system within usage')
  t.ok(f['load1']! >= 0 && Math.abs(f['load1']! - loadavg()[0]!) < 1, `load1 ${f['load1']} is the kernel's`)
})

t.test('the systeminformation path (Windows Server and others), run on this machine', async t => {
  for (const platform of ['win32', 'darwin'] as const) {
    const cpu = new CpuInput('/proc', platform)
    await cpu.gather(new PointAccumulator(0))
    await busy(200)
    const acc = new PointAccumulator(0)
    await cpu.gather(acc)
    const f = acc.points[0]!.f as Record<string, number>
    t.ok(f['usage_percent']! >= 0 && f['usage_percent']! <= 100, `${platform}: usage ${f['usage_percent']}`)
    t.ok(f['user_percent']! >= 0 && f['system_percent']! >= 0, `${platform}: user and system`)
    t.notOk('iowait_percent' in f, `${platform}: no iowait from systeminformation`)
    if (platform === 'win32') t.notOk('load1' in f || 'load5' in f || 'load15' in f, 'win32: no load averages (Windows has none)')
    else t.ok(typeof f['load15'] === 'number', `${platform}: load averages from os.loadavg()`)
  }
})

/** busy spins the CPU so that a usage reading cannot be 0. */
async function busy (ms: number): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) Math.sqrt(Math.random())
  await new Promise(resolve => setTimeout(resolve, 20))
}
