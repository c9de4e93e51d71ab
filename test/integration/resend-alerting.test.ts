// A batch resent after a failover (`resend: true`, protocol 2) goes to storage but not to alerting:
// the collector that acked it first evaluated it. The same points sent as new batches do fire.

import t from 'tap'
import { NullSink } from '../../collector/storage/null-sink.js'
import { startCollector } from '../helpers/collector.js'
import { connectAgent } from '../helpers/fake-agent.js'
import { withSmtp } from '../helpers/smtp.js'
import { waitFor } from '../helpers/procs.js'

const rulesDir = new URL('../fixtures/alert-rules/', import.meta.url).pathname
const TOKEN = 'resend-alerting-token'
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

t.test('resent batches are stored, not evaluated; new ones are', async t => {
  const smtp = await withSmtp(t)
  const { c, agentUrl } = await startCollector(t, {
    backend: new NullSink(),
    agents: [{ id: 'k1', token: TOKEN, role: 'kiosk', site: 's', schedule: 'always' }],
    config: {
      alerting: {
        rulesDir,
        smtp: { host: '127.0.0.1', port: smtp.port, from: 'kanshi@example.jp', timeout: '2s' },
        receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'en' }],
        routes: [{ receiver: 'oncall' }],
        groupWait: '0s', groupInterval: '0s', repeatInterval: '1h',
        publicUrl: 'http://127.0.0.1:1'
      }
    }
  })
  const a = await connectAgent(t, agentUrl, { token: TOKEN, id: 'k1' })
  await a.greet({}, 2)
  // queue_high: queue_length > 90 for 2 s. Four seconds of 95, every batch marked resend.
  let seq = 0
  const send = async (resend: boolean): Promise<void> => {
    for (let i = 0; i < 5; i++) {
      a.batch(++seq, [{ m: 'kiosk_app', t: Date.now(), tags: { counter: '1' }, f: { queue_length: 95 } }], resend ? { resend: true } : {})
      await a.waitFrame(m => m.type === 'ack' && m.seq === seq, `ack ${seq}`)
      await sleep(1000)
    }
  }
  await send(true)
  const reader = c.wal.reader('alerting')
  await waitFor(() => reader.caughtUp() && reader.committed.offset === c.wal.durableEnd().offset, 10_000, 50)
  await sleep(1500) // the stage's ticks run `for` on
  t.same(await c.alerting!.store.firing(), [], 'nothing fires on resent points the alerting reader has passed')
  t.equal(smtp.mails.length, 0, 'and nothing is mailed')
  await send(false)
  await waitFor(() => smtp.mails.length >= 1, 15_000, 100)
  t.match(smtp.mails[0]!.subject, /k1 queue length 95/, 'the same points as new batches fire the rule')
  t.equal((await c.alerting!.store.firing()).length, 1)
})
