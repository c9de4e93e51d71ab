// The reports: section: defaults, outDir beside the config file, and the clear
// errors for a schedule without alerting or naming an unknown receiver.

import t from 'tap'
import { checkCollectorConfig } from '../../collector/config.js'

const FILE = '/etc/kanshi/collector.yaml'
const alerting = { receivers: [{ name: 'oncall', email: ['o@example.jp'] }, { name: 'managers', email: ['m@example.jp'] }] }

t.test('defaults: ./reports beside the file, kept 400 days, Japanese with a PDF, nothing scheduled', async t => {
  const r = checkCollectorConfig(FILE, {}, {}).reports
  t.same(r, { outDir: '/etc/kanshi/reports', keep: 400 * 86_400_000, lang: 'ja', pdf: true })
  const c = checkCollectorConfig(FILE, { alerting, reports: { outDir: '/srv/reports', keep: '730d', daily: { receivers: ['oncall'] }, monthly: { receivers: ['managers'] } } }, {}).reports
  t.same([c.outDir, c.keep, c.daily, c.monthly], ['/srv/reports', 730 * 86_400_000, { at: '08:15', receivers: ['oncall'] }, { businessDay: 5, at: '09:00', receivers: ['managers'] }])
})

t.test('a schedule without an alerting section names the key', async t => {
  t.throws(() => checkCollectorConfig(FILE, { reports: { daily: { receivers: ['oncall'] } } }, {}),
    { message: `${FILE}: reports.daily: expected an alerting section (alerting.smtp, alerting.receivers) to mail the report through; add one or remove this key` })
  t.throws(() => checkCollectorConfig(FILE, { reports: { monthly: { receivers: ['managers'] } } }, {}), { message: /: reports\.monthly: expected an alerting section/ })
})

t.test('an unknown receiver names the key and the known ones', async t => {
  t.throws(() => checkCollectorConfig(FILE, { alerting, reports: { monthly: { receivers: ['managers', 'bosses'] } } }, {}),
    { message: `${FILE}: reports.monthly.receivers.1: expected one of the receivers (oncall, managers), got "bosses"` })
})

t.test('bad values name the key and what is expected', async t => {
  t.throws(() => checkCollectorConfig(FILE, { alerting, reports: { daily: { at: '8:15', receivers: ['oncall'] } } }, {}), { message: /reports\.daily\.at: expected a local time HH:MM/ })
  t.throws(() => checkCollectorConfig(FILE, { alerting, reports: { monthly: { businessDay: 20, receivers: ['oncall'] } } }, {}), { message: /reports\.monthly\.businessDay: expected a business day of the month 1-15, got 20/ })
  t.throws(() => checkCollectorConfig(FILE, { alerting, reports: { daily: { receivers: [] } } }, {}), { message: /reports\.daily\.receivers: expected a list of receiver names/ })
  t.throws(() => checkCollectorConfig(FILE, { reports: { keep: '1h' } }, {}), { message: /reports\.keep: expected a duration such as "400d" \(at least 1d\)/ })
  t.throws(() => checkCollectorConfig(FILE, { reports: { weekly: {} } }, {}), { message: /reports\.weekly: unknown key/ })
})
