// What docs/upgrade.md relies on during a fleet roll-out: a collector takes
// protocol v1 from agents older than itself (fewer hello fields, extra unknown
// ones), shows each agent's version in GET /api/v1/agents, and refuses a
// protocol it does not speak with E_PROTOCOL rather than guessing.

import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { pino } from 'pino'
import { build } from '../../collector/app.js'
import { checkCollectorConfig } from '../../collector/config.js'
import { sha256Hex } from '../../collector/ingest/auth.js'
import { NullSink } from '../../collector/storage/null-sink.js'

async function collector (t: Test): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'kanshi-upgrade-'))
  const config = checkCollectorConfig('c.yaml', {
    dataDir,
    agents: [
      { id: 'old-kiosk', tokenSha256: sha256Hex('tok-old'), role: 'kiosk', site: 'honcho' },
      { id: 'new-server', tokenSha256: sha256Hex('tok-new'), role: 'server', site: 'honcho' }
    ]
  })
  const c = await build({ config, logger: pino({ level: 'silent' }), backend: new NullSink() })
  const address = await c.app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await c.shutdown(); await rm(dataDir, { recursive: true, force: true }) })
  return address
}

function connect (address: string, token: string): Promise<{ ws: WebSocket, frames: Array<Record<string, unknown>> }> {
  const ws = new WebSocket(address.replace('http', 'ws') + '/v1/agent', { headers: { authorization: `Bearer ${token}` } })
  const frames: Array<Record<string, unknown>> = []
  ws.on('message', d => frames.push(JSON.parse(d.toString())))
  return new Promise((resolve, reject) => { ws.once('open', () => resolve({ ws, frames })); ws.once('error', reject) })
}

async function until (fn: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

t.test('an older v1 agent (minimal hello, unknown extra fields) is accepted and its version listed', async t => {
  const address = await collector(t)
  const old = await connect(address, 'tok-old')
  t.teardown(() => old.ws.close())
  // The smallest hello protocol v1 ever allowed, plus a field this collector does not know.
  old.ws.send(JSON.stringify({ type: 'hello', protocol: 1, agent: { id: 'old-kiosk', hostname: 'kiosk-01', version: '0.0.9', os: 'win32', futureField: 1 }, extra: true }))
  await until(() => old.frames.some(f => f.type === 'welcome'))
  old.ws.send(JSON.stringify({ type: 'batch', seq: 1, points: [{ m: 'cpu', t: Date.now(), f: { usage_percent: 3 } }] }))
  await until(() => old.frames.some(f => f.type === 'ack' && f.seq === 1))
  t.pass('welcome and ack for the old agent')

  const fresh = await connect(address, 'tok-new')
  t.teardown(() => fresh.ws.close())
  fresh.ws.send(JSON.stringify({ type: 'hello', protocol: 1, agent: { id: 'new-server', hostname: 'web01', version: '0.2.0', os: 'linux', labels: {}, intervalMs: 10_000 } }))
  await until(() => fresh.frames.some(f => f.type === 'welcome'))

  const res = await fetch(`${address}/api/v1/agents`)
  const agents = ((await res.json()) as { agents: Array<Record<string, unknown>> }).agents
  const v = Object.fromEntries(agents.map(a => [a.id, a.version]))
  t.same(v, { 'old-kiosk': '0.0.9', 'new-server': '0.2.0' }, 'both versions side by side during a roll-out')
})

t.test('a protocol the collector does not speak is refused with E_PROTOCOL', async t => {
  const address = await collector(t)
  const a = await connect(address, 'tok-new')
  const closed = new Promise<number>(resolve => a.ws.once('close', code => resolve(code)))
  a.ws.send(JSON.stringify({ type: 'hello', protocol: 2, agent: { id: 'new-server', hostname: 'web01', version: '9.0.0', os: 'linux' } }))
  t.equal(await closed, 1002, 'closed as a protocol error')
  t.match(a.frames.find(f => f.type === 'error'), { code: 'E_PROTOCOL' })
})
