// SMTP faults with real processes: the mail server refusing every message
// (451) and then one that accepts the connection but never answers. The alert
// mail waits in the durable outbox and is delivered once when SMTP works again.

import t from 'tap'
import { createServer, type Socket } from 'node:net'
import { withSmtp, type Smtp } from '../helpers/smtp.js'
import { makeStack } from '../helpers/stack.js'
import { waitFor } from '../helpers/procs.js'

const rulesDir = new URL('../fixtures/alert-rules/', import.meta.url).pathname

async function feed (url: string, value: number, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ points: [{ m: 'kiosk_app', tags: { counter: '1番窓口' }, f: { queue_length: value } }] }) })
    if (res.status !== 200) throw new Error(`push: ${res.status}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

const alerting = (smtp: Smtp) => ({
  rulesDir,
  smtp: { host: '127.0.0.1', port: smtp.port, from: 'kanshi@example.jp', timeout: '2s' },
  receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }],
  routes: [{ receiver: 'oncall' }],
  groupWait: '0s', groupInterval: '1s', repeatInterval: '1h', publicUrl: 'http://127.0.0.1:1'
})

t.test('SMTP answers 451 for 15 s, then hangs for 15 s: the mail is queued and delivered once afterwards', async t => {
  const smtp = await withSmtp(t)
  smtp.refuse = true
  const stack = await makeStack(t, { influx: { embedded: { enabled: false } }, agentId: 'kiosk-smtp', role: 'kiosk', schedule: 'always', inputs: ['mem'], push: true, alerting: alerting(smtp) })
  const collector = await stack.startCollector()
  await stack.startAgent()
  await feed(stack.pushUrl, 99, 4000)
  await collector.waitForLine(l => l.includes('451') || l.includes('try again later'), 30_000)
  t.pass('the collector met the refusal (451) and kept the mail')
  await new Promise(resolve => setTimeout(resolve, 11_000))
  t.equal(smtp.mails.length, 0, 'nothing delivered while refused')

  // A server that accepts the connection and never says a word: the 2 s timeout must free the sender.
  await smtp.stop()
  const held = new Set<Socket>()
  const hang = createServer(s => { held.add(s); s.on('error', () => {}) })
  await new Promise<void>(resolve => hang.listen(smtp.port, '127.0.0.1', resolve))
  await new Promise(resolve => setTimeout(resolve, 15_000))
  t.comment(`connections the sender opened to the silent server: ${held.size} (its outbox backoff decides when; a hang must not wedge it, which the delivery below shows)`)
  for (const s of held) s.destroy()
  await new Promise<void>(resolve => hang.close(() => resolve()))

  smtp.refuse = false
  const backAt = Date.now()
  await smtp.start()
  await waitFor(() => smtp.mails.length >= 1, 90_000, 200)
  await new Promise(resolve => setTimeout(resolve, 3000))
  t.equal(smtp.mails.length, 1, 'delivered exactly once')
  t.match(smtp.mails[0]!.subject, /^\[CRITICAL\] kiosk-smtp/)
  t.ok(smtp.mails[0]!.at >= backAt, `delivered ${Math.round((smtp.mails[0]!.at - backAt) / 1000)} s after SMTP worked again`)
})
