// The test helpers themselves, on a real collector: a restart keeps data, tokens
// and port; the fake agent's waits fail saying what came; listen: false has no URL.

import t from 'tap'
import { NullSink } from '../../collector/storage/null-sink.js'
import { startCollector } from '../helpers/collector.js'
import { connectAgent, refusedStatus } from '../helpers/fake-agent.js'

t.test('startCollector: a restart keeps the data, the tokens and the port', async t => {
  const s = await startCollector(t, { backend: new NullSink(), agents: [{ id: 'web01' }] })
  const a = await connectAgent(t, s.agentUrl, { token: s.tokens['web01']! })
  t.equal((await a.greet()).ackedSeq, 0)
  a.batch(1, [{ m: 'cpu', t: 1, f: { v: 1 } }])
  t.same(await a.expect('ack'), { type: 'ack', seq: 1 })
  const again = await s.restart()
  t.equal(again.port, s.port, 'same port')
  t.equal(await a.closed, 1001, 'the old session was closed by the shutdown')
  const b = await connectAgent(t, again.agentUrl, { token: again.tokens['web01']! })
  t.equal((await b.greet()).ackedSeq, 1, 'same data')
  const inert = await startCollector(t, { listen: false })
  t.throws(() => inert.url, /listen: false/, 'no URL without listening')
})

t.test('the fake agent: refusals, timeouts and unexpected frames fail with what came', async t => {
  const { agentUrl, tokens } = await startCollector(t, { agents: [{ id: 'web01' }] })
  const token = tokens['web01']!
  t.equal(await refusedStatus(agentUrl, { token: 'nope' }), 401)
  await t.rejects(refusedStatus(agentUrl, { token }), /upgrade was accepted/)
  await t.rejects(connectAgent(t, agentUrl, { token: 'nope' }), /refused with HTTP 401/)
  const a = await connectAgent(t, agentUrl, { token, timeoutMs: 300 })
  await a.greet()
  await t.rejects(a.next(), /fake agent web01: nothing within 300 ms while waiting for a frame; last frames: \[\{"type":"welcome"/)
  const b = await connectAgent(t, agentUrl, { token })
  b.hello({}, 99)
  await t.rejects(b.expect('welcome'), /expected a welcome frame, got \{"type":"error","code":"E_PROTOCOL"/)
  await t.rejects(b.next(), /the socket closed \(1002\)/)
})
