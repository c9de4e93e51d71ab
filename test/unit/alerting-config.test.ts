// The alerting section of collector.yaml: durations decode to ms from the schema,
// and each bad value names the file, the key and what was expected.

import t from 'tap'
import { checkCollectorConfig } from '../../collector/config.js'
import { ConfigError } from '../../common/config.js'

const base = { receivers: [{ name: 'oncall', email: ['o@example.jp'] }], routes: [{ receiver: 'oncall' }] }
const check = (alerting: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => checkCollectorConfig('/etc/kanshi/collector.yaml', { alerting: { ...base, ...alerting } }, env)

t.test('defaults and durations in ms, typed from the schema', async t => {
  const a = check({ escalation: { after: '15m', receiver: 'oncall' }, deadman: { interval: '24h', receiver: 'oncall' }, smtp: { timeout: 2500 } }, { KANSHI_SMTP_PASSWORD: 'pw' }).alerting!
  t.same([a.groupWait, a.groupInterval, a.repeatInterval, a.ackLinkTtl], [30_000, 300_000, 4 * 3_600_000, 7 * 86_400_000])
  t.equal(a.escalation?.after, 900_000)
  t.equal(a.deadman?.interval, 86_400_000)
  t.equal(a.smtp.timeout, 2500, 'a number is already ms')
  t.equal(a.smtp.password, 'pw', 'KANSHI_SMTP_PASSWORD fills the password')
  t.same(a.routes[0]!.match, {}, 'a route without match matches everything')
  t.equal(a.rulesDir, '/etc/kanshi/alert-rules', 'rulesDir is resolved beside the config file')
  t.same(a.schedules.map(s => s.name), ['business-hours', 'kiosk-hours'])
  t.ok(Object.isFrozen(a.smtp), 'frozen')
})

const bad: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ['a duration in words', { groupWait: 'soon' }, 'alerting.groupWait', /expected a duration such as "10s", "5m" or "1h", got "soon"/],
  ['repeat under a second', { repeatInterval: '10ms' }, 'alerting.repeatInterval', /of at least 1000ms, got "10ms"/],
  ['a dead-man interval under a minute', { deadman: { interval: '30s', receiver: 'oncall' } }, 'alerting.deadman.interval', /of at least 60000ms/],
  ['an unknown receiver', { routes: [{ receiver: 'nobody' }] }, 'alerting.routes.0.receiver', /expected one of the receivers \(oncall\), got "nobody"/],
  ['an unknown escalation receiver', { escalation: { after: '5m', receiver: 'x' } }, 'alerting.escalation.receiver', /one of the receivers/],
  ['a bad timezone', { timezone: 'Mars/Olympus' }, 'alerting.timezone', /an IANA timezone/],
  ['hours ending before they start', { schedules: [{ name: 's', days: 'all', hours: ['18:00-09:00'] }] }, 'alerting.schedules.0.hours.0', /start before the end/],
  ['a maintenance start that is no time', { maintenance: [{ name: 'm', match: { host: 'h' }, start: 'tomorrow', end: '2026-12-01T00:00:00Z' }] }, 'alerting.maintenance.0.start', /ISO 8601/],
  ['a typo', { groupwait: '1s' }, 'alerting.groupwait', /unknown key/]
]
for (const [name, alerting, key, expected] of bad) {
  t.test(name, async t => {
    let err: unknown
    try { check(alerting) } catch (e) { err = e }
    t.ok(err instanceof ConfigError, 'throws ConfigError')
    t.ok((err as Error).message.startsWith(`/etc/kanshi/collector.yaml: ${key}: `), (err as Error).message)
    t.match((err as Error).message, expected)
  })
}
