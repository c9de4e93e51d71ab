// mem input: the /proc/meminfo parser on recorded bytes, and this machine's
// numbers through /proc and through systeminformation (the Windows path).

import t from 'tap'
import { readFileSync } from 'node:fs'
import { totalmem } from 'node:os'
import { MemInput, memFields, meminfoReading, parseMeminfo } from '../../agent/inputs/mem.js'
import { PointAccumulator } from '../../agent/inputs/input.js'

const fixture = (rel: string): string => readFileSync(new URL(`../fixtures/proc/${rel}`, import.meta.url), 'utf8')

t.test('parseMeminfo on a recorded /proc/meminfo: kB to bytes, counts left alone', async t => {
  const m = parseMeminfo(fixture('debian12-vm/proc0/meminfo'))
  t.equal(m.get('MemTotal'), 24684096 * 1024)
  t.equal(m.get('MemAvailable'), 24229284 * 1024)
  t.equal(m.get('Active(anon)'), 1548 * 1024, 'keys with parentheses')
  t.equal(m.get('HugePages_Total'), 0, 'a count, not kB')
  t.equal(m.get('VmallocTotal'), 34359738367 * 1024, 'values beyond 32 bits')
  t.equal(m.get('SwapTotal'), 0)
})

t.test('meminfoReading', async t => {
  t.strictSame(meminfoReading(parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 600 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n')), { total: 1024000, available: 614400, swapTotal: 0, swapFree: 0 })
  // Before Linux 3.14: no MemAvailable, so MemFree + Buffers + Cached = 100 + 50 + 250
  t.equal(meminfoReading(parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n')).available, 400 * 1024)
  t.throws(() => meminfoReading(parseMeminfo('MemFree: 100 kB\n')), /no MemTotal/)
  t.strictSame(memFields({ total: 0, available: 0, swapTotal: 0, swapFree: 0 }), { used_percent: 0, used_bytes: 0, available_bytes: 0, total_bytes: 0, swap_used_percent: 0 }, 'no division by zero')
})

t.test('this machine, /proc and systeminformation agree', async t => {
  const proc = new PointAccumulator(0)
  await new MemInput('/proc', 'linux').gather(proc)
  const p = proc.points[0]!.f as Record<string, number>
  t.equal(p['total_bytes'], totalmem(), 'MemTotal is what the kernel reports to libuv')
  t.ok(p['used_percent']! > 0 && p['used_percent']! < 100, `used ${p['used_percent']} %`)
  t.equal(p['used_bytes']! + p['available_bytes']!, p['total_bytes'])
  t.ok(p['swap_used_percent']! >= 0 && p['swap_used_percent']! <= 100)

  const generic = new PointAccumulator(0)
  await new MemInput('/proc', 'win32').gather(generic)
  const g = generic.points[0]!.f as Record<string, number>
  t.equal(g['total_bytes'], p['total_bytes'], 'the same total through systeminformation')
  t.ok(Math.abs(g['used_percent']! - p['used_percent']!) < 5, `used ${g['used_percent']} % vs ${p['used_percent']} % a moment apart`)
  t.strictSame(Object.keys(g).sort(), Object.keys(p).sort(), 'the same fields')
})
