// host_up through the real app: 1 with every batch of a connected agent, 0 once
// it has been silent for hostDownAfterIntervals intervals, repeated while down.

import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { pino } from 'pino'
import { build } from '../../collector/app.js'
import { checkCollectorConfig } from '../../collector/config.js'
import { sha256Hex } from '../../collector/ingest/auth.js'
import { NullSink } from '../../collector/storage/null-sink.js'
import { decodeEntry, type WalEntry } from '../../collector/state/entry.js'
import { Wal } from '../../collector/state/wal/index.js'

t.test('host_up is 1 with batches, 0 after 3 silent intervals, and 0 for agents never seen', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 'kanshi-up-'))
  t.teardown(async () => await rm(dataDir, { recursive: true, force: true }))
  const config = checkCollectorConfig('c.yaml', {
    dataDir, ingest: { defaultInterval: '300ms', hostDownAfterIntervals: 3 },
    agents: [
      { id: 'kiosk1', tokenSha256: sha256Hex('tok'), role: 'kiosk', site: 'honcho' },
      { id: 'never', tokenSha256: sha256Hex('tok2'), role: 'server', site: 'honcho' }
    ]
  })
  const c = await build({ config, logger: pino({ level: 'silent' }), backend: new NullSink() })
  const address = await c.app.listen({ host: '127.0.0.1', port: 0 })
  const ws = new WebSocket(address.replace('http', 'ws') + '/v1/agent', { headers: { authorization: 'Bearer tok' } })
  await new Promise(resolve => ws.once('open', resolve))
  ws.send(JSON.stringify({ type: 'hello', protocol: 1, agent: { id: 'kiosk1', hostname: 'k', version: 't', os: 'linux', intervalMs: 300 } }))
  const acked = new Promise(resolve => ws.on('message', d => { if (JSON.parse(d.toString()).type === 'ack') resolve(null) }))
  ws.send(JSON.stringify({ type: 'batch', seq: 1, points: [{ m: 'cpu', t: Date.now(), f: { usage_percent: 1 } }] }))
  await acked
  ws.close()
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
