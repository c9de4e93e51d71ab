// Devices polled by an agent, through the real collector app and WebSocket: identity (host =
// device, poller = agent), refusals counted, the default device rules mailing through a real
// SMTP server, and a down parent switch suppressing the alerts of the hosts behind it.

import t, { type Test } from 'tap'
import type { SendResult } from '../../common/send-result.js'
import type { StorageBackend } from '../../collector/storage/backend.js'
import { startCollector, type TestCollector } from '../helpers/collector.js'
import { connectAgent, type FakeAgent } from '../helpers/fake-agent.js'
import { withSmtp, type Smtp } from '../helpers/smtp.js'
import { waitFor } from '../helpers/procs.js'
import { asViewer, viewerApi } from '../helpers/config.js'

const defaultRules = new URL('../../alert-rules/', import.meta.url).pathname

/** Capture keeps every line written, to read back what the collector stored. */
class Capture implements StorageBackend {
  readonly name = 'capture'
  readonly lines: string[] = []
  async write (lines: string[]): Promise<SendResult> { this.lines.push(...lines); return { kind: 'ok' } }
  async prepare (): Promise<SendResult> { return { kind: 'ok' } }
  async ping (): Promise<boolean> { return true }
  async close (): Promise<void> {}
}

const AGENTS = [
  { id: 'poller-3f', role: 'server', site: '本庁舎', devices: true },
  { id: 'kiosk-01', role: 'kiosk', site: '本庁舎', schedule: 'always', parent: 'sw-3f' },
  { id: 'web02', role: 'server', site: '本庁舎' }
]

async function collector (t: Test, smtp?: Smtp): Promise<{ tc: TestCollector, capture: Capture }> {
  const capture = new Capture()
  const tc = await startCollector(t, {
    backend: capture,
    agents: AGENTS,
    config: {
      api: viewerApi(),
      influx: { flushInterval: '50ms' },
      ...(smtp !== undefined
        ? {
            alerting: {
              rulesDir: defaultRules,
              smtp: { host: '127.0.0.1', port: smtp.port, from: 'kanshi@example.jp', timeout: '2s' },
              receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }],
              routes: [{ receiver: 'oncall' }],
              groupWait: '1s', groupInterval: '0s', repeatInterval: '1h'
            }
          }
        : {})
    }
  })
  return { tc, capture }
}

async function agent (t: Test, tc: TestCollector, id: string): Promise<FakeAgent> {
  const a = await connectAgent(t, tc.agentUrl, { token: tc.tokens[id]!, id })
  await a.greet()
  return a
}

let seq = 0
async function send (a: FakeAgent, points: unknown[]): Promise<void> {
  const s = ++seq
  a.batch(s, points)
  await a.waitFrame(m => m.type === 'ack' && m.seq === s, `ack ${s}`)
}

const ping = (device: string, up: number, extra: Record<string, string> = {}) =>
  ({ m: 'service', t: Date.now(), tags: { device, host: device, check: 'ping', service: device, ...extra }, f: { up, rtt_ms: up === 1 ? 1.5 : 0, loss_percent: up === 1 ? 0 : 100 } })

/** tagsOf parses the tags of a line of line protocol (no escaped commas in these tests). */
function tagsOf (line: string): Record<string, string> {
  const head = line.slice(0, line.indexOf(' '))
  return Object.fromEntries(head.split(',').slice(1).map(kv => kv.split('=') as [string, string]))
}

t.test('a poller\'s device points are stored as the device; others are refused and counted', async t => {
  const { tc, capture } = await collector(t)
  const poller = await agent(t, tc, 'poller-3f')
  const kiosk = await agent(t, tc, 'kiosk-01')
  await send(poller, [
    ping('sw-3f', 1, { parent: 'core-sw' }),
    { m: 'snmp_if', t: Date.now(), tags: { device: 'sw-3f', host: 'sw-3f', ifname: 'ge-0/0/1' }, f: { rx_bytes_per_sec: 1000, tx_bytes_per_sec: 2000, oper_up: 1, admin_up: 1 } },
    { m: 'ups', t: Date.now(), tags: { device: 'ups-1', host: 'ups-1', role: 'ups', site: '別館' }, f: { on_battery: 0, charge_percent: 100, runtime_s: 1800 } },
    ping('web02', 1), // an agent's id: never a device name, even for a poller of any device
    { m: 'cpu', t: Date.now(), tags: { cpu: 'total' }, f: { usage_percent: 5 } }
  ])
  await send(kiosk, [ping('web02', 0), { m: 'mem', t: Date.now(), f: { used_percent: 40 } }]) // a kiosk writing as a server
  await waitFor(() => capture.lines.some(l => l.startsWith('mem,')), 10_000, 50)
  const stored = capture.lines.map(l => ({ m: l.slice(0, l.search(/[, ]/)), tags: tagsOf(l), line: l }))
  const svc = stored.filter(s => s.m === 'service')
  t.equal(svc.length, 1, 'one service point stored: the poller\'s ping of sw-3f')
  t.same(svc[0]!.tags, { check: 'ping', device: 'sw-3f', host: 'sw-3f', parent: 'core-sw', poller: 'poller-3f', role: 'device', service: 'sw-3f', site: '本庁舎' })
  t.match(stored.find(s => s.m === 'snmp_if')!.tags, { host: 'sw-3f', poller: 'poller-3f', ifname: 'ge-0/0/1', role: 'device' })
  t.match(stored.find(s => s.m === 'ups')!.tags, { host: 'ups-1', poller: 'poller-3f', role: 'ups', site: '別館' }, 'a device\'s own role and site are kept')
  t.match(stored.find(s => s.m === 'cpu')!.tags, { host: 'poller-3f', role: 'server' }, 'the poller\'s own points are stamped as before')
  t.notOk(stored.find(s => s.m === 'cpu')!.tags['poller'])
  const deviceUp = stored.filter(s => s.m === 'host_up' && s.tags['poller'] !== undefined)
  t.same(deviceUp.map(s => [s.tags['host'], s.line.includes('up=1')]), [['sw-3f', true]], 'host_up for the device from its ping')
  t.notOk(stored.some(s => s.tags['host'] === 'web02'), 'nothing written as web02')
  const metrics = await (await fetch(`${tc.url}/metrics`, { headers: asViewer })).text()
  t.match(metrics, /kanshi_device_points_refused_total\{agent="poller-3f"\} 1\b/)
  t.match(metrics, /kanshi_device_points_refused_total\{agent="kiosk-01"\} 1\b/)
  const res = await fetch(`${tc.url}/api/v1/devices`, { headers: asViewer })
  t.equal(res.status, 200)
  const { devices } = await res.json() as { devices: Array<Record<string, unknown>> }
  t.same(devices.map(d => [d['name'], d['poller'], d['parent'] ?? null, d['state']]).sort(), [['sw-3f', 'poller-3f', 'core-sw', 'up'], ['ups-1', 'poller-3f', null, 'unknown']], 'ups-1 sent no ping: its state is unknown')
  t.equal((await fetch(`${tc.url}/api/v1/devices`)).status, 401, 'the devices list needs a token')
})

t.test('device down, interface down and UPS on battery mail once each', async t => {
  const smtp = await withSmtp(t)
  const { tc } = await collector(t, smtp)
  const poller = await agent(t, tc, 'poller-3f')
  await send(poller, [ping('sw-5f', 1)])
  await send(poller, [ping('sw-5f', 0)])
  await new Promise(resolve => setTimeout(resolve, 1500))
  t.equal(smtp.mails.length, 0, 'one failed ping is not yet down')
  await send(poller, [ping('sw-5f', 0)])
  await waitFor(() => smtp.mails.length >= 1, 15_000, 100)
  t.match(smtp.mails[0]!.subject, /^\[CRITICAL\] 機器 sw-5f \(本庁舎\) が応答しません/)
  const ifp = (oper: number, admin: number, ifname: string) => ({ m: 'snmp_if', t: Date.now(), tags: { device: 'sw-5f', host: 'sw-5f', ifname }, f: { oper_up: oper, admin_up: admin, rx_bytes_per_sec: 0, tx_bytes_per_sec: 0 } })
  await send(poller, [ifp(0, 1, 'ge-1'), ifp(0, 0, 'ge-2')])
  await send(poller, [ifp(0, 1, 'ge-1'), ifp(0, 0, 'ge-2'), { m: 'ups', t: Date.now(), tags: { device: 'ups-1', host: 'ups-1' }, f: { on_battery: 1, charge_percent: 40, runtime_s: 600 } }])
  await waitFor(() => smtp.mails.length >= 4, 15_000, 100)
  await new Promise(resolve => setTimeout(resolve, 1500))
  const subjects = smtp.mails.map(m => m.subject).sort()
  t.equal(subjects.length, 4, subjects.join(' | '))
  t.ok(subjects.some(s => /インタフェース ge-1 がリンクダウン/.test(s)), 'ge-1 (admin up) is down')
  t.notOk(subjects.some(s => /ge-2/.test(s)), 'ge-2 is shut down on purpose: no alert')
  t.ok(subjects.some(s => /^\[CRITICAL\] UPS ups-1 \(本庁舎\) がバッテリー運転中/.test(s)))
  t.ok(subjects.some(s => /^\[WARNING\] UPS ups-1 のバッテリー残量 40%/.test(s)))
})

t.test('a parent switch down with 3 children down: one mail naming them; the children suppressed_by parent', async t => {
  const smtp = await withSmtp(t)
  const { tc } = await collector(t, smtp)
  const poller = await agent(t, tc, 'poller-3f')
  const kids = ['sw-3f-a', 'sw-3f-b', 'sw-3f-c']
  await send(poller, [ping('sw-3f', 1), ...kids.map(k => ping(k, 1, { parent: 'sw-3f' }))])
  for (let i = 0; i < 3; i++) await send(poller, [ping('sw-3f', 0), ...kids.map(k => ping(k, 0, { parent: 'sw-3f' }))])
  await waitFor(() => smtp.mails.length >= 1, 15_000, 100)
  await new Promise(resolve => setTimeout(resolve, 2500))
  t.equal(smtp.mails.length, 1, smtp.mails.map(m => m.subject).join(' | '))
  const mail = smtp.mails[0]!
  t.equal(mail.subject, '[CRITICAL] 機器 sw-3f (本庁舎) が応答しません (ping 2回連続失敗、監視元 poller-3f) (配下 4 台到達不能)', 'the 3 devices and kiosk-01 (agents[].parent) hang on sw-3f')
  for (const k of [...kids, 'kiosk-01']) t.match(mail.text, k)
  const res = await fetch(`${tc.url}/v1/incidents`, { headers: asViewer })
  const { incidents } = await res.json() as { incidents: Array<{ host: string, suppressed_by: string | null, notified_at: number | null }> }
  t.same(incidents.filter(i => kids.includes(i.host)).map(i => [i.host, i.suppressed_by]).sort(), kids.map(k => [k, 'parent:sw-3f']))
  t.equal(incidents.find(i => i.host === 'sw-3f')?.suppressed_by, null)
})
