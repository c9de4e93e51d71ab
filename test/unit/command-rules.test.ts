// The default rules for Nagios command checks, backups and expected jobs, fed
// to the evaluator on an injected clock: which rule fires for which status.

import t from 'tap'
import { fileURLToPath } from 'node:url'
import { loadRules } from '../../collector/alerting/rules.js'
import { Evaluator, type Transition } from '../../collector/alerting/evaluator.js'

const dir = fileURLToPath(new URL('../../alert-rules/', import.meta.url))
const rules = loadRules(dir, new Set(['kiosk-hours', 'business-hours']))
const T0 = Date.parse('2026-11-24T10:00:00+09:00')
const host = { host: 'db01', role: 'server', site: 'honcho' }

/** run feeds one point per 30 s for 2 minutes and returns the rules that fired. */
function fired (m: string, tags: Record<string, string>, f: Record<string, number | string>): { names: string[], text: Array<string | undefined> } {
  const ev = new Evaluator({ rules })
  const out: Transition[] = []
  for (let t = T0; t <= T0 + 120_000; t += 30_000) {
    out.push(...ev.observePoints([{ m, t, tags: { ...host, ...tags }, f }], t))
    out.push(...ev.tick(t))
  }
  const firing = out.filter(x => x.kind === 'firing')
  return { names: firing.map(x => x.rule.name).sort(), text: firing.map(x => x.series.text) }
}

t.test('a command check\'s status picks one rule with its severity; service_down stays out', async t => {
  const cmd = { service: 'mssql', check: 'command' }
  for (const [status, rule, severity] of [[1, 'command_warning', 'warning'], [2, 'command_critical', 'critical'], [3, 'command_unknown', 'warning']] as const) {
    const r = fired('service', cmd, { up: 0, status, message: `plugin says ${status}` })
    t.same(r.names, [rule], `status ${status}: ${rule} only`)
    t.same(r.text, [`plugin says ${status}`], 'the plugin\'s message is kept for the summary')
    t.equal(rules.find(x => x.name === rule)!.severity, severity)
  }
  t.same(fired('service', cmd, { up: 1, status: 0, message: 'OK' }).names, [], 'OK raises nothing')
  t.same(fired('service', { service: 'portal', check: 'http' }, { up: 1, status: 500 }).names, [], 'an http check\'s HTTP status is not a plugin status')
})

t.test('a command rule waits a minute: one bad result does not page', async t => {
  const ev = new Evaluator({ rules })
  const tags = { ...host, service: 'mssql', check: 'command' }
  const a = ev.observePoints([{ m: 'service', t: T0, tags, f: { up: 0, status: 2, message: 'x' } }], T0)
  const b = ev.observePoints([{ m: 'service', t: T0 + 30_000, tags, f: { up: 1, status: 0, message: 'ok' } }], T0 + 30_000)
  const c = ev.tick(T0 + 120_000)
  t.same([...a, ...b, ...c].map(x => x.kind), ['pending', 'cancelled'])
})

t.test('backups and expected jobs', async t => {
  t.same(fired('service', { service: 'db-backup', check: 'backup' }, { up: 0, message: 'old' }).names, ['backup_stale'])
  t.same(fired('job', { job: 'nightly-backup', deadline: '06:00' }, { missed: 1, overrun: 0 }).names, ['job_missed'])
  t.same(fired('job', { job: 'nightly-backup', deadline: '06:00', max_duration: '3h' }, { missed: 0, overrun: 1 }).names, ['job_overrun'])
  t.same(fired('service', { service: 'nightly-backup', check: 'job' }, { running: 1, started_ms: T0 }).names, [], 'a job\'s start point raises nothing')
})
