// type: snmp against a real snmpd started by the test: v2c and v3 (authPriv,
// SHA/AES) polls of system and interfaces (loopback counters rise after
// traffic), the UPS-MIB preset switched to battery with snmpset, custom OIDs,
// and the failures an operator meets: wrong community, wrong v3 key, no device.

import t from 'tap'
import { execFile } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { snmpCheck, type SnmpCheckSpec } from '../../agent/inputs/snmp/check.js'
import type { SnmpTarget } from '../../agent/inputs/snmp/session.js'
import type { CheckResult } from '../../agent/inputs/checks/types.js'
import { ServiceChecks } from '../../agent/inputs/checks/service.js'
import { PointAccumulator } from '../../agent/inputs/input.js'
import { checkAgentConfig } from '../../agent/config.js'
import { freeUdpPort, startSnmpd, UPS_START, type Snmpd } from '../helpers/snmpd.js'

const run = async (c: (s: AbortSignal) => Promise<CheckResult>): Promise<CheckResult> => await c(new AbortController().signal)
const v2c = (d: Snmpd, o: Partial<SnmpTarget> = {}): SnmpTarget => ({ host: '127.0.0.1', port: d.port, version: '2c', community: d.community, requestTimeoutMs: 1000, retries: 1, ...o })
const v3 = (d: Snmpd, keys: { authKey?: string, privKey?: string } = {}): SnmpTarget => ({
  host: '127.0.0.1', port: d.port, version: '3', requestTimeoutMs: 1000, retries: 0,
  user: { name: d.user.name, level: 'authPriv', authProtocol: 'sha', authKey: keys.authKey ?? d.user.authKey, privProtocol: 'aes', privKey: keys.privKey ?? d.user.privKey }
})
const spec = (target: SnmpTarget, o: Partial<SnmpCheckSpec> = {}): SnmpCheckSpec => ({ target, preset: 'system', oids: [], interfaces: [], ...o })

/** snmpget prints one value with the net-snmp tools (-Oqv: the value alone), the reference the check is compared with. */
function snmpget (d: Snmpd, oid: string): Promise<string> {
  return new Promise((resolve, reject) => execFile('snmpget', ['-v2c', '-c', d.community, '-Oqv', `127.0.0.1:${d.port}`, oid], { env: d.env }, (err, out) => err !== null ? reject(err) : resolve(out.trim())))
}

/** blast sends n bytes of UDP to a closed loopback port: they count on lo's rx and tx. */
async function blast (bytes: number): Promise<void> {
  const port = await freeUdpPort()
  const s = createSocket('udp4')
  const chunk = Buffer.alloc(60_000)
  for (let sent = 0; sent < bytes; sent += chunk.length) await new Promise<void>((resolve, reject) => s.send(chunk, port, '127.0.0.1', err => err ? reject(err) : resolve()))
  s.close()
}

t.test('v2c and v3 system: reachability, sysName, uptime; secrets in no message', async t => {
  const d = await startSnmpd(t)
  for (const [label, target] of [['v2c', v2c(d)], ['v3 authPriv', v3(d)]] as const) {
    const r = await run(snmpCheck(spec(target)))
    t.equal(r.up, true, `${label}: up (${r.message})`)
    t.equal(r.fields?.['sys_name'], d.sysName, `${label}: sysName`)
    t.ok(typeof r.fields?.['uptime_s'] === 'number' && (r.fields['uptime_s'] as number) < 600, `${label}: uptime_s of a fresh snmpd`)
    t.match(r.message, new RegExp(`^${d.sysName} up 00:0`), label)
  }
  const wrongCommunity = await run(snmpCheck(spec(v2c(d, { community: 'not-the-one', requestTimeoutMs: 300, retries: 0 }))))
  t.equal(wrongCommunity.up, false)
  t.match(wrongCommunity.message, /no answer within 300 ms × 1 tries: .*wrong community/)
  t.notMatch(wrongCommunity.message, /not-the-one/, 'the community is not in the message')
  const wrongAuth = await run(snmpCheck(spec(v3(d, { authKey: 'wrong-auth-key-1' }))))
  t.equal(wrongAuth.up, false, wrongAuth.message)
  t.match(wrongAuth.message, /authentication failed|wrong authKey/)
  t.notMatch(wrongAuth.message, /wrong-auth-key-1/)
  const wrongPriv = await run(snmpCheck(spec(v3(d, { privKey: 'wrong-priv-key-1' }))))
  t.equal(wrongPriv.up, false, 'a wrong privKey is down too')
  t.match(wrongPriv.message, /wrong privKey/)
  t.notMatch(wrongPriv.message, /wrong-priv-key-1/)
  const nobody = await run(snmpCheck(spec(v2c(d, { port: await freeUdpPort(), requestTimeoutMs: 200, retries: 1 }))))
  t.same([nobody.up, nobody.points], [false, undefined], 'no device: up=0, no points, no crash')
  t.match(nobody.message, /no answer within 200 ms × 2 tries/)
})

t.test('interfaces: lo up with rising 64-bit counters; rates from the second poll', async t => {
  const d = await startSnmpd(t)
  let now = 1_700_000_000_000
  const check = snmpCheck(spec(v2c(d), { preset: 'interfaces', now: () => now }))
  const first = await run(check)
  t.equal(first.up, true, first.message)
  const lo = (r: CheckResult) => r.points?.find(p => p.m === 'snmp_if' && p.tags?.['ifname'] === 'lo')
  const lo1 = lo(first)
  t.ok(lo1, 'an snmp_if point for lo')
  t.equal(lo1?.fields['oper_up'], 1)
  t.equal(lo1?.fields['admin_up'], 1)
  t.equal(lo1?.fields['rx_bytes_per_sec'], undefined, 'no rate from one reading')
  const ifindex = Number(lo1?.fields['ifindex'])
  const before = BigInt(await snmpget(d, `1.3.6.1.2.1.31.1.1.1.6.${ifindex}`))
  const bytes = 6_000_000
  await blast(bytes)
  // snmpd caches the interface table for a few seconds: wait until it shows the traffic.
  for (let i = 0; i < 100 && BigInt(await snmpget(d, `1.3.6.1.2.1.31.1.1.1.6.${ifindex}`)) - before < BigInt(bytes); i++) await new Promise(resolve => setTimeout(resolve, 200))
  now += 10_000
  const second = await run(check)
  const lo2 = lo(second)!
  const rx = lo2.fields['rx_bytes_per_sec'] as number
  t.ok(rx >= bytes / 10, `rx_bytes_per_sec ${rx} ≥ ${bytes} bytes / 10 s`)
  t.ok((lo2.fields['tx_bytes_per_sec'] as number) >= bytes / 10, 'tx too (loopback)')
  t.equal(lo2.fields['rx_errors'], Number(await snmpget(d, `1.3.6.1.2.1.2.2.1.14.${ifindex}`)), 'rx_errors is the device counter')
  t.match(second.message, /\d+ interfaces/)
  const overV3 = await run(snmpCheck(spec(v3(d), { preset: 'interfaces' })))
  t.same(overV3.points?.map(p => p.tags?.['ifname']).sort(), first.points?.map(p => p.tags?.['ifname']).sort(), 'v3 authPriv walks the same interfaces (GETBULK over v3)')
  const only = await run(snmpCheck(spec(v2c(d), { preset: 'interfaces', interfaces: ['l?'] })))
  t.same(only.points?.map(p => p.tags?.['ifname']), ['lo'], 'interfaces: globs select by ifName')
})

t.test('ups: on mains, then on battery (UPS-MIB objects changed with snmpset)', async t => {
  const d = await startSnmpd(t, { withUps: true })
  const check = snmpCheck(spec(v3(d), { preset: 'ups' }))
  const mains = await run(check)
  const p1 = mains.points?.find(p => p.m === 'ups')
  t.same([p1?.fields['on_battery'], p1?.fields['charge_percent'], p1?.fields['runtime_s'], p1?.fields['battery_low']], [0, UPS_START['1.3.6.1.2.1.33.1.2.4.0'], UPS_START['1.3.6.1.2.1.33.1.2.3.0']! * 60, 0])
  t.match(mains.message, /on mains/)
  await d.set('1.3.6.1.2.1.33.1.4.1.0', 5) // upsOutputSource: battery
  await d.set('1.3.6.1.2.1.33.1.2.4.0', 37)
  await d.set('1.3.6.1.2.1.33.1.2.3.0', 12)
  await d.set('1.3.6.1.2.1.33.1.2.1.0', 3) // batteryLow
  const battery = await run(check)
  const p2 = battery.points?.find(p => p.m === 'ups')
  t.same([p2?.fields['on_battery'], p2?.fields['charge_percent'], p2?.fields['runtime_s'], p2?.fields['battery_low']], [1, 37, 12 * 60, 1])
  t.match(battery.message, /ON BATTERY, charge 37%, runtime 720 s/)
  const none = await run(snmpCheck(spec(v2c(await startSnmpd(t)), { preset: 'ups' })))
  t.equal(none.up, true)
  t.match(none.message, /no UPS-MIB/)
})

t.test('custom OIDs: gauge, string (UTF-8), counter rate; missing ones named', async t => {
  const d = await startSnmpd(t)
  let now = 1_700_000_000_000
  const oids = [
    { oid: '1.3.6.1.2.1.2.1.0', name: 'if_number', type: 'gauge' as const },
    { oid: '1.3.6.1.2.1.1.6.0', name: 'location', type: 'string' as const },
    { oid: '1.3.6.1.2.1.31.1.1.1.6.1', name: 'lo_in', type: 'counter' as const },
    { oid: '1.3.6.1.4.1.99999.1.0', name: 'nothing', type: 'gauge' as const }
  ]
  const check = snmpCheck(spec(v2c(d), { oids, now: () => now }))
  const r1 = await run(check)
  const p1 = r1.points?.find(p => p.m === 'snmp')
  t.equal(p1?.fields['if_number'], Number(await snmpget(d, '1.3.6.1.2.1.2.1.0')))
  t.equal(p1?.fields['location'], d.sysLocation)
  t.equal(p1?.fields['lo_in'], undefined, 'a counter has no rate on the first poll')
  t.match(r1.message, /not on the device: nothing/)
  const a = BigInt(await snmpget(d, '1.3.6.1.2.1.31.1.1.1.6.1'))
  await blast(3_000_000)
  for (let i = 0; i < 100 && BigInt(await snmpget(d, '1.3.6.1.2.1.31.1.1.1.6.1')) - a < 3_000_000n; i++) await new Promise(resolve => setTimeout(resolve, 200))
  now += 5_000
  const r2 = await run(check)
  t.ok((r2.points?.find(p => p.m === 'snmp')?.fields['lo_in'] as number) >= 3_000_000 / 5, 'the counter as a rate per second')
})

t.test('agent.yaml snmp check through the runner: device tags on every point', async t => {
  const d = await startSnmpd(t)
  process.env['KANSHI_TEST_COMMUNITY'] = d.community
  t.teardown(() => { delete process.env['KANSHI_TEST_COMMUNITY'] })
  const c = checkAgentConfig('/etc/kanshi/agent.yaml', {
    collector: { url: 'ws://127.0.0.1:1/v1/agent', token: 'x' },
    checks: [{ name: 'core-switch-if', type: 'snmp', host: '127.0.0.1', port: d.port, communityEnv: 'KANSHI_TEST_COMMUNITY', preset: 'interfaces', device: 'core-switch', site: 'honcho', parent: 'router-1' }]
  })
  const checks = new ServiceChecks(c.checks)
  await checks.runOnce(c.checks[0]!)
  const acc = new PointAccumulator(Date.now())
  await checks.gather(acc)
  const service = acc.points.find(p => p.m === 'service')
  t.same(service?.tags, { device: 'core-switch', host: 'core-switch', role: 'device', site: 'honcho', parent: 'router-1', service: 'core-switch-if', check: 'snmp' })
  t.equal(service?.f['up'], 1)
  const ifs = acc.points.filter(p => p.m === 'snmp_if')
  t.ok(ifs.length >= 1, `${ifs.length} snmp_if points`)
  for (const p of ifs) t.match(p.tags, { device: 'core-switch', host: 'core-switch', site: 'honcho', parent: 'router-1' })
  t.notMatch(JSON.stringify(acc.points), d.community, 'the community is in no point')
})
