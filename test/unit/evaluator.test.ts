import t from 'tap'
import { Evaluator, predictLinear, aggregate } from '../../collector/alerting/evaluator.js'
import { checkRule, render, type Rule } from '../../collector/alerting/rules.js'
import type { Point } from '../../protocol/messages.js'

const rule = (r: Record<string, unknown>): Rule => checkRule('test.yaml', 0, { severity: 'critical', ...r })
const cpu = (t: number, v: number, host = 'web01'): Point => ({ m: 'cpu', t, tags: { host, role: 'server', site: 's' }, f: { usage_percent: v } })
const kinds = (tr: Array<{ kind: string }>) => tr.map(x => x.kind)

t.test('threshold with for: pending, then firing only after the duration, then resolved', async t => {
  const e = new Evaluator({ rules: [rule({ name: 'cpu_high', type: 'threshold', metric: 'cpu.usage_percent', op: '>', threshold: 90, for: '5m' })] })
  t.same(kinds(e.observePoints([cpu(0, 95)], 0)), ['pending'])
  t.same(kinds(e.observePoints([cpu(60_000, 96)], 60_000)), [], 'still pending at 1 min')
  t.same(kinds(e.tick(299_999)), [], 'not yet at 4:59.999')
  const f = e.tick(300_000)
  t.same(kinds(f), ['firing'], 'fires at exactly 5 min')
  t.equal(f[0]!.series.value, 96)
  t.same(f[0]!.series.labels, { host: 'web01', role: 'server', site: 's' })
  t.same(kinds(e.observePoints([cpu(310_000, 50)], 310_000)), ['resolved'])
})

t.test('a dip during pending cancels it: no mail for a short spike', async t => {
  const e = new Evaluator({ rules: [rule({ name: 'cpu_high', type: 'threshold', metric: 'cpu.usage_percent', op: '>', threshold: 90, for: '5m' })] })
  e.observePoints([cpu(0, 95)], 0)
  t.same(kinds(e.observePoints([cpu(120_000, 20)], 120_000)), ['cancelled'])
  t.same(kinds(e.tick(400_000)), [])
})

t.test('hysteresis: a firing alert holds until the value passes clear', async t => {
  const e = new Evaluator({ rules: [rule({ name: 'cpu_high', type: 'threshold', metric: 'cpu.usage_percent', op: '>', threshold: 90, clear: 80 })] })
  t.same(kinds(e.observePoints([cpu(0, 91)], 0)), ['pending', 'firing'])
  t.same(kinds(e.observePoints([cpu(10, 89)], 10)), [], '89 is below 90 but above clear 80: still firing')
  t.same(kinds(e.observePoints([cpu(20, 91)], 20)), [])
  t.same(kinds(e.observePoints([cpu(30, 85)], 30)), [])
  t.same(kinds(e.observePoints([cpu(40, 80)], 40)), ['resolved'], 'resolved at 80')
  t.same(kinds(e.observePoints([cpu(50, 89)], 50)), [], 'and does not fire again below 90')
})

t.test('selectors, aggregation windows and per-series state', async t => {
  const e = new Evaluator({ rules: [rule({ name: 'disk_root', type: 'threshold', metric: 'disk.used_percent', op: '>=', threshold: 90, window: '10m', agg: 'avg', where: { mount: '/', role: '~^serv' } })] })
  const disk = (t: number, v: number, mount: string, host = 'web01'): Point => ({ m: 'disk', t, tags: { host, role: 'server', site: 's', mount, fstype: 'ext4' }, f: { used_percent: v } })
  t.same(kinds(e.observePoints([disk(0, 99, '/data')], 0)), [], 'other mounts ignored')
  t.same(kinds(e.observePoints([disk(0, 85, '/')], 0)), [])
  t.same(kinds(e.observePoints([disk(60_000, 95, '/')], 60_000)), ['pending', 'firing'], 'avg of 85 and 95 is 90')
  t.same(kinds(e.observePoints([disk(60_000, 95, '/', 'web02')], 60_000)), ['pending', 'firing'], 'web02 is its own series')
  t.equal(e.series.size, 2)
  t.equal(aggregate([[0, 1], [1, 5], [2, 3]], 'max'), 5)
  t.equal(aggregate([[0, 1], [1, 5], [2, 3]], 'min'), 1)
})

t.test('service and heartbeat rules use service.up and host_up.up', async t => {
  const e = new Evaluator({ rules: [
    rule({ name: 'svc', type: 'service', for: '1m' }),
    rule({ name: 'down', type: 'heartbeat' })
  ] })
  const svc = (t: number, up: number): Point => ({ m: 'service', t, tags: { host: 'web01', service: 'portal', check: 'http' }, f: { up, response_ms: 3 } })
  t.same(kinds(e.observePoints([svc(0, 0)], 0)), ['pending'])
  t.same(kinds(e.tick(60_000)), ['firing'])
  t.same(kinds(e.observePoints([{ m: 'host_up', t: 0, tags: { host: 'kiosk1' }, f: { up: 0 } }], 0)), ['pending', 'firing'])
  t.same(kinds(e.observePoints([{ m: 'host_up', t: 1, tags: { host: 'kiosk1' }, f: { up: 1 } }], 1)), ['resolved'])
})

t.test('log bursts: 5 errors in 5 minutes, first lines kept, resolves as the window slides', async t => {
  const e = new Evaluator({ rules: [rule({ name: 'errors', type: 'log', level: ['error', 'crit'], match: 'ORA-|タイムアウト', count: 5, window: '5m' })] })
  const ev = (t: number, level: string, message: string) => ({ t, source: '/var/log/app.log', level, message, tags: { host: 'web01', role: 'server', site: 's' } })
  t.same(kinds(e.observeEvents([ev(0, 'info', 'ORA-1'), ev(1, 'error', 'unrelated')], 1)), [], 'wrong level or no match')
  const tr = e.observeEvents([1, 2, 3, 4, 5].map(i => ev(i * 1000, 'error', `ORA-0${i} 接続タイムアウト`)), 5000)
  t.same(kinds(tr), ['pending', 'firing'])
  t.same(tr[1]!.series.lines, ['ORA-01 接続タイムアウト', 'ORA-02 接続タイムアウト', 'ORA-03 接続タイムアウト', 'ORA-04 接続タイムアウト', 'ORA-05 接続タイムアウト'])
  t.equal(tr[1]!.series.value, 5)
  t.same(kinds(e.tick(301_500)), ['resolved'], 'once the first event leaves the window only 4 remain')
})

t.test('forecast: disk full within 7 days by linear fit', async t => {
  const e = new Evaluator({ rules: [rule({ name: 'disk_full_7d', type: 'forecast', metric: 'disk.used_percent', limit: 100, horizon: '7d', window: '6h' })] })
  const hour = 3_600_000
  // +1 point per hour: from 80 at t=0, 100 is reached after 20 h, well within 7 days
  let tr: Array<{ kind: string }> = []
  for (let h = 0; h <= 6; h++) tr = tr.concat(e.observePoints([{ m: 'disk', t: h * hour, tags: { host: 'db01', mount: '/' }, f: { used_percent: 80 + h } }], h * hour))
  t.same(kinds(tr), ['pending', 'firing'])
  t.equal(Math.round(predictLinear([[0, 80], [3_600_000, 81]], 20 * hour)), 100, 'predict_linear')
  const flat = new Evaluator({ rules: [rule({ name: 'f', type: 'forecast', metric: 'disk.used_percent', limit: 100, horizon: '7d', window: '6h' })] })
  let none: Array<{ kind: string }> = []
  for (let h = 0; h <= 6; h++) none = none.concat(flat.observePoints([{ m: 'disk', t: h * hour, tags: { host: 'db01', mount: '/' }, f: { used_percent: 50 + h * 0.01 } }], h * hour))
  t.same(kinds(none), [], 'slow growth does not alert')
})

t.test('absent: no data for a series for its duration', async t => {
  const e = new Evaluator({ rules: [rule({ name: 'no_cpu', type: 'absent', metric: 'cpu.usage_percent', for: '10m' })] })
  e.observePoints([cpu(0, 5)], 0)
  t.same(kinds(e.tick(600_000)), [])
  t.same(kinds(e.tick(600_001)), ['pending', 'firing'])
  e.observePoints([cpu(700_000, 5)], 700_000)
  t.same(kinds(e.tick(700_001)), ['resolved'])
})

t.test('schedules: outside the schedule nothing fires, and a firing alert resolves', async t => {
  let open = true
  const e = new Evaluator({ rules: [rule({ name: 'kiosk_down', type: 'heartbeat', schedule: 'opening-hours' })], inSchedule: () => open })
  t.same(kinds(e.observePoints([{ m: 'host_up', t: 0, tags: { host: 'k1' }, f: { up: 0 } }], 0)), ['pending', 'firing'])
  open = false
  const tr = e.tick(1000)
  t.same(kinds(tr), ['resolved'])
  t.equal((tr[0] as { reason?: string }).reason, 'outside its schedule')
  t.same(kinds(e.observePoints([{ m: 'host_up', t: 2000, tags: { host: 'k1' }, f: { up: 0 } }], 2000)), [], 'a kiosk switched off at night is not down')
})

t.test('state survives snapshot and restore; reload keeps state of kept rules', async t => {
  const r = rule({ name: 'cpu_high', type: 'threshold', metric: 'cpu.usage_percent', op: '>', threshold: 90, for: '5m' })
  const a = new Evaluator({ rules: [r] })
  a.observePoints([cpu(0, 95)], 0)
  const b = new Evaluator({ rules: [r] })
  b.restore(JSON.parse(JSON.stringify(a.snapshot())))
  t.same(kinds(b.tick(300_000)), ['firing'], 'pending is not forgotten across a restart')
  t.same(kinds(b.tick(310_000)), [], 'and firing is not announced twice')
  t.same(kinds(b.setRules([r], 320_000)), [], 'reload keeps the series')
  t.same(kinds(b.setRules([], 330_000)), ['resolved'], 'a removed rule resolves its firing series')
})

t.test('rule checks name the file, the rule and the key', async t => {
  t.throws(() => checkRule('r.yaml', 2, { name: 'x', type: 'threshold', metric: 'cpu.usage_percent', severity: 'critical' }), { message: 'r.yaml: [2](x).threshold: expected a threshold number for a threshold rule, got missing' })
  t.throws(() => checkRule('r.yaml', 0, { name: 'x', type: 'threshold', metric: 'cpu.usage_percent', threshold: 90, clear: 95, severity: 'warning' }), { message: /clear: expected a value on the recovering side of threshold 90 for op >, got 95/ })
  t.throws(() => checkRule('r.yaml', 0, { name: 'x', type: 'threshold', metric: 'cpu', threshold: 1, severity: 'warning' }), { message: /^r.yaml: \[0\].metric: expected measurement.field/ })
  t.throws(() => checkRule('r.yaml', 0, { name: 'x', type: 'log', match: '(', severity: 'warning' }), { message: /\[0\]\(x\).match: expected a valid regular expression/ })
  t.throws(() => checkRule('r.yaml', 1, { name: 'x', type: 'threshold', severity: 'fatal' }), { message: /^r.yaml: \[1\].severity: expected one of info, warning, critical/ })
})

t.test('templates', async t => {
  t.equal(render('{{host}} {{metric}} が {{value}} ({{op}} {{threshold}}) {{nope}}', { host: 'web01', metric: 'disk.used_percent', value: 96, op: '>', threshold: 90 }), 'web01 disk.used_percent が 96 (> 90) {{nope}}')
})

t.test('the default rule set loads, and every rule type is covered', async t => {
  const { loadRules } = await import('../../collector/alerting/rules.js')
  const dir = new URL('../../alert-rules/', import.meta.url).pathname
  const rules = loadRules(dir, new Set(['kiosk-hours', 'business-hours']))
  const names = rules.map(r => r.name)
  for (const n of ['cpu_high_critical', 'mem_high_critical', 'disk_warning', 'disk_critical', 'disk_full_forecast', 'host_down', 'service_down', 'log_error_burst', 'kiosk_down', 'kiosk_printer_error', 'agent_spool_growing', 'clock_skew_behind', 'job_failed']) {
    t.ok(names.includes(n), n)
  }
  t.throws(() => loadRules(dir, new Set()), { message: /schedule: expected always or one of the configured schedules \(none configured\), got "kiosk-hours"/ })
})

t.test('a business-hours rule is silent on a national holiday, on 30 Dec and after hours (injected clock)', async t => {
  const { japanCalendar } = await import('../../common/holidays.js')
  const { makeSchedule } = await import('../../collector/calendar/schedules.js')
  const sched = makeSchedule({ name: 'business-hours', days: 'business', hours: ['08:30-17:45'] }, japanCalendar())
  const r = rule({ name: 'kiosk_down', type: 'heartbeat', schedule: 'business-hours' })
  const jst = (y: number, mo: number, d: number, h: number) => Date.UTC(y, mo - 1, d, h - 9)
  const down = (at: number) => {
    const e = new Evaluator({ rules: [r], inSchedule: (_r, t) => sched.contains(t) })
    return kinds(e.observePoints([{ m: 'host_up', t: at, tags: { host: 'k1' }, f: { up: 0 } }], at))
  }
  t.same(down(jst(2026, 11, 23, 10)), [], '勤労感謝の日 (23 Nov 2026)')
  t.same(down(jst(2026, 12, 30, 10)), [], '30 Dec, year-end closure')
  t.same(down(jst(2026, 11, 24, 18)), [], 'a Tuesday after 17:45')
  t.same(down(jst(2026, 11, 24, 10)), ['pending', 'firing'], 'a Tuesday at 10:00')
})

t.test('opening hours per host: a kiosk off outside its hours is not an outage; other hosts are unaffected', async t => {
  const { hostSchedules } = await import('../../collector/calendar/opening-hours.js')
  const { japanCalendar } = await import('../../common/holidays.js')
  const { makeSchedule } = await import('../../collector/calendar/schedules.js')
  const cal = japanCalendar({ timezone: 'Asia/Tokyo', holidays: true, yearEndClosure: true, closedDays: [], openDays: [] })
  const schedules = new Map([
    ['kiosk-hours', makeSchedule({ name: 'kiosk-hours', days: 'business', hours: ['08:30-17:15'] }, cal)],
    ['saturday-branch', makeSchedule({ name: 'saturday-branch', days: [6], hours: ['09:00-12:00'] }, cal)]
  ])
  const hours = hostSchedules([
    { id: 'kiosk01', role: 'kiosk' },
    { id: 'kiosk02', role: 'kiosk', schedule: 'saturday-branch' },
    { id: 'kiosk24', role: 'kiosk', schedule: 'always' },
    { id: 'web01', role: 'server' }
  ], schedules)
  t.same([...hours.keys()], ['kiosk01', 'kiosk02'], 'kiosks default to kiosk-hours; always and servers have none')
  const e = new Evaluator({
    rules: [rule({ name: 'down', type: 'heartbeat', for: '0s' })],
    inSchedule: (_r, at, labels) => hours.get(labels['host'] ?? '')?.contains(at) ?? true
  })
  const down = (host: string, at: number): Point => ({ m: 'host_up', t: at, tags: { host, role: 'x', site: 's' }, f: { up: 0 } })
  // Tue 2026-11-24 19:00 JST (10:00 UTC): after kiosk hours.
  const evening = Date.parse('2026-11-24T19:00:00+09:00')
  const fired = (at: number, hosts: string[]): string[] => e.observePoints(hosts.map(h => down(h, at)), at).filter(x => x.kind === 'firing').map(x => x.series.labels['host']!)
  t.same(fired(evening, ['kiosk01', 'kiosk02', 'kiosk24', 'web01']).sort(), ['kiosk24', 'web01'], 'in the evening only the 24-hour kiosk and the server count as down')
  const morning = Date.parse('2026-11-25T10:00:00+09:00')
  t.same(fired(morning, ['kiosk01', 'kiosk02']), ['kiosk01'], 'Wednesday 10:00: kiosk01 is open; kiosk02 opens on Saturdays only')
  const saturday = Date.parse('2026-11-28T10:00:00+09:00')
  t.same(fired(saturday, ['kiosk02']), ['kiosk02'])
})
