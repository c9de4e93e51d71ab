// The collector stopped for 60 s: the agent spools every batch on disk, then
// replays them in order after it returns; nothing is missing.

import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256Hex } from '../../collector/ingest/auth.js'
import { withInfluxd, query } from '../helpers/influxd.js'
import { spawnProgram, tmpDir, freePort, waitFor } from '../helpers/procs.js'
import { startPusher } from '../helpers/pusher.js'

const TOKEN = 'away-token'

t.test('collector away for 60 s: agent spools and replays in order', async t => {
  const influxd = await withInfluxd(t)
  const dir = await tmpDir(t)
  const port = await freePort()
  const pushPort = await freePort()
  writeFileSync(join(dir, 'collector.yaml'), JSON.stringify({
    listen: { host: '127.0.0.1', port }, dataDir: join(dir, 'collector'),
    influx: { version: 1, url: influxd.url, db: 'kanshi', flushInterval: '100ms' },
    agents: [{ id: 'away', tokenSha256: sha256Hex(TOKEN), role: 'kiosk', site: 's' }]
  }))
  writeFileSync(join(dir, 'agent.yaml'), JSON.stringify({
    id: 'away', collector: { url: `ws://127.0.0.1:${port}/v1/agent`, token: TOKEN, backoffMin: '100ms', backoffMax: '2s' },
    interval: '1s', dataDir: join(dir, 'agent'), inputs: { enabled: ['cpu', 'mem'] },
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
  const pusher = startPusher(`http://127.0.0.1:${pushPort}/v1/push`, { perRequest: 5, everyMs: 100 })
  await new Promise(resolve => setTimeout(resolve, 2000))
  collector.kill('SIGTERM')
  await collector.waitExit()
  const stoppedAt = Date.now()
  await new Promise(resolve => setTimeout(resolve, 60_000))
  const during = pusher.confirmed.length
  collector = await startCollector()
  const line = await agent.waitForLine(l => l.includes('connected to collector') && Date.parse(JSON.parse(l).time) > stoppedAt, 20_000)
  const pending = JSON.parse(line).pending as number
  t.ok(pending >= 50, `the agent had ${pending} batches spooled when the collector returned`)
  await new Promise(resolve => setTimeout(resolve, 1000))
  await pusher.stop()
  const n = pusher.confirmed.length
  t.ok(during > 100, `${during} points confirmed while the collector was away`)
  let got: number[] = []
  await waitFor(async () => {
    const q = await query(influxd.url, 'kanshi', "SELECT count(n), sum(n) FROM seqtest WHERE host = 'away'")
    got = q.results[0].series?.[0]?.values?.[0]?.slice(1) ?? [0, 0]
    return got[0] === n
  }, 60_000, 500)
  t.same(got, [n, pusher.confirmed.reduce((a, b) => a + b, 0)], 'all points present once')
  const cpu = await query(influxd.url, 'kanshi', `SELECT count(usage_percent) FROM cpu WHERE host = 'away' AND time > ${stoppedAt + 5000}ms AND time < ${stoppedAt + 55_000}ms`)
  t.ok((cpu.results[0].series?.[0]?.values?.[0]?.[1] ?? 0) >= 40, 'the system metrics gathered during the outage arrived too')
})
