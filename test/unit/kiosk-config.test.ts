// Kiosk opening hours in collector.yaml: agents[].schedule names a schedule
// (kiosks default to kiosk-hours); alerting and the monthly report both use it.

import t from 'tap'
import { checkCollectorConfig } from '../../collector/config.js'
import { ConfigError } from '../../common/config.js'
import { matcherMatches } from '../../collector/alerting/silences.js'

const hash = (c: string): string => c.repeat(64)
const base = { influx: { version: 1, url: 'http://127.0.0.1:8086', db: 'kanshi' } }

t.test('an unknown schedule is named with the choices', async t => {
  let err: unknown
  try { checkCollectorConfig('/etc/kanshi/collector.yaml', { ...base, agents: [{ id: 'k1', tokenSha256: hash('a'), role: 'kiosk', schedule: 'night' }] }, {}) } catch (e) { err = e }
  t.ok(err instanceof ConfigError)
  t.equal((err as Error).message, '/etc/kanshi/collector.yaml: agents.0.schedule: expected always or one of the schedules (business-hours, kiosk-hours), got "night"')
})

t.test('opening hours become report overrides, one per schedule, after the written ones', async t => {
  const c = checkCollectorConfig('/etc/kanshi/collector.yaml', {
    ...base,
    alerting: {
      receivers: [{ name: 'oncall', email: ['oncall@example.jp'] }],
      routes: [{ receiver: 'oncall' }],
      schedules: [{ name: 'kiosk-hours', days: 'business', hours: ['08:30-17:15'] }, { name: 'saturday', days: [6], hours: ['09:00-12:00'] }, { name: 'business-hours', days: 'business', hours: ['08:30-17:45'] }]
    },
    report: { overrides: [{ match: { host: 'special' }, availability: 95 }] },
    agents: [
      { id: 'kiosk.01', tokenSha256: hash('a'), role: 'kiosk' },
      { id: 'kiosk02', tokenSha256: hash('b'), role: 'kiosk' },
      { id: 'branch-k', tokenSha256: hash('c'), role: 'kiosk', schedule: 'saturday' },
      { id: 'station-k', tokenSha256: hash('d'), role: 'kiosk', schedule: 'always' },
      { id: 'web01', tokenSha256: hash('e'), role: 'server' }
    ]
  }, {})
  const o = c.report.overrides
  t.equal(o.length, 3)
  t.same(o[0]!.match, { host: 'special' }, 'written overrides come first')
  t.same([o[1]!.serviceHours!.name, o[2]!.serviceHours!.name], ['kiosk-hours', 'saturday'])
  const hosts = (i: number): string[] => ['kiosk.01', 'kiosk02', 'kioskX01', 'branch-k', 'station-k', 'web01'].filter(h => matcherMatches(o[i]!.match, { host: h }, ''))
  t.same(hosts(1), ['kiosk.01', 'kiosk02'], 'ids are matched exactly (the dot is not a wildcard)')
  t.same(hosts(2), ['branch-k'])
})
