// The shipped alert-rules/security.yaml on the real evaluator: the failed-logon
// burst counts Windows failures only, the SSH brute-force rule SSH failures
// only, each per host within its window; a lockout and a detection fire at once.

import t from 'tap'
import { Evaluator } from '../../collector/alerting/evaluator.js'
import { loadRules } from '../../collector/alerting/rules.js'
import type { LogEvent } from '../../protocol/messages.js'

const rules = loadRules(new URL('../../alert-rules/', import.meta.url).pathname, new Set(['kiosk-hours', 'business-hours']))
const fired = (tr: Array<{ kind: string, rule: { name: string } }>): string[] => tr.filter(x => x.kind === 'firing').map(x => x.rule.name)
const ev = (t: number, kind: string, source: string, host = 'srv01'): LogEvent => ({ t, source, level: 'info', message: `[${kind}] at ${t}`, tags: { host, role: 'server', site: 's', kind } })
const WIN = 'winevent:Security/Microsoft-Windows-Security-Auditing'
const SSH = 'journald:ssh.service'
const MIN = 60_000

t.test('the security rules load with the default set', async t => {
  for (const n of ['failed_logon_burst', 'ssh_brute_force', 'account_lockout', 'malware_detected', 'defender_unhealthy']) t.ok(rules.some(r => r.name === n), n)
})

t.test('failed_logon_burst: 5 Windows failures within 10 minutes on one host', async t => {
  const e = new Evaluator({ rules })
  const out: string[] = []
  // 6 failures 3 minutes apart: never more than 4 within any 10 minutes.
  for (const m of [0, 3, 6, 9, 12, 15]) out.push(...fired(e.observeEvents([ev(m * MIN, 'logon_failure', WIN)], m * MIN)), ...fired(e.tick(m * MIN + 1)))
  t.same(out, [])
  // On another host, 4 then a 5th within the window fires once.
  const times = [20, 21, 22, 23, 24].map(m => m * MIN)
  const got = times.flatMap(at => fired(e.observeEvents([ev(at, 'logon_failure', WIN, 'srv02')], at)))
  t.same(got, ['failed_logon_burst'])
  t.same(fired(e.observeEvents(Array.from({ length: 9 }, (_, i) => ev(30 * MIN + i, 'logon_failure', SSH, 'web01')), 30 * MIN)), [], 'SSH failures are not Windows failures, and 9 are under the brute-force count')
  t.same(fired(e.observeEvents([ev(30 * MIN + 9, 'logon_failure', SSH, 'web01')], 30 * MIN + 9)), ['ssh_brute_force'], 'the 10th SSH failure within 5 minutes')
})

t.test('a lockout and a malware detection fire on the first event; an action taken does not', async t => {
  const e = new Evaluator({ rules })
  t.same(fired(e.observeEvents([ev(0, 'lockout', WIN)], 0)), ['account_lockout'])
  t.same(fired(e.observeEvents([ev(1, 'malware_action', 'winevent:Microsoft-Windows-Windows Defender/Operational/Microsoft-Windows-Windows Defender')], 1)), [])
  t.same(fired(e.observeEvents([ev(2, 'malware', 'winevent:Microsoft-Windows-Windows Defender/Operational/Microsoft-Windows-Windows Defender')], 2)), ['malware_detected'])
  t.equal(rules.find(r => r.name === 'malware_detected')!.severity, 'critical')
})
