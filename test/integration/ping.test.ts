// type: ping with the system ping: loopback answers with a round trip; an
// address in a network namespace the test creates answers, then, with the
// namespace's link set down, is down with 100% loss.

import t from 'tap'
import { execFileSync } from 'node:child_process'
import { pingCheck } from '../../agent/inputs/checks/ping.js'
import type { CheckResult } from '../../agent/inputs/checks/types.js'

const run = async (host: string, count = 3): Promise<CheckResult> => await pingCheck({ host, count, timeoutMs: 10_000 })(new AbortController().signal)

t.test('127.0.0.1 is up with a round trip', async t => {
  const r = await run('127.0.0.1')
  t.equal(r.up, true, r.message)
  t.equal(r.fields?.['loss_percent'], 0)
  t.ok(typeof r.fields?.['rtt_ms'] === 'number' && (r.fields['rtt_ms'] as number) > 0 && (r.fields['rtt_ms'] as number) < 100, `rtt_ms ${r.fields?.['rtt_ms']}`)
  t.match(r.message, /^3\/3 replies from 127\.0\.0\.1, rtt avg [\d.]+ ms$/)
})

t.test('several loopback addresses pinged at once: each answers for itself', async t => {
  // All of 127.0.0.0/8 is loopback on Linux: a poller's checks of several devices run concurrently.
  const hosts = ['127.0.0.2', '127.0.0.3', '127.1.2.3']
  const results = await Promise.all(hosts.map(async h => await run(h, 2)))
  results.forEach((r, i) => {
    t.equal(r.up, true, r.message)
    t.equal(r.fields?.['loss_percent'], 0, `${hosts[i]!} loss 0%`)
    t.equal(r.message.replace(/rtt avg [\d.]+ ms$/, ''), `2/2 replies from ${hosts[i]!}, `, 'the message names that address')
  })
})

t.test('an unknown host is down with ping\'s reason', async t => {
  const r = await run('no-such-host.invalid', 1)
  t.equal(r.up, false)
  t.match(r.message, /^ping no-such-host\.invalid failed: .*(not known|Temporary failure|No address)/i)
})

const notRoot = process.getuid?.() !== 0 ? 'needs root to create a network namespace (ip netns add, veth): run the tests as root to cover it' : false
t.test('a device in a network namespace: up, then its link down → up=0, loss 100', { skip: notRoot }, async t => {
  const ns = `kanshi-ping-${process.pid}`
  const host = `kp${process.pid % 100000}a`
  const peer = `kp${process.pid % 100000}b`
  // 10.254.x.y/30 from the pid, so parallel runs do not collide.
  const x = (process.pid >> 6) % 250
  const y = (process.pid % 60) * 4
  const [hostIp, devIp] = [`10.254.${x}.${y + 1}`, `10.254.${x}.${y + 2}`]
  const ip = (...args: string[]): void => { execFileSync('ip', args, { stdio: 'pipe' }) }
  t.teardown(() => {
    try { ip('link', 'del', host) } catch { /* gone with the namespace */ }
    try { ip('netns', 'del', ns) } catch { /* never made */ }
  })
  ip('netns', 'add', ns)
  ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer)
  ip('link', 'set', peer, 'netns', ns)
  ip('addr', 'add', `${hostIp}/30`, 'dev', host)
  ip('link', 'set', host, 'up')
  ip('-n', ns, 'addr', 'add', `${devIp}/30`, 'dev', peer)
  ip('-n', ns, 'link', 'set', peer, 'up')
  const up = await run(devIp)
  t.equal(up.up, true, up.message)
  t.equal(up.fields?.['loss_percent'], 0)
  ip('-n', ns, 'link', 'set', peer, 'down')
  const down = await run(devIp)
  t.same([down.up, down.fields?.['loss_percent'], down.fields?.['rtt_ms']], [false, 100, undefined], down.message)
  t.equal(down.message, `no reply from ${devIp} (3 probes, 100% loss)`)
})
