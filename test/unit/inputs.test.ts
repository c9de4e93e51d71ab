// The system inputs on recorded /proc snapshots (expected values worked out by
// hand from test/fixtures/proc/{a,b}), and on this machine's real /proc.

import t, { type Test } from 'tap'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { PointAccumulator } from '../../agent/inputs/input.js'
import { createSystemInputs } from '../../agent/inputs/index.js'
import { parseMounts, selectMounts, diskFields, unescapeMount, DiskInput } from '../../agent/inputs/disk.js'
import { wholeDisks } from '../../agent/inputs/diskio.js'
import { parseNetDev } from '../../agent/inputs/net.js'
import type { Point } from '../../protocol/messages.js'

const fixtures = new URL('../fixtures/proc/', import.meta.url).pathname

/** gatherTwice runs the inputs on snapshot a at t=0 and snapshot b at t=10 s, returning b's points. */
async function gatherTwice (t: Test, names: string[]): Promise<Point[]> {
  const root = await mkdtemp(join(tmpdir(), 'kanshi-proc-'))
  t.teardown(async () => await rm(root, { recursive: true, force: true }))
  await cp(join(fixtures, 'a'), root, { recursive: true })
  const inputs = createSystemInputs({ enabled: names, procRoot: root, platform: 'linux' })
  for (const i of inputs) await i.gather(new PointAccumulator(0), 0)
  await cp(join(fixtures, 'b'), root, { recursive: true, force: true })
  const acc = new PointAccumulator(10_000)
  for (const i of inputs) await i.gather(acc, 10_000)
  return acc.points
}

t.test('cpu: percentages from /proc/stat deltas, load from /proc/loadavg', async t => {
  const [p] = await gatherTwice(t, ['cpu'])
  // deltas: user 60, system 20, idle 100, iowait 20 of 200 jiffies
  t.same(p!.f, { usage_percent: 40, user_percent: 30, system_percent: 10, iowait_percent: 10, load1: 0.5, load5: 0.25, load15: 0.1 })
})

t.test('mem: used = MemTotal - MemAvailable', async t => {
  const [p] = await gatherTwice(t, ['mem'])
  t.same(p!.f, { used_percent: 75, used_bytes: 6_144_000_000, available_bytes: 2_048_000_000, total_bytes: 8_192_000_000, swap_used_percent: 25 })
})

t.test('system: uptime and process count', async t => {
  const [p] = await gatherTwice(t, ['system'])
  t.same(p!.f, { uptime_s: 12345, processes: 345 })
})

t.test('diskio: whole disks only, rates in bytes/s, nothing after a counter reset', async t => {
  const pts = await gatherTwice(t, ['diskio'])
  t.same(pts.map(p => [p.tags, p.f]), [[{ device: 'sda' }, { read_bytes_per_sec: 102400, write_bytes_per_sec: 102400 }]])
  t.same(wholeDisks(['loop0', 'sda', 'sda1', 'nvme0n1', 'nvme0n1p2', 'mmcblk0', 'mmcblk0p1', 'dm-0', 'md0', 'zram0', 'vda', 'vda15']), ['sda', 'nvme0n1', 'mmcblk0', 'dm-0', 'md0', 'vda'])
})

t.test('net: 32-bit wrap handled, loopback skipped, vanished NIC gone, error counters kept', async t => {
  const pts = await gatherTwice(t, ['net'])
  t.same(pts.map(p => [p.tags, p.f]), [[{ iface: 'eth0' }, { rx_errors: 3, tx_errors: 1, rx_bytes_per_sec: 100, tx_bytes_per_sec: 1000 }]])
})

t.test('disk: mount selection and df-style numbers', async t => {
  const mounts = parseMounts(readFileSync(join(fixtures, 'a/self/mounts'), 'utf8'))
  t.same(selectMounts(mounts).map(m => [m.mount, m.fstype]), [['/', 'ext4'], ['/mnt/my disk', 'xfs'], ['/mnt/共有', 'ext4']], 'pseudo filesystems and the bind mount dropped')
  t.same(selectMounts(mounts, { ignoreMounts: ['/mnt/*'] }).map(m => m.mount), ['/'])
  t.same(selectMounts(mounts, { includeFs: ['xfs'] }).map(m => m.mount), ['/mnt/my disk'])
  t.equal(unescapeMount('/a\\040b\\011c\\134d'), '/a b\tc\\d')
  // 1000 blocks of 4096 bytes, 400 free, 300 available to users: used 600, df's used% = 600 / (600 + 300)
  t.same(diskFields(1000, 400, 300, 4096), { used_percent: 66.67, used_bytes: 2_457_600, free_bytes: 1_228_800, total_bytes: 4_096_000 })
})

t.test('parsers read the genuine files of a Debian machine', async t => {
  const net = parseNetDev(readFileSync(join(fixtures, 'real/net/dev'), 'utf8'))
  t.ok(net.some(n => n.iface === 'lo' && n.rxBytes > 0), 'lo parsed with its byte counter')
  const mounts = selectMounts(parseMounts(readFileSync(join(fixtures, 'real/self/mounts'), 'utf8')))
  t.ok(mounts.length >= 1 && mounts.every(m => !['proc', 'sysfs', 'tmpfs', 'cgroup2'].includes(m.fstype)), `real mounts kept: ${mounts.map(m => m.mount).join(', ')}`)
})

t.test('this machine: every input gives sane values twice in a row', async t => {
  const inputs = createSystemInputs()
  for (const i of inputs) await i.gather(new PointAccumulator(Date.now()), Date.now())
  await new Promise(resolve => setTimeout(resolve, 300))
  const now = Date.now()
  const acc = new PointAccumulator(now)
  for (const i of inputs) await i.gather(acc, now)
  const by = (m: string) => acc.points.filter(p => p.m === m)
  const cpu = by('cpu')[0]!.f
  t.ok((cpu['usage_percent'] as number) >= 0 && (cpu['usage_percent'] as number) <= 100, `cpu ${cpu['usage_percent']}%`)
  t.ok((by('mem')[0]!.f['total_bytes'] as number) > 0)
  const disks = by('disk')
  t.ok(disks.length >= 1 && disks.every(d => (d.f['total_bytes'] as number) > 0), `${disks.length} disks`)
  t.ok((by('system')[0]!.f['processes'] as number) > 0)
  t.ok(by('net').length >= 0)
})

t.test('the systeminformation path (Windows and others) gives the same measurements', async t => {
  const inputs = createSystemInputs({ platform: 'win32' })
  for (const i of inputs) await i.gather(new PointAccumulator(Date.now()), Date.now())
  await new Promise(resolve => setTimeout(resolve, 300))
  const acc = new PointAccumulator(Date.now())
  for (const i of inputs) await i.gather(acc, Date.now())
  const names = new Set(acc.points.map(p => p.m))
  for (const m of ['cpu', 'mem', 'disk', 'system']) t.ok(names.has(m), `${m} via systeminformation`)
  const cpu = acc.points.find(p => p.m === 'cpu')!.f
  t.notOk('load1' in cpu, 'no load averages reported as win32 (Windows has none)')
  const mem = acc.points.find(p => p.m === 'mem')!.f
  t.ok((mem['used_percent'] as number) > 0 && (mem['used_percent'] as number) < 100)
})

t.test('a statfs that fails is reported, the other mounts still counted', async t => {
  const root = await mkdtemp(join(tmpdir(), 'kanshi-proc-'))
  t.teardown(async () => await rm(root, { recursive: true, force: true }))
  const { mkdir, writeFile } = await import('node:fs/promises')
  await mkdir(join(root, 'self'))
  await writeFile(join(root, 'self/mounts'), `/dev/root / ext4 rw 0 0\n/dev/missing ${root}/does-not-exist ext4 rw 0 0\n`)
  const d = new DiskInput({}, root, 'linux', 500)
  const acc = new PointAccumulator(0)
  await t.rejects(d.gather(acc), /does-not-exist/)
  t.same(acc.points.map(p => p.tags?.['mount']), ['/'], 'the good mount is still reported')
})
