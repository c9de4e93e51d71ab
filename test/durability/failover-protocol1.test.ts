// The counterpart of failover.test.ts with stored acks off (ingest.maxProtocol: 1, an old
// collector's behaviour): the protocol-2 agent falls back to protocol 1, deletes each batch on
// ack, and when c1's disk is lost after SIGKILL the points it had acked but not stored are gone.

import t from 'tap'
import { rmSync } from 'node:fs'
import { withInfluxd, query } from '../helpers/influxd.js'
import { countSeqtest } from '../helpers/stack.js'
import { startPusher } from '../helpers/pusher.js'
import { makeFailover, untilAckedBy } from '../helpers/failover.js'

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

t.test('protocol 1 (ack = delete): SIGKILL c1 and delete its data directory loses what c1 had not stored', async t => {
  const influxd = await withInfluxd(t)
  const f = await makeFailover(t, { influxUrl: influxd.url, maxProtocol: 1 })
  const c1 = await f.startCollector(0)
  await f.startCollector(1)
  const agent = await f.startAgent()
  await agent.waitForLine(l => l.includes('collector speaks an older protocol'), 20_000)
  await agent.waitForLine(l => l.includes('connected to collector') && l.includes('"collector":0') && l.includes('"protocol":1'), 20_000)
  const pusher = startPusher(f.pushUrl, { perRequest: 20, everyMs: 20 })
  await sleep(3000)
  const killedAt = performance.now()
  c1.kill('SIGKILL')
  const failoverMs = await untilAckedBy(f, 1, 0, killedAt)
  t.comment(`failover (protocol 1): SIGKILL of c1 → first ack sent by c2 in ${Math.round(failoverMs)} ms`)
  await c1.waitExit()
  rmSync(f.dataDirs[0], { recursive: true, force: true })
  await sleep(3000)
  await pusher.stop()
  const n = pusher.confirmed.length
  // c2 flushes every 3 s: the count is final once it stood still for three flushes.
  let got = await countSeqtest(query, influxd.url, 'fo')
  for (let still = 0; still < 10;) {
    await sleep(1000)
    const now = await countSeqtest(query, influxd.url, 'fo')
    still = now[0] === got[0] ? still + 1 : 0
    got = now
  }
  const lost = n - got[0]!
  t.comment(`protocol 1: ${lost} of ${n} confirmed points lost with c1's disk`)
  t.ok(lost > 0, `points acked by c1 and not yet stored are lost without stored acks (${lost})`)
  t.ok(got[0]! < n, 'InfluxDB holds fewer points than the agent confirmed')
})
