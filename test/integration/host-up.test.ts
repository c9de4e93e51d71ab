// host_up through the real app: 1 with every batch of a connected agent, 0 once
// it has been silent for hostDownAfterIntervals intervals, repeated while down.

import t from 'tap'
import { join } from 'node:path'
import { NullSink } from '../../collector/storage/null-sink.js'
import { decodeEntry, type WalEntry } from '../../collector/state/entry.js'
import { Wal } from '../../collector/state/wal/index.js'
import { startCollector } from '../helpers/collector.js'
import { connectAgent } from '../helpers/fake-agent.js'

t.test('host_up is 1 with batches, 0 after 3 silent intervals, and 0 for agents never seen', async t => {
  const { c, dataDir, agentUrl } = await startCollector(t, {
    backend: new NullSink(),
    config: { ingest: { defaultInterval: '300ms', hostDownAfterIntervals: 3 } },
    agents: [
      { id: 'kiosk1', token: 'tok', role: 'kiosk', site: 'honcho' },
      { id: 'never', token: 'tok2', role: 'server', site: 'honcho' }
    ]
  })
  const a = await connectAgent(t, agentUrl, { token: 'tok', id: 'kiosk1' })
  a.send({ type: 'hello', protocol: 1, agent: { id: 'kiosk1', hostname: 'k', version: 't', os: 'linux', intervalMs: 300 } })
  a.batch(1, [{ m: 'cpu', t: Date.now(), f: { usage_percent: 1 } }])
  await a.waitFrame(m => m.type === 'ack', 'the ack')
  await a.close()
  // The silence check runs once a second: 4 s holds the down transition and at least two repeats, even on a loaded machine.
  await new Promise(resolve => setTimeout(resolve, 4000))
  await c.shutdown()
  const entries: WalEntry[] = []
  const wal = await Wal.open({ dir: join(dataDir, 'wal'), readers: [], onRecover: d => entries.push(decodeEntry(d)) })
  await wal.close()
  const ups = (host: string) => entries.flatMap(e => e.p).filter(p => p.m === 'host_up' && p.tags?.['host'] === host)
  const k = ups('kiosk1').map(p => p.f['up'])
  t.equal(k[0], 1, 'up when it connects')
  t.ok(k.includes(1) && k.at(-1) === 0, `went down after silence: ${JSON.stringify(k)}`)
  const firstDown = ups('kiosk1').find(p => p.f['up'] === 0)!
  const lastUp = ups('kiosk1').filter(p => p.f['up'] === 1).at(-1)!
  t.ok(firstDown.t - lastUp.t >= 900, `down ${firstDown.t - lastUp.t} ms after the last batch (3 × 300 ms)`)
  t.ok(k.filter(v => v === 0).length >= 2, 'written again each interval while down')
  t.same(ups('kiosk1')[0]!.tags, { host: 'kiosk1', role: 'kiosk', site: 'honcho' })
  const n = ups('never').map(p => p.f['up'])
  t.ok(n.length >= 1 && n.every(v => v === 0), 'a configured agent that never connected is reported down')
})
