// The agent's own faults, with a real agent, collector and influxd: its wall
// clock stepped back an hour and then forward two (libfaketime, as NTP or an
// operator would), then the agent SIGKILLed and restarted mid-stream. It must
// not crash, must report the skew in agent.clock_skew_ms, keep every point,
// resume its seq and resend what was not acked.

import t from 'tap'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { withInfluxd, query } from '../helpers/influxd.js'
import { waitFor } from '../helpers/procs.js'
import { asViewer } from '../helpers/config.js'
import { makeStack, countSeqtest } from '../helpers/stack.js'
import { startPusher } from '../helpers/pusher.js'

// Debian package faketime; scripts/test.sh installs it as root.
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1'
const HOUR = 3_600_000

t.test('agent clock stepped back 1 h then forward 2 h, then SIGKILLed: no crash, skew reported, nothing lost or doubled, seq resumes', async t => {
  if (!existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} is missing: apt-get install faketime (scripts/test.sh does this as root)`)
  const influxd = await withInfluxd(t)
  const stack = await makeStack(t, { influx: { version: 1, url: influxd.url, db: 'kanshi' }, agentId: 'clk', inputs: ['mem'], push: true })
  const offsetFile = join(stack.dir, 'faketime')
  writeFileSync(offsetFile, '+0\n')
  // The timestamp file is read on every clock call; the monotonic clock stays real, so timers keep working.
  const env = { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: offsetFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' }
  let collector = await stack.startCollector()
  let agent = await stack.startAgent(env)
  await agent.waitForLine(l => l.includes('connected to collector'), 20_000)
  const pusher = startPusher(stack.pushUrl, { perRequest: 5, everyMs: 50 })
  await new Promise(resolve => setTimeout(resolve, 3000))
  writeFileSync(offsetFile, '-1h\n')
  await new Promise(resolve => setTimeout(resolve, 4000))
  t.equal(agent.child.exitCode, null, 'the agent runs on after its clock went back an hour')
  writeFileSync(offsetFile, '+1h\n')
  await new Promise(resolve => setTimeout(resolve, 4000))
  t.equal(agent.child.exitCode, null, 'and after it jumped forward two hours')
  writeFileSync(offsetFile, '+0\n')
  await new Promise(resolve => setTimeout(resolve, 2000))

  // With the collector away the spool fills with unacked batches; then SIGKILL the agent and bring both back.
  collector.kill('SIGTERM')
  await collector.waitExit()
  await new Promise(resolve => setTimeout(resolve, 2500))
  const before = agent.lines.length
  agent.kill('SIGKILL')
  await agent.waitExit()
  agent = await stack.startAgent(env)
  await new Promise(resolve => setTimeout(resolve, 1000))
  collector = await stack.startCollector()
  const line = await agent.waitForLine(l => l.includes('connected to collector'), 20_000)
  const welcome = JSON.parse(line) as { ackedSeq: number, pending: number }
  t.ok(welcome.ackedSeq > 0, `the restarted agent was welcomed at ackedSeq ${welcome.ackedSeq}`)
  t.ok(welcome.pending >= 10, `and resent the ${welcome.pending} batches spooled before the SIGKILL and since`)
  await new Promise(resolve => setTimeout(resolve, 2000))
  await pusher.stop()
  t.ok(before > 0)

  const n = pusher.confirmed.length
  let got: number[] = []
  await waitFor(async () => { got = await countSeqtest(query, influxd.url, 'clk'); return got[0] === n }, 60_000, 500).catch(() => {})
  t.same(got, [n, pusher.confirmed.reduce((a, b) => a + b, 0)], `all ${n} confirmed points present once across the clock steps and the SIGKILL`)

  const r = await query(influxd.url, 'kanshi', "SELECT clock_skew_ms FROM agent WHERE host = 'clk' AND time > now() - 4h AND time < now() + 4h")
  const skews = (r.results[0].series?.[0]?.values ?? []).map((v: number[]) => v[1]!)
  const near = (target: number): boolean => skews.some((s: number) => Math.abs(s - target) < 5000)
  t.ok(near(0), 'skew about 0 before the steps')
  t.ok(near(HOUR), 'skew about +1 h (collector ahead) while the agent clock was an hour behind')
  t.ok(near(-HOUR), 'skew about -1 h while the agent clock was an hour ahead')
  t.comment(`clock_skew_ms values seen: ${[...new Set(skews.map((s: number) => Math.round(s / 60_000)))].join(', ')} (minutes)`)
  const dup = await (await fetch(`http://127.0.0.1:${stack.port}/metrics`, { headers: asViewer })).text()
  t.comment(`duplicate batches acked again, not stored: ${/^kanshi_duplicate_batches_total (\d+)/m.exec(dup)?.[1] ?? 'n/a'}`)
  collector.kill('SIGTERM')
  await collector.waitExit()
})
