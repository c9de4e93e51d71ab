// Report periods (kanshi-report --quarter / --fiscal-year / --from --to): bounds
// in the office's timezone, fiscal-quarter and 令和 labels, leap days, clipped
// months, argument errors; and the pure per-system incident rules.

import t from 'tap'
import { eraYear, fiscalQuarterOf, fiscalYearOf, fiscalYearPeriod, fiscalYearStart, monthLabel, monthPeriod, parseDate, parseFiscalYear, parseQuarter, quarterPeriod, rangePeriod, startedMonths } from '../../collector/report/period.js'
import { periodArg } from '../../collector/report/period-args.js'
import { inSeason, responseTarget } from '../../collector/report/systems/availability.js'
import { belongsTo, excludedSpans, systemIncident, systemIncidentStats, writeUpFlags } from '../../collector/report/systems/incidents.js'
import { exclusionText, incidentStats, type IncidentRow } from '../../collector/report/incidents.js'
import type { SystemConfig } from '../../collector/config/systems.js'

const jst = (s: string): number => Date.parse(`${s}+09:00`)
const TZ = 'Asia/Tokyo'

t.test('calendar quarters and their fiscal quarters', async t => {
  const q3 = quarterPeriod(2026, 3, TZ)
  t.equal(q3.id, '2026Q3')
  t.equal(q3.start, jst('2026-07-01T00:00:00'))
  t.equal(q3.end, jst('2026-10-01T00:00:00'))
  t.same(q3.months.map(m => m.id), ['2026-07', '2026-08', '2026-09'])
  t.equal(q3.months.reduce((s, m) => s + m.days.length, 0), 31 + 31 + 30)
  t.match(q3.label[0], '令和8年度 第2四半期')
  t.match(q3.label[1], 'fiscal 2026 Q2')
  t.equal(q3.fiscalYear, 2026)
  const q1 = quarterPeriod(2027, 1, TZ)
  t.match(q1.label[0], '令和8年度 第4四半期', 'January–March belongs to the fiscal year before')
  t.equal(q1.fiscalYear, 2026)
  t.equal(q1.end, jst('2027-04-01T00:00:00'))
  t.same(fiscalQuarterOf(2026, 2), { fy: 2026, fq: 1 })
  t.same(fiscalQuarterOf(2026, 4), { fy: 2026, fq: 3 })
  t.match(quarterPeriod(2019, 2, TZ).label[0], '令和元年度 第1四半期', 'the first year of 令和 is 元年')
  t.match(quarterPeriod(2019, 1, TZ).label[0], '平成30年度 第4四半期', 'FY2018 is 平成30年度')
  t.equal(eraYear(2026), '令和8')
  t.equal(quarterPeriod(2026, 4, 'Europe/Berlin').start, Date.parse('2026-10-01T00:00:00+02:00'), 'local midnight in another zone')
  t.equal(quarterPeriod(2026, 4, 'Europe/Berlin').end, Date.parse('2027-01-01T00:00:00+01:00'))
})

t.test('fiscal years: April to March', async t => {
  const fy = fiscalYearPeriod(2026, TZ)
  t.equal(fy.id, 'FY2026')
  t.equal(fy.start, jst('2026-04-01T00:00:00'))
  t.equal(fy.end, jst('2027-04-01T00:00:00'))
  t.equal(fy.months.length, 12)
  t.equal(fy.months[0]!.id, '2026-04')
  t.equal(fy.months[11]!.id, '2027-03')
  t.match(fy.label[0], '令和8年度')
  t.equal(fiscalYearOf(2027, 3), 2026)
  t.equal(fiscalYearOf(2027, 4), 2027)
  t.equal(fiscalYearStart(2026, TZ), jst('2026-04-01T00:00:00'))
  t.same(startedMonths(fy, jst('2026-12-06T10:00:00')).map(m => m.id), ['2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10', '2026-11', '2026-12'], 'run mid-year: the months begun so far')
  t.equal(monthPeriod(2027, 3, TZ).label[0], '2027年3月（令和8年度）')
  const days = fiscalYearPeriod(2027, TZ).months.reduce((s, m) => s + m.days.length, 0)
  t.equal(days, 366, 'FY2027 holds 29 Feb 2028')
})

t.test('from–to: both days included, partial months clipped, leap days', async t => {
  const r = rangePeriod('2027-03-01', '2027-03-20', TZ)
  t.equal(r.start, jst('2027-03-01T00:00:00'))
  t.equal(r.end, jst('2027-03-21T00:00:00'), '--to is inclusive')
  t.equal(r.months.length, 1)
  t.equal(r.months[0]!.days.length, 20)
  t.equal(monthLabel(r.months[0]!), '2027-03-01 – 2027-03-20')
  const x = rangePeriod('2026-06-15', '2026-08-10', TZ)
  t.same(x.months.map(m => [m.id, m.days.length, m.start, m.end]), [
    ['2026-06', 16, jst('2026-06-15T00:00:00'), jst('2026-07-01T00:00:00')],
    ['2026-07', 31, jst('2026-07-01T00:00:00'), jst('2026-08-01T00:00:00')],
    ['2026-08', 10, jst('2026-08-01T00:00:00'), jst('2026-08-11T00:00:00')]
  ])
  t.equal(monthLabel(x.months[1]!), '2026-07')
  t.equal(rangePeriod('2028-02-29', '2028-02-29', TZ).months[0]!.days.length, 1, 'a leap day alone')
  t.same(parseDate('2028-02-29'), { year: 2028, month: 2, day: 29 })
  t.equal(parseDate('2027-02-29'), undefined, '2027 is not a leap year')
  t.equal(parseDate('2100-02-29'), undefined, '2100 is not a leap year')
  t.same(parseDate('2000-02-29'), { year: 2000, month: 2, day: 29 }, '2000 is')
  t.equal(parseDate('2026-04-31'), undefined)
  t.throws(() => rangePeriod('2027-02-29', '2027-03-01', TZ), /--from: expected a date YYYY-MM-DD, got "2027-02-29"/)
  t.throws(() => rangePeriod('2027-03-02', '2027-03-01', TZ), /--to: expected a day on or after --from 2027-03-02, got 2027-03-01/)
})

t.test('argument errors name the argument and what was expected', async t => {
  t.same(parseQuarter('2026Q3'), { year: 2026, quarter: 3 })
  t.equal(parseQuarter('2026Q5'), undefined)
  t.equal(parseQuarter('2026-Q3'), undefined)
  t.equal(parseFiscalYear('2026'), 2026)
  t.equal(parseFiscalYear('FY2026'), 2026)
  t.equal(parseFiscalYear('26'), undefined)
  t.equal(periodArg({}, TZ), undefined)
  t.match(periodArg({ quarter: '2026Q0' }, TZ), { error: /^--quarter: expected a calendar quarter YYYYQn .* got "2026Q0"$/ })
  t.match(periodArg({ 'fiscal-year': 'R8' }, TZ), { error: /^--fiscal-year: expected a fiscal year YYYY .* got "R8"$/ })
  t.match(periodArg({ from: '2026-07-01', to: '2026-06-30' }, TZ), { error: /^--to: expected a day on or after/ })
  t.equal((periodArg({ quarter: '2026Q3' }, TZ) as { period: { id: string } }).period.id, '2026Q3')
  const now = jst('2026-12-06T12:00:00')
  t.same(periodArg({ 'fiscal-year': '2027' }, TZ, now), { error: '--fiscal-year: FY2027 starts on 2027-04-01, which is still to come' })
  t.same(periodArg({ quarter: '2027Q1' }, TZ, now), { error: '--quarter: 2027Q1 starts on 2027-01-01, which is still to come' })
  t.equal((periodArg({ 'fiscal-year': '2026' }, TZ, now) as { period: { id: string } }).period.id, 'FY2026', 'a year under way is fine')
  t.equal((periodArg({ quarter: '2026Q4' }, TZ, now) as { period: { id: string } }).period.id, '2026Q4', 'so is a quarter under way')
})

const SYS: SystemConfig = {
  name: '共通基盤', hosts: ['web01', 'web02'], services: ['portal'], redundancy: 'any', schedule: 'business-hours',
  targets: { availability: 99.5, responseMs: 3000, responseCompliance: 95, recoveryMinutes: 240, majorPerYear: 2, noticeMinutes: 15 },
  busySeason: [{ from: '12-20', to: '01-10', responseMs: 5000 }]
}

function row (o: Partial<IncidentRow>): IncidentRow {
  const detectedAt = o.detectedAt ?? jst('2026-07-01T10:00:00')
  return {
    id: 1, rule: 'r', severity: 'critical', host: 'web01', hosts: ['web01'], members: [], summary: '', cause: '', detectedAt, notifiedAt: null, ackedAt: null, ackedBy: null, resolvedAt: null,
    notifyMin: null, durationMin: 0, muted: '', notifiedInTime: null, major: false, systems: ['共通基盤'], serviceAffecting: true, serviceAffectingSet: false, exempt: null,
    confirmedRecoveryAt: null, userNoticeAt: null, userNoticeMin: null, writeUp: { cause: '', impact: '', affectedUsers: '', actions: '', prevention: '' }, ...o
  }
}

t.test('busy seasons may wrap the year end', async t => {
  t.ok(inSeason('2026-12-31', SYS.busySeason[0]!))
  t.ok(inSeason('2027-01-10', SYS.busySeason[0]!))
  t.notOk(inSeason('2027-01-11', SYS.busySeason[0]!))
  t.ok(inSeason('2026-03-15', { from: '03-15', to: '04-15' }))
  t.notOk(inSeason('2026-04-16', { from: '03-15', to: '04-15' }))
  t.same(responseTarget(SYS, '2026-12-20'), { ms: 5000, busy: true })
  t.same(responseTarget(SYS, '2026-12-19'), { ms: 3000, busy: false })
})

t.test('per-incident figures: confirmed recovery first, notice rules, what counts', async t => {
  const d = jst('2026-07-01T10:00:00')
  const m = 60_000
  const a = systemIncident(row({ resolvedAt: d + 200 * m, confirmedRecoveryAt: d + 250 * m, notifyMin: 10, userNoticeMin: 20 }), SYS)
  t.equal(a.recoveryMin, 250, 'the client-confirmed recovery time wins over resolvedAt')
  t.equal(a.recoveryMet, false)
  t.equal(a.reportMet, true)
  t.equal(a.noticeMet, false)
  t.equal(a.counted, true)
  const quick = systemIncident(row({ resolvedAt: d + 5 * m }), SYS)
  t.equal(quick.reportMet, null, 'recovered before a report was due: not judged')
  const late = systemIncident(row({ resolvedAt: d + 60 * m }), SYS)
  t.equal(late.reportMet, false, 'never reported and outlasting the limit: missed')
  t.equal(systemIncident(row({}), SYS, d + 241 * m).recoveryMet, false, 'still open past the recovery target at the period end: missed')
  t.equal(systemIncident(row({}), SYS, d + 239 * m).recoveryMet, null, 'still open, within the target: not judged yet')
  t.equal(systemIncident(row({ exempt: { category: '③', reason: 'vendor' } }), SYS).counted, false)
  t.equal(systemIncident(row({ serviceAffecting: false }), SYS).counted, false)
  t.equal(systemIncident(row({ muted: 'maintenance' }), SYS).counted, false)
  const s = systemIncidentStats([a, quick, late, systemIncident(row({ exempt: { category: 'c', reason: 'r' }, major: true }), SYS), systemIncident(row({ serviceAffecting: false, severity: 'warning' }), SYS), systemIncident(row({ major: true, resolvedAt: d + 30 * m }), SYS)])
  t.same({ counted: s.counted, recoveryJudged: s.recoveryJudged, recoveryMet: s.recoveryMet, max: s.recoveryMaxMin, major: s.major, exempt: s.exempt, notSa: s.notServiceAffecting, reportJudged: s.reportJudged, reportInTime: s.reportInTime },
    { counted: 4, recoveryJudged: 4, recoveryMet: 3, max: 250, major: 1, exempt: 1, notSa: 1, reportJudged: 3, reportInTime: 1 })
  t.ok(belongsTo(row({ systems: [] }), SYS), 'an older record without systems: by host')
  t.notOk(belongsTo(row({ systems: ['市税'] }), SYS))
})

t.test('what the SLA figures leave out: host-level stats, availability spans, the write-up flags', async t => {
  const d = jst('2026-07-01T10:00:00')
  const m = 60_000
  const crit = row({ id: 1, resolvedAt: d + 40 * m, durationMin: 40, notifiedInTime: false, major: true })
  const warn = row({ id: 2, severity: 'warning', serviceAffecting: false, resolvedAt: d + 10 * m, durationMin: 10, notifiedInTime: true })
  const marked = row({ id: 3, serviceAffecting: false, serviceAffectingSet: true, detectedAt: d + 60 * m, resolvedAt: d + 120 * m, durationMin: 60, notifiedInTime: true })
  const exempt = row({ id: 4, exempt: { category: '③ 他社提供の回線', reason: 'キャリア障害' }, resolvedAt: d + 20 * m, durationMin: 20, notifiedInTime: true, major: true })
  const planned = row({ id: 5, muted: 'maintenance', resolvedAt: d + 30 * m, durationMin: 30 })
  const s = incidentStats([crit, warn, marked, exempt, planned])
  t.same(s, { count: 1, major: 1, judged: 1, inTime: 0, notifyRate: 0, mttrMin: 40, exempt: 1, notServiceAffecting: 2 }, 'only the critical, service-affecting, non-exempt one counts')
  t.same([crit, warn, marked, exempt, planned].map(r => exclusionText(r, 'ja')), ['', 'サービス影響なし（重要度 warning による自動判定）', 'サービス影響なし（運用者の判断）', '免責: ③ 他社提供の回線（キャリア障害）', '計画停止'])
  t.equal(exclusionText(warn, 'en'), 'no service impact (judged from severity warning)')
  // Availability leaves out the exempt and the operator-marked spans, not the warning's; a counted incident's span wins.
  const overlap = row({ id: 6, detectedAt: d + 90 * m, resolvedAt: d + 100 * m, confirmedRecoveryAt: d + 105 * m })
  const sp = excludedSpans([crit, warn, marked, exempt, planned, overlap].map(r => systemIncident(r, SYS)), d + 1000 * m)
  t.same(sp.exempt, [{ start: d, end: d + 20 * m }])
  t.same(sp.notServiceAffecting, [{ start: d + 60 * m, end: d + 120 * m }])
  t.same(sp.counted, [{ start: d, end: d + 40 * m }, { start: d + 90 * m, end: d + 105 * m }], 'counted spans run to the confirmed recovery')
  const done = row({ id: 7, serviceAffectingSet: true, confirmedRecoveryAt: d + 50 * m, writeUp: { cause: 'c', impact: '', affectedUsers: '', actions: 'a', prevention: 'p' } })
  t.same(writeUpFlags(systemIncident(done, SYS)), { missing: [], unconfirmed: false, autoImpact: false }, 'written up, confirmed, judged by hand')
  t.same(writeUpFlags(systemIncident(row({ writeUp: { cause: 'c', impact: '', affectedUsers: '', actions: ' ', prevention: '' } }), SYS)), { missing: ['actions', 'prevention'], unconfirmed: true, autoImpact: true })
  t.same(writeUpFlags(systemIncident(marked, SYS)), { missing: [], unconfirmed: false, autoImpact: false }, 'not counted: nothing to write up')
  t.same(writeUpFlags(systemIncident(warn, SYS)), { missing: [], unconfirmed: false, autoImpact: true }, 'a warning nobody judged')
})
