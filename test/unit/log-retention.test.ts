// logsBy sweeps as pure logic: each rule deletes its role/site older than now - keep; a failing
// sweep is counted every time and logged once until it works again; the archive's filter matches.

import t from 'tap'
import { Registry } from 'prom-client'
import { createMetrics } from '../../collector/metrics.js'
import { LogSweeper, shortLived, whereOf } from '../../collector/storage/log-retention.js'
import { NullSink } from '../../collector/storage/null-sink.js'
import type { SendResult } from '../../common/send-result.js'

const HOUR = 3_600_000
const rules = [{ where: { role: 'kiosk' }, keep: 24 * HOUR }, { where: { role: 'kiosk', site: 'branch' }, keep: 2 * HOUR }]

t.test('each rule deletes its tags before now - keep; failures counted, logged once', async t => {
  const calls: Array<[Record<string, string>, number]> = []
  const answers: SendResult[] = [{ kind: 'retry', reason: 'HTTP 403: forbidden' }, { kind: 'ok' }, { kind: 'retry', reason: 'HTTP 403: forbidden' }, { kind: 'ok' }, { kind: 'ok' }, { kind: 'ok' }]
  const backend = Object.assign(new NullSink(), { deleteLogs: async (w: Record<string, string>, before: number): Promise<SendResult> => { calls.push([w, before]); return answers.shift()! } })
  const logged: string[] = []
  const logger = { error: (_o: unknown, m: string) => logged.push(`error ${m}`), info: (_o: unknown, m: string) => logged.push(`info ${m}`) } as never
  const metrics = createMetrics(new Registry())
  const now = 100 * HOUR
  const s = new LogSweeper({ targets: [{ name: 'a', backend, rules, intervalMs: HOUR }], metrics, logger, now: () => now })
  for (let i = 0; i < 3; i++) await s.sweep({ name: 'a', backend, rules, intervalMs: HOUR })
  t.same(calls.slice(0, 2), [[{ role: 'kiosk' }, now - 24 * HOUR], [{ role: 'kiosk', site: 'branch' }, now - 2 * HOUR]], 'one delete per rule, cut at now - keep')
  const v = (await metrics.logsSwept.get()).values
  t.equal(v.find(x => x.labels.result === 'fail')?.value, 2, 'two failed sweeps counted')
  t.equal(v.find(x => x.labels.result === 'ok')?.value, 4)
  t.equal(logged.filter(m => m.startsWith('error')).length, 1, 'the same failure is logged once, not every sweep')
  t.equal(logged.filter(m => m.startsWith('info')).length, 1, 'and its recovery once')
})

t.test('whereOf and the archive filter', async t => {
  t.same(whereOf(rules[1]!), { role: 'kiosk', site: 'branch' })
  const f = shortLived(rules)!
  t.ok(f('kiosk', 'honcho'))
  t.notOk(f('server', 'branch'))
  t.equal(shortLived([]), undefined, 'no rules: no filter, the archive keeps everything')
})
