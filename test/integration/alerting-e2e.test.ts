// Alerting end to end with real processes: an agent reports the value we
// choose (its push input), the collector evaluates it as it streams in, and a
// real SMTP server on loopback receives the mails.

import t from 'tap'
import { createHash } from 'node:crypto'
import { withSmtp, type Smtp } from '../helpers/smtp.js'
import { makeStack } from '../helpers/stack.js'
import { waitFor } from '../helpers/procs.js'

const rulesDir = new URL('../fixtures/alert-rules/', import.meta.url).pathname
const VIEWER = 'viewer-token-for-tests'

async function push (url: string, value: number): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ points: [{ m: 'kiosk_app', tags: { counter: '1番窓口' }, f: { queue_length: value } }] }) })
  if (res.status !== 200) throw new Error(`push: ${res.status} ${await res.text()}`)
}

/** feed pushes value every 200 ms for ms milliseconds. */
async function feed (url: string, value: number, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    await push(url, value)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

function alertingConfig (smtp: Smtp) {
  return {
    rulesDir,
    smtp: { host: '127.0.0.1', port: smtp.port, from: 'kanshi@example.jp', timeout: '2s' },
    receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }, { name: 'ops-en', email: ['ops@example.jp'], locale: 'en' }],
    routes: [{ match: { severity: 'critical' }, receiver: 'oncall' }],
    groupWait: '0s', groupInterval: '1s', repeatInterval: '1h',
    publicUrl: 'http://127.0.0.1:1', grafanaUrl: 'http://grafana.example.jp:3000'
  }
}

// The kiosks here run around the clock (schedule: always): a kiosk's default opening hours would
// put its alerts out of schedule when this runs after 17:15 JST.
t.test('breach → one firing mail after `for`; hysteresis holds; recovery → one resolved mail', async t => {
  const smtp = await withSmtp(t)
  const stack = await makeStack(t, {
    influx: { url: undefined, embedded: { enabled: false } }, agentId: 'kiosk-01', role: 'kiosk', schedule: 'always', site: '本庁舎', inputs: ['mem'], push: true,
    alerting: alertingConfig(smtp),
    collector: { api: { tokens: [{ name: 'noc', tokenSha256: createHash('sha256').update(VIEWER).digest('hex'), role: 'viewer' }] } }
  })
  await stack.startCollector()
  await stack.startAgent()
  const breachAt = Date.now()
  await feed(stack.pushUrl, 95, 1000)
  await waitFor(() => smtp.mails.length >= 1, 15_000, 100)
  const firing = smtp.mails[0]!
  t.equal(firing.subject, '[CRITICAL] kiosk-01 待ち人数 95 (> 90)')
  t.same(firing.to, ['oncall@example.jp'])
  t.ok(firing.at - breachAt >= 2000, `mailed ${firing.at - breachAt} ms after the breach, not before for: 2s`)
  t.ok(firing.at - breachAt < 10_000, 'and within a few seconds of it')
  t.match(firing.text, /ホスト: kiosk-01 \(拠点: 本庁舎\)/)
  t.match(firing.text, /閾値: 90/)
  t.match(firing.text, /1番窓口 の待ち人数が多すぎます/, 'the description, rendered from the point\'s tags')
  t.match(firing.text, /grafana\.example\.jp:3000\/d\/kanshi-host\/host-detail\?var-host=kiosk-01/)
  t.match(firing.text, /\/v1\/alerts\/\d+\/ack\?exp=\d+&sig=/)
  t.match(firing.html, /<table/)
  await feed(stack.pushUrl, 85, 3000)
  t.equal(smtp.mails.length, 1, '85 is under 90 but over clear 80: no resolved mail, no flapping')
  await feed(stack.pushUrl, 50, 1000)
  await waitFor(() => smtp.mails.length >= 2, 15_000, 100)
  t.match(smtp.mails[1]!.subject, /^\[RESOLVED 復旧\] kiosk-01 待ち人数/)
  await new Promise(resolve => setTimeout(resolve, 1500))
  t.equal(smtp.mails.length, 2, 'exactly one firing and one resolved mail')
  const res = await fetch(`http://127.0.0.1:${stack.port}/v1/incidents`, { headers: { authorization: `Bearer ${VIEWER}` } })
  const { incidents } = await res.json() as { incidents: Array<Record<string, unknown>> }
  t.equal(incidents.length, 1)
  const inc = incidents[0]!
  t.equal(inc['rule'], 'queue_high')
  t.equal(inc['host'], 'kiosk-01')
  t.ok(Math.abs((inc['notified_at'] as number) - firing.at) < 1000, 'notified_at is when the SMTP server accepted the mail')
  t.ok((inc['resolved_at'] as number) > (inc['detected_at'] as number))
  t.equal((await fetch(`http://127.0.0.1:${stack.port}/v1/incidents`)).status, 401, 'the API needs a token')
})

t.test('SMTP down for a minute: the mail waits in the outbox and goes out when the server is back', async t => {
  const smtp = await withSmtp(t)
  await smtp.stop()
  const stack = await makeStack(t, {
    influx: { embedded: { enabled: false } }, agentId: 'kiosk-02', role: 'kiosk', schedule: 'always', inputs: ['mem'], push: true, alerting: alertingConfig(smtp),
    collector: { api: { tokens: [{ name: 'noc', tokenSha256: createHash('sha256').update(VIEWER).digest('hex'), role: 'viewer' }] } }
  })
  await stack.startCollector()
  await stack.startAgent()
  await feed(stack.pushUrl, 99, 4000)
  await new Promise(resolve => setTimeout(resolve, 56_000)) // a minute without SMTP
  const backAt = Date.now()
  await smtp.start()
  // The outbox backs off from 2.5–5 s, doubling (notify/send.ts): after a minute of refusals the next try can be 40–80 s away.
  await waitFor(() => smtp.mails.length >= 1, 90_000, 200)
  t.match(smtp.mails[0]!.subject, /^\[CRITICAL\] kiosk-02/)
  t.ok(smtp.mails[0]!.at >= backAt, 'delivered after the server returned')
  const res = await fetch(`http://127.0.0.1:${stack.port}/v1/incidents`, { headers: { authorization: `Bearer ${VIEWER}` } })
  const inc = (await res.json() as { incidents: Array<{ notified_at: number, detected_at: number }> }).incidents[0]!
  t.ok(Math.abs(inc.notified_at - smtp.mails[0]!.at) < 1000, `notified_at is the real acceptance time, ${Math.round((inc.notified_at - inc.detected_at) / 1000)} s after detection`)
})

t.test('collector SIGKILLed while pending and while firing: no duplicate mail, no lost alert', async t => {
  const smtp = await withSmtp(t)
  const stack = await makeStack(t, { influx: { embedded: { enabled: false } }, agentId: 'kiosk-03', role: 'kiosk', schedule: 'always', inputs: ['mem'], push: true, alerting: alertingConfig(smtp) })
  let collector = await stack.startCollector()
  await stack.startAgent()
  await feed(stack.pushUrl, 95, 800) // pending (for: 2s)
  collector.kill('SIGKILL')
  await collector.waitExit()
  collector = await stack.startCollector()
  await feed(stack.pushUrl, 95, 2500)
  await waitFor(() => smtp.mails.length >= 1, 15_000, 100)
  t.match(smtp.mails[0]!.subject, /^\[CRITICAL\] kiosk-03/, 'the pending alert survived the kill and fired')
  collector.kill('SIGKILL') // while firing
  await collector.waitExit()
  collector = await stack.startCollector()
  await feed(stack.pushUrl, 95, 3000)
  t.equal(smtp.mails.length, 1, 'no second firing mail after the restart')
  await feed(stack.pushUrl, 10, 1000)
  await waitFor(() => smtp.mails.length >= 2, 15_000, 100)
  t.match(smtp.mails[1]!.subject, /^\[RESOLVED/)
})
