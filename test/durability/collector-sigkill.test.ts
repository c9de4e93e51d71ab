// SIGKILL the collector again and again while an agent streams numbered points:
// every point the agent confirmed ends up in InfluxDB exactly once.

import t from 'tap'
import { withInfluxd, query } from '../helpers/influxd.js'
import { waitFor } from '../helpers/procs.js'
import { makeStack, countSeqtest } from '../helpers/stack.js'
import { startPusher } from '../helpers/pusher.js'

t.test('collector killed with SIGKILL 4 times mid-stream: nothing acked is lost or doubled', async t => {
  const influxd = await withInfluxd(t)
  const stack = await makeStack(t, { influx: { version: 1, url: influxd.url, db: 'kanshi' }, agentId: 'dur', inputs: ['cpu'], push: true })
  let collector = await stack.startCollector()
  await stack.startAgent()
  const pusher = startPusher(stack.pushUrl, { perRequest: 20, everyMs: 20 })
  for (let i = 0; i < 4; i++) {
    await new Promise(resolve => setTimeout(resolve, 1500 + Math.random() * 1000))
    collector.kill('SIGKILL')
    await collector.waitExit()
    await new Promise(resolve => setTimeout(resolve, 300))
    collector = await stack.startCollector()
  }
  await new Promise(resolve => setTimeout(resolve, 1000))
  await pusher.stop()
  const n = pusher.confirmed.length
  t.ok(n > 1000, `${n} points confirmed by the agent`)
  let got: number[] = []
  await waitFor(async () => {
    got = await countSeqtest(query, influxd.url, 'dur')
    return got[0] === n
  }, 60_000, 500)
  const sum = pusher.confirmed.reduce((a, b) => a + b, 0)
  t.same(got, [n, sum], 'count and sum match: each point once')
})
