// The collector stopped for 60 s: the agent spools every batch on disk, then
// replays them in order after it returns; nothing is missing.

import t from 'tap'
import { withInfluxd, query } from '../helpers/influxd.js'
import { waitFor } from '../helpers/procs.js'
import { makeStack, countSeqtest } from '../helpers/stack.js'
import { startPusher } from '../helpers/pusher.js'

t.test('collector away for 60 s: agent spools and replays in order', async t => {
  const influxd = await withInfluxd(t)
  const stack = await makeStack(t, { influx: { version: 1, url: influxd.url, db: 'kanshi' }, agentId: 'away', role: 'kiosk', inputs: ['cpu', 'mem'], push: true })
  let collector = await stack.startCollector()
  const agent = await stack.startAgent()
  const pusher = startPusher(stack.pushUrl, { perRequest: 5, everyMs: 100 })
  await new Promise(resolve => setTimeout(resolve, 2000))
  collector.kill('SIGTERM')
  await collector.waitExit()
  const stoppedAt = Date.now()
  await new Promise(resolve => setTimeout(resolve, 60_000))
  const during = pusher.confirmed.length
  collector = await stack.startCollector()
  const line = await agent.waitForLine(l => l.includes('connected to collector') && Date.parse(JSON.parse(l).time) > stoppedAt, 20_000)
  const pending = JSON.parse(line).pending as number
  t.ok(pending >= 50, `the agent had ${pending} batches spooled when the collector returned`)
  await new Promise(resolve => setTimeout(resolve, 1000))
  await pusher.stop()
  const n = pusher.confirmed.length
  t.ok(during > 100, `${during} points confirmed while the collector was away`)
  let got: number[] = []
  await waitFor(async () => {
    got = await countSeqtest(query, influxd.url, 'away')
    return got[0] === n
  }, 60_000, 500)
  t.same(got, [n, pusher.confirmed.reduce((a, b) => a + b, 0)], 'all points present once')
  const cpu = await query(influxd.url, 'kanshi', `SELECT count(usage_percent) FROM cpu WHERE host = 'away' AND time > ${stoppedAt + 5000}ms AND time < ${stoppedAt + 55_000}ms`)
  t.ok((cpu.results[0].series?.[0]?.values?.[0]?.[1] ?? 0) >= 40, 'the system metrics gathered during the outage arrived too')
})
