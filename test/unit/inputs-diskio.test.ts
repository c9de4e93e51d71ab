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

t.test('Windows: physical-disk counters through the persistent PowerShell, as rates per disk', async t => {
  const { DiskIoInput, parseWinDiskPerf, WIN_DISK_PERF } = await import('../../agent/inputs/diskio.js')
  const { PointAccumulator } = await import('../../agent/inputs/input.js')
  // The shape ConvertTo-Json -Compress gives for WIN_DISK_PERF (BOM and CRLF as a Windows pipe may add them).
  const outputs = [
    '\uFEFF[{"n":"0 C:","r":1000000000,"w":2000000000},{"n":"1 D: E:","r":50000,"w":0}]\r\n',
    '[{"n":"0 C:","r":1010000000,"w":2020000000},{"n":"1 D: E:","r":50000,"w":4096}]\r\n'
  ]
  const asked: string[] = []
  const input = new DiskIoInput('/nonexistent', 'win32', async cmd => { asked.push(cmd); return outputs.shift() ?? '' })
  await input.gather(new PointAccumulator(0), 0)
  const acc = new PointAccumulator(10_000)
  await input.gather(acc, 10_000)
  t.same(asked, [WIN_DISK_PERF, WIN_DISK_PERF])
  t.same(acc.points.map(p => [p.tags!['device'], p.f['read_bytes_per_sec'], p.f['write_bytes_per_sec']]), [['0 C:', 1_000_000, 2_000_000], ['1 D: E:', 0, 410]])
  t.same(parseWinDiskPerf('{"n":"0 C:","r":5,"w":6}'), [{ device: '0 C:', readBytes: 5, writeBytes: 6 }], 'a lone object (one disk) is read too')
  t.same(parseWinDiskPerf('[{"n":"_Total","r":1,"w":1}]'), [])
  await t.rejects(new DiskIoInput('/x', 'win32', async () => '').gather(new PointAccumulator(0), 0), /no physical disk performance counters/)
  await t.rejects(new DiskIoInput('/x', 'win32', async () => 'Get-CimInstance : Access denied').gather(new PointAccumulator(0), 0), /unreadable performance counter output: Get-CimInstance : Access denied/)
})
