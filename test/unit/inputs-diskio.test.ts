// diskio input: the /proc/diskstats parser on recorded bytes, the whole-disk
// decision, this machine's disks (checked against /sys/block), and the
// systeminformation path.

import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { DiskIoInput, parseDiskstats, wholeDisks } from '../../agent/inputs/diskio.js'
import { PointAccumulator } from '../../agent/inputs/input.js'

const fixture = (rel: string): string => readFileSync(new URL(`../fixtures/proc/${rel}`, import.meta.url), 'utf8')

t.test('parseDiskstats on recorded bytes, in the 14-, 17- and 20-field formats', async t => {
  const real = parseDiskstats(fixture('debian12-vm/proc0/diskstats')) // kernel 6.18: 20 fields
  t.equal(real.length, 10)
  t.strictSame(real.find(d => d.device === 'vda'), { device: 'vda', readSectors: 4287866, writeSectors: 4962208 })
  t.strictSame(parseDiskstats(fixture('counter-wrap32/proc0/diskstats'))[0], { device: 'sda', readSectors: 4294967000, writeSectors: 4294966296 })
  t.strictSame(parseDiskstats(fixture('counter-reset/proc0/diskstats'))[0], { device: 'sda', readSectors: 9000000, writeSectors: 8000000 })
  // Linux before 2.6.25 listed partitions with 4 counters only: not enough to read, skipped.
  t.strictSame(parseDiskstats('   8    1 sda1 100 200 300 400\n\n'), [])
})

t.test('wholeDisks: disks, not their partitions or pseudo devices', async t => {
  const cases: Array<[string[], string[]]> = [
    [['loop0', 'ram0', 'zram0', 'sr0', 'fd0'], []],
    [['sda', 'sda1', 'sda2', 'sdb', 'sdaa', 'sdaa1'], ['sda', 'sdb', 'sdaa']],
    [['nvme0n1', 'nvme0n1p1', 'nvme1n1', 'nvme1n1p12'], ['nvme0n1', 'nvme1n1']],
    [['mmcblk0', 'mmcblk0p1', 'mmcblk0boot0', 'mmcblk0boot1'], ['mmcblk0']],
    [['vda', 'vda1', 'vda15', 'xvda', 'xvda1', 'hda', 'hda1'], ['vda', 'xvda', 'hda']],
    [['xvda1', 'xvda2'], ['xvda1', 'xvda2']], // a Xen guest that sees partitions only
    [['sda', 'sda1', 'dm-0', 'dm-1', 'md0', 'md127', 'md0p1'], ['sda', 'dm-0', 'dm-1', 'md0', 'md127']],
    [['loop0p1', 'nbd0'], ['loop0p1', 'nbd0']]
  ]
  for (const [names, want] of cases) t.strictSame(wholeDisks(names), want, names.join(' '))
})

t.test('this machine: whole disks as the kernel lists them in /sys/block', async t => {
  const io = new DiskIoInput()
  await io.gather(new PointAccumulator(0), 0)
  await new Promise(resolve => setTimeout(resolve, 100))
  const acc = new PointAccumulator(0)
  await io.gather(acc, 10_000)
  t.ok(acc.points.length >= 1, `disks: ${acc.points.map(p => p.tags?.['device']).join(', ')}`)
  for (const p of acc.points) {
    const dev = p.tags?.['device'] ?? ''
    t.ok(existsSync(`/sys/block/${dev}`) || !existsSync(`/sys/block/${dev.replace(/p?\d+$/, '')}`), `${dev} is a whole disk (or a partition whose disk is not listed)`)
    t.notMatch(dev, /^(loop|ram|zram)\d+$/)
    t.ok((p.f['read_bytes_per_sec'] as number) >= 0 && (p.f['write_bytes_per_sec'] as number) >= 0, `${dev}: rates not negative`)
  }
})

t.test('the systeminformation path, run on this machine: one "total" device', async t => {
  const io = new DiskIoInput('/proc', 'darwin')
  const first = new PointAccumulator(0)
  await io.gather(first, 0)
  t.strictSame(first.points, [], 'the first reading only sets the baseline')
  await new Promise(resolve => setTimeout(resolve, 600)) // systeminformation caches fsStats for 500 ms
  const acc = new PointAccumulator(0)
  await io.gather(acc, 10_000)
  t.strictSame(acc.points.map(p => p.tags), [{ device: 'total' }])
  t.ok((acc.points[0]?.f['read_bytes_per_sec'] as number) >= 0)
})
