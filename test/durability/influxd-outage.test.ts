// InfluxDB stopped for 30 s mid-stream: the collector keeps acking into its
// WAL, reports not ready, and after InfluxDB returns nothing is missing.

import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256Hex } from '../../collector/ingest/auth.js'
import { withInfluxd, query } from '../helpers/influxd.js'
import { spawnProgram, tmpDir, freePort, waitFor } from '../helpers/procs.js'
import { startPusher } from '../helpers/pusher.js'

const TOKEN = 'outage-token'

t.test('influxd down for 30 s: backlog drained after, nothing missing, readyz honest meanwhile', async t => {
  const influxd = await withInfluxd(t)
  const dir = await tmpDir(t)
  const port = await freePort()
  const pushPort = await freePort()
  writeFileSync(join(dir, 'collector.yaml'), JSON.stringify({
    listen: { host: '127.0.0.1', port }, dataDir: join(dir, 'collector'),
    influx: { version: 1, url: influxd.url, db: 'kanshi', flushInterval: '100ms', timeout: '2s' },
    agents: [{ id: 'out', tokenSha256: sha256Hex(TOKEN), role: 'server', site: 's' }]
  }))
  writeFileSync(join(dir, 'agent.yaml'), JSON.stringify({
    id: 'out', collector: { url: `ws://127.0.0.1:${port}/v1/agent`, token: TOKEN, backoffMin: '50ms', backoffMax: '500ms' },
    interval: '1s', dataDir: join(dir, 'agent'), inputs: { enabled: ['mem'] },
    push: { enabled: true, port: pushPort }
  }))
  const collector = await spawnProgram(t, 'collector', ['--config', join(dir, 'collector.yaml')])
  await collector.waitForLine(l => l.includes('collector listening'), 20_000)
  const agent = await spawnProgram(t, 'agent', ['--config', join(dir, 'agent.yaml')])
  await agent.waitForLine(l => l.includes('push endpoint listening'), 20_000)
  const pusher = startPusher(`http://127.0.0.1:${pushPort}/v1/push`, { perRequest: 10, everyMs: 50 })
  await new Promise(resolve => setTimeout(resolve, 2000))
  await influxd.stop()
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 503, 15_000, 250)
  const r = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json() as { problems: string[] }
  t.match(r.problems.join(' '), /storage/, `readyz names the storage problem: ${r.problems.join('; ')}`)
  await new Promise(resolve => setTimeout(resolve, 30_000))
  await influxd.restart()
  await new Promise(resolve => setTimeout(resolve, 2000))
  await pusher.stop()
  const n = pusher.confirmed.length
  t.ok(n > 300, `${n} points confirmed, most during the outage`)
  let got: number[] = []
  await waitFor(async () => {
    const q = await query(influxd.url, 'kanshi', "SELECT count(n), sum(n) FROM seqtest WHERE host = 'out'")
    got = q.results[0].series?.[0]?.values?.[0]?.slice(1) ?? [0, 0]
    return got[0] === n
  }, 60_000, 500)
  t.same(got, [n, pusher.confirmed.reduce((a, b) => a + b, 0)], 'all points present once')
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 20_000, 250)
  t.pass('ready again once InfluxDB is back')
})
