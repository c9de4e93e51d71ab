// Expected jobs (collector.yaml jobs:) in the real collector on a fake clock,
// with the default alert rules and a real SMTP server: a run missing at its
// deadline is one mail at the deadline, a run past maxDuration another, and
// the late run succeeding resolves both; the state survives a restart.

import t, { type Test } from 'tap'
import { fileURLToPath } from 'node:url'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { NullSink } from '../../collector/storage/null-sink.js'
import { startCollector, type TestCollector } from '../helpers/collector.js'
import { connectAgent, type FakeAgent } from '../helpers/fake-agent.js'
import { withSmtp, type Smtp } from '../helpers/smtp.js'
import { waitFor } from '../helpers/procs.js'

const rulesDir = fileURLToPath(new URL('../../alert-rules/', import.meta.url))
const jst = (s: string): number => Date.parse(`${s}+09:00`)
const MIN = 60_000

interface Clock { now: number }

async function setup (t: Test, clock: Clock, smtp: Smtp): Promise<TestCollector> {
  return await startCollector(t, {
    backend: new NullSink(),
    agents: [{ id: 'db01', role: 'server', site: 'honcho' }],
    build: { now: () => clock.now },
    config: {
      alerting: {
        rulesDir,
        smtp: { host: '127.0.0.1', port: smtp.port, from: 'kanshi@example.jp', timeout: '2s' },
        receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }],
        routes: [{ receiver: 'oncall' }],
        groupWait: '0s', groupInterval: '0s', repeatInterval: '24h'
      },
      // 2026-11-23 is a national holiday (勤労感謝の日): no run is expected that day.
      jobs: [{ name: 'nightly-backup', host: 'db01', schedule: 'business-days', deadline: '06:00', maxDuration: '3h' }]
    }
  })
}

async function agent (t: Test, col: TestCollector): Promise<FakeAgent> {
  const a = await connectAgent(t, col.agentUrl, { token: col.tokens['db01']!, id: 'db01' })
  await a.greet({ role: 'server', site: 'honcho' })
  return a
}

const jobMails = (smtp: Smtp) => smtp.mails.filter(m => /nightly-backup|job_/.test(m.subject))

/** step moves the fake clock and waits for the tracker's next tick (once a second) to see it. */
async function step (clock: Clock, to: number): Promise<void> {
  clock.now = to
  await new Promise(resolve => setTimeout(resolve, 1300))
}

t.test('missed at the deadline, overrun past maxDuration, resolved by the late success', async t => {
  const smtp = await withSmtp(t)
  const clock = { now: jst('2026-11-23T05:00:00') }
  const col = await setup(t, clock, smtp)
  const a = await agent(t, col)
  await step(clock, jst('2026-11-23T06:00:30'))
  t.same(jobMails(smtp), [], 'no run is expected on a holiday')
  await step(clock, jst('2026-11-24T05:59:59'))
  t.same(jobMails(smtp), [], 'nothing before the deadline')
  const deadline = jst('2026-11-24T06:00:00')
  await step(clock, deadline)
  await waitFor(() => jobMails(smtp).length >= 1, 10_000, 100)
  const missed = jobMails(smtp)[0]!
  t.match(missed.subject, /^\[CRITICAL\] db01 のジョブ nightly-backup が期限 06:00 までに正常終了していません/)
  const inc = (await col.c.alerting!.store.firing()).find(i => i.rule === 'job_missed')!
  t.equal(inc.host, 'db01')
  t.ok(inc.detected_at >= deadline && inc.detected_at < deadline + 5000, 'detected at the deadline (by the fake clock)')

  // The run starts late, at 06:10, and hangs.
  const started = jst('2026-11-24T06:10:00')
  clock.now = started
  a.batch(1, [{ m: 'service', t: started, tags: { service: 'nightly-backup', check: 'job' }, f: { running: 1, started_ms: started, message: 'running' } }])
  await a.expect('ack')
  await step(clock, started + 3 * 60 * MIN - 1000)
  t.equal(jobMails(smtp).length, 1, 'not overrun before maxDuration')
  await step(clock, started + 3 * 60 * MIN + 1000)
  await waitFor(() => jobMails(smtp).length >= 2, 10_000, 100)
  t.match(jobMails(smtp)[1]!.subject, /^\[WARNING\] db01 のジョブ nightly-backup が最大実行時間 3h を超えて実行中です/)

  // It finishes successfully at 09:20: both alerts resolve.
  const finished = started + 190 * MIN
  clock.now = finished
  a.batch(2, [{ m: 'service', t: finished, tags: { service: 'nightly-backup', check: 'job' }, f: { up: 1, exit_code: 0, duration_s: 190 * 60, started_ms: started, running: 0, message: 'ok' } }])
  await a.expect('ack')
  await waitFor(async () => (await col.c.alerting!.store.firing()).every(i => !i.rule.startsWith('job_')) && jobMails(smtp).length >= 3, 10_000, 100)
  await new Promise(resolve => setTimeout(resolve, 1000))
  const resolved = jobMails(smtp).slice(2)
  t.ok(resolved.length > 0 && resolved.every(m => /^\[RESOLVED 復旧\]/.test(m.subject)), resolved.map(m => m.subject).join('\n'))
  for (const rule of ['job_missed', 'job_overrun']) t.ok(resolved.some(m => m.subject.includes(rule) || m.text.includes(rule)), `${rule} resolved in a mail`)
  t.same((await col.c.alerting!.store.firing()).filter(i => i.rule.startsWith('job_')), [])
  const runs = col.c.jobs!.store.runs('nightly-backup', 'db01')
  t.same(runs.map(r => [r.due_at, r.started_at, r.finished_at, r.ok]), [[deadline, started, finished, 1]], 'the late run counts for the 06:00 run; no run on the holiday')
  await step(clock, finished + 2000)
  t.equal(jobMails(smtp).length, 2 + resolved.length, 'nothing more')
})

t.test('an on-time run raises nothing; a missed run stays firing across a restart, once', async t => {
  const smtp = await withSmtp(t)
  const clock = { now: jst('2026-11-24T23:00:00') }
  let col = await setup(t, clock, smtp)
  const a = await agent(t, col)
  const started = jst('2026-11-25T01:00:00')
  clock.now = started + 30 * MIN
  a.batch(1, [{ m: 'service', t: clock.now, tags: { service: 'nightly-backup', check: 'job' }, f: { up: 1, exit_code: 0, duration_s: 1800, started_ms: started, running: 0, message: 'ok' } }])
  await a.expect('ack')
  await step(clock, jst('2026-11-25T06:00:05'))
  t.same(jobMails(smtp), [], 'the run finished before its deadline')
  await step(clock, jst('2026-11-26T06:00:05'))
  await waitFor(() => jobMails(smtp).length >= 1, 10_000, 100)
  await a.close()
  col = await col.restart()
  await step(clock, jst('2026-11-26T06:30:00'))
  t.equal(jobMails(smtp).length, 1, 'no second mail after the restart')
  t.same(col.c.jobs!.store.runs('nightly-backup', 'db01').map(r => r.ok), [1, 0], 'Wednesday ok, Thursday missing')
  // The job is taken out of the config: what it left firing resolves at the next start.
  const file = join(col.dir, 'collector.yaml')
  const cfg = parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  writeFileSync(file, stringify({ ...cfg, jobs: [] }))
  col = await col.restart()
  await waitFor(() => jobMails(smtp).length >= 2, 10_000, 100)
  t.match(jobMails(smtp)[1]!.subject, /^\[RESOLVED 復旧\]/)
  t.same(col.c.jobs!.store.states(), [], 'and the job is forgotten')
})

t.test('a deadline moved after an early success: the success counts for the new deadline', async t => {
  const smtp = await withSmtp(t)
  const clock = { now: jst('2026-11-24T23:00:00') }
  let col = await setup(t, clock, smtp)
  const a = await agent(t, col)
  const started = jst('2026-11-25T01:00:00')
  clock.now = started + 30 * MIN
  a.batch(1, [{ m: 'service', t: clock.now, tags: { service: 'nightly-backup', check: 'job' }, f: { up: 1, exit_code: 0, duration_s: 1800, started_ms: started, running: 0, message: 'ok' } }])
  await a.expect('ack')
  await waitFor(() => col.c.jobs!.store.runs('nightly-backup', 'db01').length === 1, 10_000, 100)
  await a.close()
  const file = join(col.dir, 'collector.yaml')
  const cfg = parse(readFileSync(file, 'utf8')) as { jobs: Array<Record<string, unknown>> }
  writeFileSync(file, stringify({ ...cfg, jobs: [{ ...cfg.jobs[0], deadline: '07:00' }] }))
  col = await col.restart()
  await step(clock, jst('2026-11-25T07:00:05'))
  t.same(jobMails(smtp), [], 'no missed run: the 01:00 run succeeded before both deadlines')
  t.same(col.c.jobs!.store.runs('nightly-backup', 'db01').map(r => [r.due_at, r.ok]), [[jst('2026-11-25T07:00:00'), 1]])
})
