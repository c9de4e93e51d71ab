// Device identity at stamp time, the device policy, the topology of parents, and the rule
// keys devices need (count: consecutive samples; when: other fields of the point).

import t from 'tap'
import { decodeEntry, encodeEntry, stamp } from '../../collector/state/entry.js'
import { devicePolicy, newDeviceSink, PING_MEMORY_MS } from '../../collector/state/device-stamp.js'
import { AgentAuth, sha256Hex } from '../../collector/ingest/auth.js'
import { descendants, downAncestor, hostTopology } from '../../collector/alerting/topology.js'
import { DependencyStage, RELEASE_AFTER_MS } from '../../collector/alerting/notify/dependency.js'
import { candidates } from '../../collector/alerting/notify/notifier.js'
import { SqliteAlertStore } from '../../collector/alerting/store-sqlite.js'
import { tmpDir } from '../helpers/tmp.js'
import { checkAgents } from '../../collector/config/agents.js'
import { DeviceRegistry, MAX_DEVICES } from '../../collector/ingest/devices.js'
import { Evaluator } from '../../collector/alerting/evaluator.js'
import { checkRule, type Rule } from '../../collector/alerting/rules.js'
import type { Batch, Point } from '../../protocol/messages.js'

const agents = new Set(['poller', 'web01', 'kiosk-1'])
const poller = { id: 'poller', role: 'server', site: '本庁舎', devices: devicePolicy(['sw-*', 'web01', 'ups'], agents) }

t.test('device policy: patterns, never an agent id, false allows none', async t => {
  const p = devicePolicy(['sw-*', 'ups'], agents)!
  t.same(['sw-1', 'sw-', 'ups', 'ups-2', 'xsw-1', 'web01'].map(n => p.allows(n)), [true, true, true, false, false, false])
  t.equal(devicePolicy(true, agents)!.allows('kiosk-1'), false, 'true allows any name but an agent id')
  t.equal(devicePolicy(true, agents)!.allows('anything.example'), true)
  t.equal(devicePolicy(false, agents), undefined)
  t.equal(devicePolicy([], agents), undefined)
  t.equal(devicePolicy(['a.b'], agents)!.allows('aXb'), false, 'a dot is a dot, not a wildcard')
})

t.test('stamp: device points keep their device identity; refused ones are dropped and counted', async t => {
  const points: Point[] = [
    { m: 'cpu', t: 1, tags: { host: 'forged', poller: 'forged' }, f: { usage_percent: 1 } },
    { m: 'service', t: 2, tags: { device: 'sw-1', host: 'sw-1', check: 'ping', parent: 'core' }, f: { up: 0, rtt_ms: 0 } },
    { m: 'service', t: 2, tags: { device: 'sw-1', host: 'sw-1', check: 'snmp' }, f: { up: 1 } },
    { m: 'service', t: 2, tags: { device: 'sw-2', host: 'sw-2', check: 'snmp', site: '別館', role: 'switch' }, f: { up: 1 } },
    { m: 'service', t: 3, tags: { device: 'web01', host: 'web01', check: 'ping' }, f: { up: 1 } },
    { m: 'ups', t: 3, tags: { device: 'printer-1', host: 'printer-1' }, f: { on_battery: 0 } },
    // diskio's own device tag (a disk, not a polled device): the agent's series, stamped as usual
    { m: 'diskio', t: 3, tags: { device: 'vda' }, f: { read_bytes_per_sec: 1 } }
  ]
  const batch: Batch = { type: 'batch', seq: 7, points, events: [{ t: 4, source: 'snmptrap:sw-1', level: 'warning', message: 'linkDown', tags: { device: 'sw-1', host: 'sw-1' } }, { t: 4, source: 'snmptrap:x', level: 'warning', message: 'm', tags: { device: 'x', host: 'x' } }] } as Batch
  const sink = newDeviceSink()
  const e = stamp(poller, batch, 100, sink)
  t.same(sink, { seen: 7, refused: 3, refusedName: 'web01' }, '5 device points and 2 events seen; web01, printer-1 and the event from x refused')
  t.same(e.p.map(p => [p.m, p.tags!['host'], p.tags!['poller'] ?? '-']), [
    ['cpu', 'poller', '-'], ['service', 'sw-1', 'poller'], ['service', 'sw-1', 'poller'], ['service', 'sw-2', 'poller'],
    ['diskio', 'poller', '-'], ['host_up', 'sw-1', 'poller'], ['host_up', 'sw-2', 'poller'], ['host_up', 'poller', '-']
  ])
  t.same(e.p[4]!.tags, { device: 'vda', host: 'poller', role: 'server', site: '本庁舎' }, 'diskio keeps device=vda as a tag of the agent\'s own series')
  t.same(e.p[5], { m: 'host_up', t: 2, tags: { host: 'sw-1', role: 'device', site: '本庁舎', poller: 'poller', parent: 'core' }, f: { up: 0 } }, 'sw-1 is pinged: its ping decides, not its SNMP result')
  t.same(e.p[6]!.tags, { host: 'sw-2', role: 'switch', site: '別館', poller: 'poller' }, 'an SNMP-only device is up by SNMP; its own role and site kept')
  t.same(e.e!.map(x => [x.tags!['host'], x.tags!['poller']]), [['sw-1', 'poller']])
  t.same(decodeEntry(encodeEntry(e)), e, 'stored as its entry, it replays as stamped')
})

t.test('stamp: ping decides a pinged device even when its SNMP answer comes in another batch', async t => {
  const id = { id: 'poller', role: 'server', site: 's', devices: devicePolicy(['sw-*'], agents) }
  const T0 = 1_700_000_000_000
  const one = (seq: number, t0: number, check: string, up: number, device = 'sw-9'): Array<[string, number, number]> => stamp(id, { type: 'batch', seq, points: [{ m: 'service', t: t0, tags: { device, host: device, check }, f: { up } }] } as Batch, t0)
    .p.filter(p => p.m === 'host_up' && p.tags!['poller'] !== undefined).map(p => [p.tags!['host']!, p.t, p.f['up'] as number])
  t.same(one(1, T0, 'ping', 0), [['sw-9', T0, 0]], 'ICMP filtered: down by ping')
  t.same(one(2, T0 + 1000, 'snmp', 1), [], 'SNMP answers in the next batch: no host_up from it, no flap')
  t.same(one(3, T0 + PING_MEMORY_MS, 'snmp', 1), [], 'still pinged within the memory')
  t.same(one(4, T0 + PING_MEMORY_MS + 1001, 'snmp', 1), [['sw-9', T0 + PING_MEMORY_MS + 1001, 1]], 'ping gone longer than PING_MEMORY_MS: SNMP decides')
  t.same(one(5, T0 + 2000, 'snmp', 0, 'sw-only'), [['sw-only', T0 + 2000, 0]], 'an SNMP-only device is decided by SNMP in every batch')
  t.same(one(6, T0 + 3000, 'snmp', 1, 'sw-only'), [['sw-only', T0 + 3000, 1]])
  // The memory lives in the agent's device policy and survives a reload of agents[].
  const auth = new AgentAuth([{ id: 'poller', tokenSha256: sha256Hex('x'), role: 'server', site: 's', labels: {}, devices: ['sw-*'] }])
  const who = (): typeof id => auth.authenticate('Bearer x')! as unknown as typeof id
  stamp(who(), { type: 'batch', seq: 1, points: [{ m: 'service', t: T0, tags: { device: 'sw-9', host: 'sw-9', check: 'ping' }, f: { up: 0 } }] } as Batch, T0)
  auth.reload([{ id: 'poller', tokenSha256: sha256Hex('x'), role: 'server', site: 's', labels: {}, devices: ['sw-*'] }])
  const after = stamp(who(), { type: 'batch', seq: 2, points: [{ m: 'service', t: T0 + 1000, tags: { device: 'sw-9', host: 'sw-9', check: 'snmp' }, f: { up: 1 } }] } as Batch, T0 + 1000)
  t.equal(after.p.filter(p => p.m === 'host_up' && p.tags!['host'] === 'sw-9').length, 0, 'after a reload ping still decides')
})

t.test('stamp: an agent without the devices permission keeps nothing of a device', async t => {
  const sink = newDeviceSink()
  const e = stamp({ id: 'kiosk-1', role: 'kiosk', site: 's' }, { type: 'batch', seq: 1, points: [{ m: 'service', t: 1, tags: { device: 'web01', host: 'web01', check: 'ping' }, f: { up: 0 } }] } as Batch, 5, sink)
  t.same(e.p, [{ m: 'host_up', t: 5, tags: { host: 'kiosk-1', role: 'kiosk', site: 's' }, f: { up: 1 } }])
  t.same(sink, { seen: 1, refused: 1, refusedName: 'web01' })
})

t.test('topology: the nearest down ancestor; descendants; cycles end', async t => {
  const devices = { parents: () => [['sw-3f', 'core'], ['sw-3f-a', 'sw-3f'], ['loop-a', 'loop-b'], ['loop-b', 'loop-a']] as Array<[string, string]> }
  const topo = hostTopology(() => [{ id: 'kiosk-1', parent: 'sw-3f-a' }, { id: 'web01' }], devices)
  const down = (...h: string[]) => (x: string) => h.includes(x)
  t.equal(downAncestor(topo, 'kiosk-1', {}, down('core')), 'core')
  t.equal(downAncestor(topo, 'kiosk-1', {}, down('core', 'sw-3f')), 'sw-3f', 'the nearest one')
  t.equal(downAncestor(topo, 'kiosk-1', {}, down()), undefined)
  t.equal(downAncestor(topo, 'sw-9f', { parent: 'core' }, down('core')), 'core', 'a parent label on the incident counts')
  t.equal(downAncestor(topo, 'loop-a', {}, down()), undefined, 'a cycle ends the walk')
  t.same(descendants(topo, 'core'), ['kiosk-1', 'sw-3f', 'sw-3f-a'])
  t.same(descendants(topo, 'web01'), [])
  t.equal(topo.parentOf('kiosk-1'), 'sw-3f-a')
})

const rule = (r: Record<string, unknown>): Rule => checkRule('test.yaml', 0, { severity: 'critical', ...r })
const kinds = (tr: Array<{ kind: string }>) => tr.map(x => x.kind)

t.test('count: the condition must hold on that many samples in a row; one good sample resolves', async t => {
  const e = new Evaluator({ rules: [rule({ name: 'device_down', type: 'heartbeat', count: 2 })] })
  const up = (t: number, v: number): Point => ({ m: 'host_up', t, tags: { host: 'sw-1', poller: 'p' }, f: { up: v } })
  t.same(kinds(e.observePoints([up(1, 0)], 1)), [], 'one failed ping')
  t.same(kinds(e.observePoints([up(2, 1)], 2)), [])
  t.same(kinds(e.observePoints([up(3, 0)], 3)), [], 'not two in a row')
  t.same(kinds(e.observePoints([up(4, 0)], 4)), ['pending', 'firing'])
  t.same(kinds(e.tick(10)), [])
  t.same(kinds(e.observePoints([up(5, 1)], 5)), ['resolved'])
})

t.test('when: a sample counts only while the other fields hold; otherwise the series clears', async t => {
  const e = new Evaluator({ rules: [rule({ name: 'interface_down', type: 'threshold', metric: 'snmp_if.oper_up', op: '==', threshold: 0, when: { admin_up: 1 } })] })
  const ifp = (t: number, oper: number, admin: number): Point => ({ m: 'snmp_if', t, tags: { host: 'sw-1', ifname: 'ge-1' }, f: { oper_up: oper, admin_up: admin } })
  t.same(kinds(e.observePoints([ifp(1, 0, 0)], 1)), [], 'shut down on purpose')
  t.same(kinds(e.observePoints([ifp(2, 0, 1)], 2)), ['pending', 'firing'])
  t.same(kinds(e.observePoints([ifp(3, 0, 0)], 3)), ['resolved'], 'an operator shut it: no longer an alert')
  t.throws(() => rule({ name: 'x', type: 'threshold', metric: 'a.b', threshold: 1, when: { admin_up: 'yes' } }), /when\.admin_up/)
})

t.test('dependency stage: suppresses children of a down parent, names them, releases one still down after the parent is back', async t => {
  const store = new SqliteAlertStore(await tmpDir(t))
  t.teardown(() => store.close())
  const topo = hostTopology(() => [{ id: 'kiosk-1', parent: 'sw-3f' }, { id: 'kiosk-2', parent: 'sw-3f' }], { parents: () => [] })
  const open = async (host: string, rule: string, at: number): Promise<number> => await store.openIncident({
    rule, severity: 'critical', host, labels: { host }, summary: `${host} down`, summary_en: `${host} down`, description: '', description_en: '',
    value: 0, threshold: 0, detected_at: at, suppressed_by: null, series_key: `${rule}|${host}`
  })
  const stage = new DependencyStage({ store, topology: topo, heartbeatRules: () => new Set(['device_down', 'kiosk_down']) })
  const run = async (now: number) => stage.exec(candidates(await store.firing(), [], {}), now)
  const sw = await open('sw-3f', 'device_down', 1000)
  const k1 = await open('kiosk-1', 'kiosk_down', 900) // opened before the parent's, not yet mailed
  await run(2000)
  await run(3000) // each plan until the first mail: the names are not added twice
  t.equal((await store.incident(k1))!.suppressed_by, 'parent:sw-3f')
  t.equal((await store.incident(sw))!.suppressed_by, null)
  t.equal((await store.incident(sw))!.summary, 'sw-3f down (配下 2 台到達不能)')
  t.equal((await store.incident(sw))!.description_en, '2 hosts behind it are unreachable (their own alerts are suppressed): kiosk-1, kiosk-2')
  t.equal((await store.incident(sw))!.summary_en, 'sw-3f down (2 hosts behind it unreachable)')
  await store.resolveIncident(sw, 10_000, null, 1)
  await run(10_000 + RELEASE_AFTER_MS - 1)
  t.equal((await store.incident(k1))!.suppressed_by, 'parent:sw-3f', 'within the grace after the parent came back: still suppressed')
  await run(10_000 + RELEASE_AFTER_MS)
  t.equal((await store.incident(k1))!.suppressed_by, null, 'still down 5 minutes after its parent recovered: released, its own alert')
  t.match((await store.incident(k1))!.description, '上位 sw-3f の復旧後も停止が続いています')
})

t.test('a trap of a device (its checks\' tags) is the device\'s incident: suppressed while its parent is down', async t => {
  const store = new SqliteAlertStore(await tmpDir(t))
  t.teardown(() => store.close())
  // What the poller sends: the ping of sw-1 (parent core) and a trap event with the same identity tags.
  const tags = { device: 'sw-1', host: 'sw-1', role: 'switch', parent: 'core' }
  const e = stamp(poller, { type: 'batch', seq: 1, points: [{ m: 'service', t: 1, tags: { ...tags, check: 'ping' }, f: { up: 1 } }], events: [{ t: 2, source: 'snmptrap:sw-1', level: 'warning', message: 'linkDown', tags: { ...tags } }] } as Batch, 5)
  t.same(e.e![0]!.tags, { ...tags, poller: 'poller', site: '本庁舎' }, 'the trap keeps the device identity, the poller added')
  const registry = new DeviceRegistry()
  registry.observe(e.p, 5)
  const topo = hostTopology(() => [], registry)
  const open = async (host: string, rule: string, at: number): Promise<number> => await store.openIncident({
    rule, severity: 'warning', host, labels: { host }, summary: `${rule} ${host}`, summary_en: `${rule} ${host}`, description: '', description_en: '',
    value: 0, threshold: 0, detected_at: at, suppressed_by: null, series_key: `${rule}|${host}`
  })
  await open('core', 'device_down', 1000)
  const trap = await open(e.e![0]!.tags!['host']!, 'switch_link_down', 1100)
  await new DependencyStage({ store, topology: topo, heartbeatRules: () => new Set(['device_down']) }).exec(candidates(await store.firing(), [], {}), 2000)
  t.equal((await store.incident(trap))!.suppressed_by, 'parent:core', 'the trap rule\'s incident is suppressed by the down parent')
})

t.test('config: a devices list naming an agent, or an agent its own parent, is refused with file and key', async t => {
  const a = (id: string, more: Record<string, unknown> = {}) => ({ id, tokenSha256: id.padEnd(64, '0').replace(/[^0-9a-f]/g, 'a'), role: 'server', site: '', labels: {}, ...more })
  t.throws(() => checkAgents('collector.yaml', [a('poller', { devices: ['sw-*', 'web01'] }), a('web01')] as never, []),
    { message: 'collector.yaml: agents.0.devices.1: expected a device name that is no agent id (a device may never write as an agent), got "web01"' })
  t.throws(() => checkAgents('collector.yaml', [a('kiosk-1', { parent: 'kiosk-1' })] as never, []), /agents\.0\.parent: expected another host's name/)
  t.doesNotThrow(() => checkAgents('collector.yaml', [a('poller', { devices: ['web*'] }), a('web01', { parent: 'sw-1' })] as never, []), 'a pattern may match an agent id: that name is refused at run time')
})

t.test('device registry: liveness and RTT per device, bounded', async t => {
  const r = new DeviceRegistry()
  const pts = (n: number): Point[] => Array.from({ length: n }, (_, i) => ({ m: 'host_up', t: 5, tags: { host: `d${i}`, role: 'device', site: 's', poller: 'p' }, f: { up: i % 2 } }))
  r.observe([...pts(3), { m: 'service', t: 5, tags: { host: 'd1', role: 'device', site: 's', poller: 'p', check: 'ping', parent: 'core' }, f: { up: 1, rtt_ms: 2.5, loss_percent: 0 } }], 100)
  t.match(r.get('d1'), { poller: 'p', parent: 'core', up: 1, since: 5, rttMs: 2.5, lossPercent: 0, lastSeen: 100, measurements: ['host_up', 'service'] })
  t.same([...r.parents()], [['d1', 'core']])
  r.observe(pts(MAX_DEVICES + 5), 200)
  t.equal(r.list().length, MAX_DEVICES)
  t.equal(r.untracked, 5, 'names past the bound are counted, not tracked')
  r.forgetPollersExcept(new Set(['other']))
  t.equal(r.list().length, 0, 'a poller removed from the config takes its devices along')
})
