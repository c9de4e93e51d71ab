// SNMP rates without a device: counter wraps of 32-bit counters, 64-bit
// counters that go down (reset), device restarts told from sysUpTime's own
// 497-day wrap, interface tables with and without ifXTable, UPS-MIB values.

import t from 'tap'
import { SnmpRates, snmpCounterDelta, uptimeRestarted } from '../../agent/inputs/snmp/counters.js'
import { IF_COLUMNS, readInterfaces, readUps, UPS_OIDS, type SnmpReader } from '../../agent/inputs/snmp/presets.js'
import type { SnmpValue } from '../../agent/inputs/snmp/session.js'
import { uptimeText } from '../../agent/inputs/snmp/check.js'

const W32 = 2n ** 32n

t.test('snmpCounterDelta: 32-bit wraps exactly, 64-bit wraps only from its top, else a reset', async t => {
  t.equal(snmpCounterDelta(100n, 350n, 32), 250n)
  const prev = W32 - 1000n
  t.equal(snmpCounterDelta(prev, 500n, 32), 1500n, '1000 to the wrap, 500 after it')
  t.equal(snmpCounterDelta(2n ** 63n, 10n, 64), undefined, 'a 64-bit counter that fell from mid-range was reset')
  t.equal(snmpCounterDelta(2n ** 64n - 100n, 50n, 64), 150n, 'a 64-bit counter at its top wrapped')
  t.equal(snmpCounterDelta(2n ** 60n, 2n ** 60n + 5n, 64), 5n, 'beyond 2^53 without loss')
})

t.test('uptimeRestarted: a restart, not the 497-day TimeTicks wrap', async t => {
  t.equal(uptimeRestarted(100_000, 103_000, 30_000), false, 'uptime went on')
  t.equal(uptimeRestarted(8_640_000, 1_500, 30_000), true, 'a day up, then 15 s: restarted')
  const nearWrap = 2 ** 32 - 1_000 // 10 s before the wrap
  t.equal(uptimeRestarted(nearWrap, 2_000, 30_000), false, 'wrapped: 10 s before + 20 s after = the 30 s elapsed')
  t.equal(uptimeRestarted(nearWrap, 500_000, 30_000), true, 'went back near the wrap but not by what elapsed: restarted')
})

t.test('SnmpRates: rates, restart forgets every counter, retain by scope', async t => {
  const r = new SnmpRates()
  r.observeUptime(1_000_000, 0)
  t.equal(r.rate('if:a', 1000n, 64, 0), undefined, 'first reading')
  r.observeUptime(1_001_000, 10_000)
  t.equal(r.rate('if:a', 11_000n, 64, 10_000), 1000, '10000 in 10 s')
  t.equal(r.observeUptime(300, 20_000), true, 'restarted')
  t.equal(r.restarts, 1)
  t.equal(r.rate('if:a', 500n, 64, 20_000), undefined, 'no rate across a restart')
  t.equal(r.rate('if:a', 1500n, 64, 30_000), 100)
  r.rate('oid:x', 1n, 32, 30_000)
  r.retain(new Set(), 'if:')
  t.equal(r.rate('if:a', 2000n, 64, 40_000), undefined, 'the interface key was dropped')
  t.equal(r.rate('oid:x', 11n, 32, 40_000), 1, 'keys outside the scope are kept')
  t.equal(r.discontinuity('3', 100), false)
  t.equal(r.discontinuity('3', 100), false)
  t.equal(r.discontinuity('3', 900), true, 'counters cleared on the device')
})

/** A device as a table of columns, for the presets. */
function reader (cols: Record<string, Record<string, SnmpValue>>, scalars: Record<string, SnmpValue> = {}): SnmpReader {
  return {
    get: async oids => oids.map(o => scalars[o]),
    walk: async col => new Map(Object.entries(cols[col] ?? {}))
  }
}
const int = (n: number): SnmpValue => ({ kind: 'int', n })
const c32 = (n: number): SnmpValue => ({ kind: 'counter32', n })
const c64 = (n: bigint): SnmpValue => ({ kind: 'counter64', n })
const s = (v: string): SnmpValue => ({ kind: 'string', s: v })

t.test('readInterfaces: HC counters, 32-bit fallback with a wrap, filters, down ports', async t => {
  const rates = new SnmpRates()
  const table = (hcIn: bigint, in32: number, inErr: number) => reader({
    [IF_COLUMNS.descr]: { 1: s('GigabitEthernet0/1'), 2: s('old-port') },
    [IF_COLUMNS.name]: { 1: s('Gi0/1') },
    [IF_COLUMNS.admin]: { 1: int(1), 2: int(1) },
    [IF_COLUMNS.oper]: { 1: int(1), 2: int(2) },
    [IF_COLUMNS.hcInOctets]: { 1: c64(hcIn) },
    [IF_COLUMNS.hcOutOctets]: { 1: c64(hcIn / 2n) },
    [IF_COLUMNS.inOctets]: { 1: c32(1), 2: c32(in32) },
    [IF_COLUMNS.outOctets]: { 2: c32(0) },
    [IF_COLUMNS.inErrors]: { 1: c32(inErr), 2: c32(0) },
    [IF_COLUMNS.highSpeed]: { 1: { kind: 'gauge', n: 1000 } }
  })
  const first = await readInterfaces(table(2n ** 40n, 2 ** 32 - 5000, 7), rates, 0)
  t.same(first.map(p => [p.tags?.['ifname'], p.fields['oper_up'], p.fields['admin_up']]), [['Gi0/1', 1, 1], ['old-port', 0, 1]], 'ifName, else ifDescr')
  t.equal(first[0]!.fields['speed_bps'], 1e9)
  t.equal(first[0]!.fields['rx_errors'], 7, 'errors as the device counts them')
  const second = await readInterfaces(table(2n ** 40n + 125_000_000n, 15_000, 27), rates, 10_000)
  t.equal(second[0]!.fields['rx_bytes_per_sec'], 12_500_000, 'HC counter: 125 MB in 10 s')
  t.equal(second[0]!.fields['tx_bytes_per_sec'], 6_250_000)
  t.equal(second[0]!.fields['rx_errors_per_sec'], 2, '20 errors in 10 s')
  t.equal(second[1]!.fields['rx_bytes_per_sec'], 2000, '32-bit counter wrapped: 5000 + 15000 in 10 s')
  const only = await readInterfaces(table(0n, 0, 0), new SnmpRates(), 0, ['Gi*'])
  t.same(only.map(p => p.tags?.['ifname']), ['Gi0/1'])
})

t.test('readUps: mains, battery, no UPS-MIB', async t => {
  const ups = (o: Partial<Record<keyof typeof UPS_OIDS, number>>) => reader({}, Object.fromEntries(Object.entries(o).map(([k, v]) => [UPS_OIDS[k as keyof typeof UPS_OIDS], int(v)])))
  t.same((await readUps(ups({ outputSource: 3, chargeRemaining: 100, minutesRemaining: 50, batteryStatus: 2 }), 0))?.fields, { on_battery: 0, charge_percent: 100, runtime_s: 3000, battery_status: 2, battery_low: 0 })
  t.match((await readUps(ups({ outputSource: 5, chargeRemaining: 40, minutesRemaining: 9, batteryStatus: 3, secondsOnBattery: 120 }), 0))?.fields, { on_battery: 1, charge_percent: 40, runtime_s: 540, battery_low: 1, seconds_on_battery: 120 })
  t.match((await readUps(ups({ secondsOnBattery: 5 }), 0))?.fields, { on_battery: 1 }, 'seconds on battery alone says so')
  t.equal(await readUps(reader({}), 0), undefined)
})

t.test('uptimeText', async t => {
  t.equal(uptimeText(((3 * 86400) + (4 * 3600) + 5 * 60 + 6) * 100 + 99), '3d 04:05:06')
  t.equal(uptimeText(4200), '00:00:42')
})
