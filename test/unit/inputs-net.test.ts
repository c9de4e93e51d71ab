// net input: the /proc/net/dev parser on recorded bytes, interface filtering,
// and this machine's interfaces through /proc and through systeminformation.

import t from 'tap'
import { mkdir, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { NetInput, parseNetDev } from '../../agent/inputs/net.js'
import { PointAccumulator } from '../../agent/inputs/input.js'
import { tmpDir } from '../helpers/tmp.js'

const fixture = (rel: string): string => readFileSync(new URL(`../fixtures/proc/${rel}`, import.meta.url), 'utf8')

t.test('parseNetDev on recorded bytes', async t => {
  t.strictSame(parseNetDev(fixture('debian12-vm/proc0/net/dev')), [
    { iface: 'lo', rxBytes: 791857021, rxErrors: 0, txBytes: 791857021, txErrors: 0 },
    { iface: 'ifb0', rxBytes: 0, rxErrors: 0, txBytes: 0, txErrors: 0 },
    { iface: 'ifb1', rxBytes: 0, rxErrors: 0, txBytes: 0, txErrors: 0 },
    { iface: 'eth0', rxBytes: 351088523, rxErrors: 0, txBytes: 1357829, txErrors: 0 }
  ], 'header lines skipped, every interface read')
  t.strictSame(parseNetDev(fixture('counter-wrap32/proc1/net/dev'))[1], { iface: 'enx0c37965a1b2c', rxBytes: 12704, rxErrors: 5, txBytes: 3000, txErrors: 0 }, 'a long name touching the colon')
  t.throws(() => parseNetDev('  eth0: 1 2 3\n'), /unreadable line/)
})

t.test('ignoreInterfaces: names and globs, loopback by default', async t => {
  const root = await tmpDir(t)
  await mkdir(join(root, 'net'))
  await writeFile(join(root, 'net/dev'), fixture('nic-vanished/proc2/net/dev'))
  const ifaces = async (ignoreInterfaces?: string[]): Promise<string[]> => {
    const acc = new PointAccumulator(0)
    await new NetInput(ignoreInterfaces === undefined ? {} : { ignoreInterfaces }, root, 'linux').gather(acc, 0)
    return acc.points.map(p => p.tags?.['iface'] ?? '')
  }
  t.strictSame(await ifaces(), ['eth0', 'eth1', 'wlan0'])
  t.strictSame(await ifaces(['lo', 'eth*']), ['wlan0'])
  t.strictSame(await ifaces([]), ['lo', 'eth0', 'eth1', 'wlan0'], 'an empty list keeps loopback')
  t.strictSame(await ifaces(['wlan?', 'eth1']), ['lo', 'eth0'])
})

t.test('this machine: /proc and systeminformation see the same interfaces', async t => {
  const proc = new NetInput({}, '/proc', 'linux')
  const generic = new NetInput({}, '/proc', 'win32')
  await proc.gather(new PointAccumulator(0), 0)
  await generic.gather(new PointAccumulator(0), 0)
  await new Promise(resolve => setTimeout(resolve, 600)) // past systeminformation's own 500 ms cache
  const a = new PointAccumulator(1000)
  await proc.gather(a, 1000)
  const b = new PointAccumulator(1000)
  await generic.gather(b, 1000)
  const names = (acc: PointAccumulator): string[] => acc.points.map(p => p.tags?.['iface'] ?? '').sort()
  const kernel = Object.keys(networkInterfaces()).filter(n => n !== 'lo')
  t.ok(kernel.every(n => names(a).includes(n)), `every configured interface (${kernel.join(', ')}) among ${names(a).join(', ')}`)
  t.notOk(names(a).includes('lo'), 'loopback skipped')
  t.ok(a.points.every(p => ['rx_bytes_per_sec', 'tx_bytes_per_sec', 'rx_errors', 'tx_errors'].every(k => (p.f[k] as number) >= 0)), 'all four fields, none negative')
  t.ok(kernel.every(n => names(b).includes(n)), `systeminformation: ${names(b).join(', ')}`)
  t.ok(b.points.every(p => typeof p.f['rx_bytes_per_sec'] === 'number' && typeof p.f['rx_errors'] === 'number'), 'systeminformation: rates and errors')
})
