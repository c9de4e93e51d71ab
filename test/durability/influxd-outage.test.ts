// InfluxDB stopped for 30 s mid-stream: the collector keeps acking into its
// WAL, reports not ready, and after InfluxDB returns nothing is missing.

import t from 'tap'
import { withInfluxd, query } from '../helpers/influxd.js'
import { waitFor } from '../helpers/procs.js'
import { asViewer } from '../helpers/config.js'
import { makeStack, countSeqtest } from '../helpers/stack.js'
import { startPusher } from '../helpers/pusher.js'

t.test('influxd down for 30 s: backlog drained after, nothing missing, readyz honest meanwhile', async t => {
  const influxd = await withInfluxd(t)
  const stack = await makeStack(t, { influx: { version: 1, url: influxd.url, db: 'kanshi', timeout: '2s' }, agentId: 'out', inputs: ['mem'], push: true })
  await stack.startCollector()
  await stack.startAgent()
  const port = stack.port
  const pusher = startPusher(stack.pushUrl, { perRequest: 10, everyMs: 50 })
  t.teardown(pusher.stop) // a failed assertion mid-test must not leave it pushing (the run then hangs to its timeout)
  await new Promise(resolve => setTimeout(resolve, 2000))
  await influxd.stop()
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 503, 15_000, 250)
  const r = await (await fetch(`http://127.0.0.1:${port}/readyz`, { headers: asViewer })).json() as { problems: string[] }
  t.match(r.problems.join(' '), /storage/, `readyz names the storage problem: ${r.problems.join('; ')}`)
  await new Promise(resolve => setTimeout(resolve, 30_000))
  await influxd.restart()
  await new Promise(resolve => setTimeout(resolve, 2000))
  await pusher.stop()
  const n = pusher.confirmed.length
  t.ok(n > 300, `${n} points confirmed, most during the outage`)
  let got: number[] = []
  await waitFor(async () => {
    got = await countSeqtest(query, influxd.url, 'out')
    return got[0] === n
  }, 60_000, 500)
  t.same(got, [n, pusher.confirmed.reduce((a, b) => a + b, 0)], 'all points present once')
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 20_000, 250)
  t.pass('ready again once InfluxDB is back')
})
