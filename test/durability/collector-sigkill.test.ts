// SIGKILL the collector again and again while an agent streams numbered points:
// every point the agent confirmed ends up in InfluxDB exactly once.

import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256Hex } from '../../collector/ingest/auth.js'
import { withInfluxd, query } from '../helpers/influxd.js'
import { spawnProgram, tmpDir, freePort, waitFor } from '../helpers/procs.js'
import { startPusher } from '../helpers/pusher.js'

const TOKEN = 'durability-token'

t.test('collector killed with SIGKILL 4 times mid-stream: nothing acked is lost or doubled', async t => {
  const influxd = await withInfluxd(t)
  const dir = await tmpDir(t)
  const port = await freePort()
  const pushPort = await freePort()
  writeFileSync(join(dir, 'collector.yaml'), JSON.stringify({
    listen: { host: '127.0.0.1', port }, dataDir: join(dir, 'collector'),
    influx: { version: 1, url: influxd.url, db: 'kanshi', flushInterval: '100ms' },
    agents: [{ id: 'dur', tokenSha256: sha256Hex(TOKEN), role: 'server', site: 's' }]
  }))
  writeFileSync(join(dir, 'agent.yaml'), JSON.stringify({
    id: 'dur', collector: { url: `ws://127.0.0.1:${port}/v1/agent`, token: TOKEN, backoffMin: '50ms', backoffMax: '500ms' },
    interval: '1s', dataDir: join(dir, 'agent'), inputs: { enabled: ['cpu'] },
    push: { enabled: true, port: pushPort }
  }))
  const startCollector = async () => {
    const c = await spawnProgram(t, 'collector', ['--config', join(dir, 'collector.yaml')])
    await c.waitForLine(l => l.includes('collector listening'), 20_000)
    return c
  }
  let collector = await startCollector()
  const agent = await spawnProgram(t, 'agent', ['--config', join(dir, 'agent.yaml')])
  await agent.waitForLine(l => l.includes('push endpoint listening'), 20_000)
  const pusher = startPusher(`http://127.0.0.1:${pushPort}/v1/push`, { perRequest: 20, everyMs: 20 })
  for (let i = 0; i < 4; i++) {
    await new Promise(resolve => setTimeout(resolve, 1500 + Math.random() * 1000))
    collector.kill('SIGKILL')
    await collector.waitExit()
    await new Promise(resolve => setTimeout(resolve, 300))
    collector = await startCollector()
  }
  await new Promise(resolve => setTimeout(resolve, 1000))
  await pusher.stop()
  const n = pusher.confirmed.length
  t.ok(n > 1000, `${n} points confirmed by the agent`)
  let got: number[] = []
  await waitFor(async () => {
    const r = await query(influxd.url, 'kanshi', "SELECT count(n), sum(n) FROM seqtest WHERE host = 'dur'")
    got = r.results[0].series?.[0]?.values?.[0]?.slice(1) ?? [0, 0]
    return got[0] === n
  }, 60_000, 500)
  const sum = pusher.confirmed.reduce((a, b) => a + b, 0)
  t.same(got, [n, sum], 'count and sum match: each point once')
})
