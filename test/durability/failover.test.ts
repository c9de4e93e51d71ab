// Issue 17: an agent with collector.urls [c1, c2] streams numbered points; c1 is killed with SIGKILL.
// The agent is on c2 within seconds, and every point it confirmed is in InfluxDB exactly once:
// with c1 restarted later, and with c1's data directory gone for good (stored acks, protocol 2).

import t, { type Test } from 'tap'
import { rmSync } from 'node:fs'
import { withInfluxd, query } from '../helpers/influxd.js'
import { waitFor } from '../helpers/procs.js'
import { countSeqtest } from '../helpers/stack.js'
import { startPusher } from '../helpers/pusher.js'
import { makeFailover, untilAckedBy } from '../helpers/failover.js'

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function scenario (t: Test, influxUrl: string, c1Fate: 'restarted' | 'disk lost'): Promise<void> {
  const f = await makeFailover(t, { influxUrl, maxProtocol: 2 })
  const c1 = await f.startCollector(0)
  await f.startCollector(1)
  const agent = await f.startAgent()
  await agent.waitForLine(l => l.includes('connected to collector') && l.includes('"collector":0') && l.includes('"protocol":2'), 20_000)
  const pusher = startPusher(f.pushUrl, { perRequest: 20, everyMs: 20 })
  await sleep(3000)
  const c2Acks = await f.acksSent(1)
  t.equal(c2Acks, 0, 'c2 acked nothing while c1 was up')
  const killedAt = performance.now()
  c1.kill('SIGKILL')
  const failoverMs = await untilAckedBy(f, 1, c2Acks, killedAt)
  t.comment(`failover (${c1Fate}): SIGKILL of c1 → first ack sent by c2 in ${Math.round(failoverMs)} ms`)
  t.ok(failoverMs < 10_000, `the agent is on c2 within 10 s (${Math.round(failoverMs)} ms)`)
  await c1.waitExit()
  await agent.waitForLine(l => l.includes('connected to collector') && l.includes('"collector":1'), 5000)
  t.ok(agent.lines.some(l => l.includes('another collector acked and had not stored')), 'the agent resent what c1 had acked and not stored')
  if (c1Fate === 'disk lost') rmSync(f.dataDirs[0], { recursive: true, force: true })
  else {
    await sleep(1000)
    await f.startCollector(0) // writes what its WAL still held; the agent stays on c2 (preferFirstAfter: 10m)
  }
  await sleep(3000)
  await pusher.stop()
  const n = pusher.confirmed.length
  t.ok(n > 1000, `${n} points confirmed by the agent`)
  let got: number[] = []
  await waitFor(async () => {
    got = await countSeqtest(query, influxUrl, 'fo')
    return got[0] === n
  }, 60_000, 500)
  t.same(got, [n, pusher.confirmed.reduce((a, b) => a + b, 0)], 'count and sum match: every confirmed point once, no gap, nothing extra')
  t.notOk(agent.lines.some(l => l.includes('spool full')), 'the agent dropped nothing from its spool')
}

t.test('SIGKILL c1, c1 restarted later: the agent moves to c2 and nothing is lost or doubled', async t => {
  const influxd = await withInfluxd(t)
  await scenario(t, influxd.url, 'restarted')
})

t.test('SIGKILL c1 and delete its data directory: acked but unstored points are resent to c2', async t => {
  const influxd = await withInfluxd(t)
  await scenario(t, influxd.url, 'disk lost')
})
