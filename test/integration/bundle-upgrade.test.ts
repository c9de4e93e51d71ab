// What docs/upgrade.md relies on during a fleet roll-out: a collector takes
// protocol v1 from agents older than itself (fewer hello fields, extra unknown
// ones), shows each agent's version in GET /api/v1/agents, and refuses a
// protocol it does not speak with E_PROTOCOL rather than guessing.

import t, { type Test } from 'tap'
import { NullSink } from '../../collector/storage/null-sink.js'
import { startCollector } from '../helpers/collector.js'
import { asViewer, viewerApi } from '../helpers/config.js'
import { connectAgent } from '../helpers/fake-agent.js'

const collector = async (t: Test) => await startCollector(t, {
  backend: new NullSink(),
  agents: [
    { id: 'old-kiosk', token: 'tok-old', role: 'kiosk', site: 'honcho' },
    { id: 'new-server', token: 'tok-new', role: 'server', site: 'honcho' }
  ],
  config: { api: viewerApi() }
})

t.test('an older v1 agent (minimal hello, unknown extra fields) is accepted and its version listed', async t => {
  const { url, agentUrl } = await collector(t)
  const old = await connectAgent(t, agentUrl, { token: 'tok-old', id: 'old-kiosk' })
  // The smallest hello protocol v1 ever allowed, plus a field this collector does not know.
  old.send({ type: 'hello', protocol: 1, agent: { id: 'old-kiosk', hostname: 'kiosk-01', version: '0.0.9', os: 'win32', futureField: 1 }, extra: true })
  await old.waitFrame(f => f.type === 'welcome', 'the welcome')
  old.batch(1, [{ m: 'cpu', t: Date.now(), f: { usage_percent: 3 } }])
  await old.waitFrame(f => f.type === 'ack' && f.seq === 1, 'the ack of seq 1')
  t.pass('welcome and ack for the old agent')

  const fresh = await connectAgent(t, agentUrl, { token: 'tok-new', id: 'new-server' })
  fresh.send({ type: 'hello', protocol: 1, agent: { id: 'new-server', hostname: 'web01', version: '0.2.0', os: 'linux', labels: {}, intervalMs: 10_000 } })
  await fresh.waitFrame(f => f.type === 'welcome', 'the welcome')

  const res = await fetch(`${url}/api/v1/agents`, { headers: asViewer })
  const agents = ((await res.json()) as { agents: Array<Record<string, unknown>> }).agents
  const v = Object.fromEntries(agents.map(a => [a.id, a.version]))
  t.same(v, { 'old-kiosk': '0.0.9', 'new-server': '0.2.0' }, 'both versions side by side during a roll-out')
})

t.test('a protocol the collector does not speak is refused with E_PROTOCOL', async t => {
  const { agentUrl } = await collector(t)
  const a = await connectAgent(t, agentUrl, { token: 'tok-new', id: 'new-server' })
  a.send({ type: 'hello', protocol: 99, agent: { id: 'new-server', hostname: 'web01', version: '9.0.0', os: 'linux' } })
  t.equal(await a.closed, 1002, 'closed as a protocol error')
  t.match(a.frames.find(f => f.type === 'error'), { code: 'E_PROTOCOL' })
})
