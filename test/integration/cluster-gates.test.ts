// The leader gates in the collector app: with a gate that says "not the leader" the report
// schedule runs nothing; a due time claimed elsewhere is generated but not mailed, and marked
// done; a claimed one is mailed once. The dead-man's notice is planned by the leader only.
// (The real gate, PostgreSQL's lease, is exercised by cluster-leader/-failover.test.ts.)

import type { SqliteAlertStore } from '../../collector/alerting/store-sqlite.js'
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Generator } from '../../collector/report/delivery/runner.js'
import { candidates } from '../../collector/alerting/notify/notifier.js'
import { startCollector } from '../helpers/collector.js'
import { withSmtp } from '../helpers/smtp.js'

const rulesDir = new URL('../fixtures/alert-rules/', import.meta.url).pathname
const at = (s: string): number => Date.parse(`${s}+09:00`)

t.test('reports run on the leader only, and once per claimed due time', async t => {
  const smtp = await withSmtp(t)
  const clock = { t: at('2026-07-16T07:00') }
  const calls: string[] = []
  const gen: Generator = async g => {
    calls.push(g.period)
    mkdirSync(g.outDir, { recursive: true })
    writeFileSync(join(g.outDir, 'report.html'), `<h1>${g.period}</h1>`)
    return { files: ['report.html'], summary: [] }
  }
  const tc = await startCollector(t, {
    config: {
      alerting: { rulesDir, smtp: { host: '127.0.0.1', port: smtp.port, from: 'kanshi@example.jp', timeout: '2s' }, receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }] },
      reports: { outDir: 'reports', daily: { at: '08:15', receivers: ['oncall'] } }
    },
    build: { now: () => clock.t, reportGenerators: { daily: gen } }
  })
  const runner = tc.c.reports!
  // The test drives the schedule: the runner's own timer is stopped, so no tick of its own shares a run with ours.
  await runner.stop()
  const gate = { lead: false, claimable: new Set<number>(), claims: [] as Array<[string, number]> }
  runner.gate = { leader: () => gate.lead, claim: async (job, dueAt) => { gate.claims.push([job, dueAt]); return gate.claimable.has(dueAt) } }
  const mails = (): number => ((tc.c.alerting!.store as SqliteAlertStore).db.db.prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'report'").get() as { n: number }).n

  clock.t = at('2026-07-16T08:16')
  t.same(await runner.tick(), [], 'not the leader: nothing runs')
  t.same(calls, [], 'not even generated')

  gate.lead = true
  const ran = await runner.tick()
  t.same(ran.map(r => [r.kind, r.period, r.mails.length]), [['daily', '2026-07-16', 0]], 'claimed elsewhere: generated, not mailed')
  t.same(gate.claims, [['report:daily', at('2026-07-16T08:15')]], 'claimed by the job name and its due time')
  t.equal(mails(), 0)
  t.same(await runner.tick(), [], 'and marked done: not tried again')

  clock.t = at('2026-07-17T08:15')
  gate.claimable.add(at('2026-07-17T08:15'))
  const next = await runner.tick()
  t.same(next.map(r => [r.period, r.mails.length]), [['2026-07-17', 1]], 'claimed here: mailed to the one receiver')
  t.equal(mails(), 1)
  t.same(calls, ['2026-07-16', '2026-07-17'])
})

t.test('the dead-man notice is a candidate on the leader only', async t => {
  const o = { escalation: undefined, deadman: { intervalMs: 3_600_000, receiver: 'oncall' } }
  t.ok(candidates([], [], o).some(n => n.kind === 'deadman'), 'single collector / leader: planned')
  t.ok(candidates([], [], o, true).some(n => n.kind === 'deadman'))
  t.notOk(candidates([], [], o, false).some(n => n.kind === 'deadman'), 'not the leader: not planned')
  t.same(candidates([], [], o, false).map(n => n.kind), ['firing', 'resolved', 'repeat'], 'the rest is unchanged')
})
