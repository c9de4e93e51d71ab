// system input: uptime and process count from /proc, checked against
// os.uptime() and ps(1), and the cached systeminformation path.

import t from 'tap'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { uptime } from 'node:os'
import { SystemInput, countProcesses, parseUptime } from '../../agent/inputs/system.js'
import { PointAccumulator } from '../../agent/inputs/input.js'

const fixture = (rel: string): string => readFileSync(new URL(`../fixtures/proc/${rel}`, import.meta.url), 'utf8')
const psCount = (): number => spawnSync('ps', ['-e', '--no-headers'], { encoding: 'utf8' }).stdout.trim().split('\n').length

t.test('parseUptime and countProcesses', async t => {
  t.equal(parseUptime(fixture('debian12-vm/proc0/uptime')), 3455) // "3455.23 6125.74"
  t.throws(() => parseUptime('\n'), /unreadable/)
  t.equal(countProcesses(['1', '2', '4242', 'self', 'thread-self', 'net', 'stat', 'sys', '1a']), 3)
  t.equal(countProcesses(readdirSync(new URL('../fixtures/proc/counter-reset/proc0/', import.meta.url))), 5)
})

t.test('this machine: uptime as the OS says, processes as ps counts them (not threads)', async t => {
  const acc = new PointAccumulator(0)
  await new SystemInput().gather(acc, 0)
  const f = acc.points[0]!.f as Record<string, number>
  t.ok(Math.abs(f['uptime_s']! - uptime()) <= 2, `uptime ${f['uptime_s']} s`)
  const ps = psCount()
  t.ok(Math.abs(f['processes']! - ps) <= 10, `processes ${f['processes']} ≈ ps ${ps}`)
})

t.test('the systeminformation path: os.uptime() and a process count refreshed once a minute', async t => {
  const sys = new SystemInput('/proc', 'win32')
  const at = async (now: number): Promise<Record<string, number>> => {
    const acc = new PointAccumulator(now)
    await sys.gather(acc, now)
    return acc.points[0]!.f as Record<string, number>
  }
  const first = await at(0)
  t.ok(Math.abs(first['uptime_s']! - uptime()) <= 2)
  t.ok(Math.abs(first['processes']! - psCount()) <= 10, `processes ${first['processes']}`)
  // 40 more processes: not seen until the minute is over.
  const children: ChildProcess[] = []
  t.teardown(() => { for (const c of children) c.kill() })
  for (let i = 0; i < 40; i++) children.push(spawn('sleep', ['60'], { stdio: 'ignore' }))
  // Past systeminformation's own 500 ms cache each time, so only ours can hide them.
  await new Promise(resolve => setTimeout(resolve, 600))
  t.equal((await at(30_000))['processes'], first['processes'], 'cached within the minute')
  await new Promise(resolve => setTimeout(resolve, 600))
  const later = (await at(60_000))['processes']!
  t.ok(later >= first['processes']! + 20, `counted again after a minute: ${first['processes']} -> ${later}`)
})
