// Service levels by business system over a generated quarter (July–September
// 2026) in a real influxd, incidents in a real alerting.db: a redundant pair
// (any) where one host's outage must not count and a both-down stretch must,
// a single host on an always schedule, a busy season, a national holiday, a
// maintenance window, an exempt incident, a merged alert and a warning. Every
// figure of the quarter, month and fiscal-year reports is computed here from
// the generated data and compared with report.xlsx / the CSV files / the result.

import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { withReportDb, writeLines } from '../helpers/influxd.js'
import { runReport } from '../helpers/report-cli.js'
import { SqliteAlertStore } from '../../collector/alerting/store-sqlite.js'
import { loadCollectorConfig } from '../../collector/config.js'
import { fiscalYearPeriod, makeMonth, quarterPeriod } from '../../collector/report/period.js'
import { runReport as monthlyReport } from '../../collector/report/report.js'
import { runPeriodReport } from '../../collector/report/systems/period-report.js'

const MIN = 60_000
const SLOT = 5 * MIN
const DAY = 86_400_000
const jst = (s: string): number => Date.parse(`${s}+09:00`)
const JUL = jst('2026-07-01T00:00:00')
const AUG = jst('2026-08-01T00:00:00')
const SEP = jst('2026-09-01T00:00:00')
const OCT = jst('2026-10-01T00:00:00')
// National holidays of the quarter (内閣府), by hand.
const HOLIDAYS = new Set(['2026-07-20', '2026-08-11', '2026-09-21', '2026-09-22', '2026-09-23'])
const localDate = (ms: number): string => new Date(ms + 9 * 3_600_000).toISOString().slice(0, 10)
const localMinute = (ms: number): number => Math.floor(((ms + 9 * 3_600_000) % DAY) / MIN)
const weekday = (ms: number): number => new Date(ms + 9 * 3_600_000).getUTCDay()
const businessDay = (ms: number): boolean => weekday(ms) !== 0 && weekday(ms) !== 6 && !HOLIDAYS.has(localDate(ms))
const inHours = (ms: number): boolean => businessDay(ms) && localMinute(ms) >= 510 && localMinute(ms) < 1065
const span = (a: string, b: string): [number, number] => [jst(a), jst(b)]
const within = (s: number, r: [number, number]): boolean => s >= r[0] && s < r[1]
function slots (from: number, to: number): number[] { const o: number[] = []; for (let s = from; s < to; s += SLOT) o.push(s); return o }

// ---- 共通基盤: web01 + web02, redundancy any, business hours; portal on both
const E1 = span('2026-07-07T10:00:00', '2026-07-07T12:00:00') // web01 alone down: not counted
const E2 = span('2026-07-14T13:00:00', '2026-07-14T13:30:00') // both down: 30 min counted
const E3 = span('2026-07-20T10:00:00', '2026-07-20T11:00:00') // both down on 海の日: out of service hours
const E4 = span('2026-08-05T10:00:00', '2026-08-05T11:00:00') // both down in the system's maintenance window: planned
const E5 = jst('2026-08-18T15:00:00') // one slot: web01 up 0.4, web02 up 0.2 → any: 0.6 × 5 = 3 min
const E6 = span('2026-09-08T11:00:00', '2026-09-08T11:20:00') // portal down on both: 20 min
const E6B = span('2026-09-09T11:00:00', '2026-09-09T12:00:00') // portal down on web01 only: not counted
const E7 = span('2026-09-24T14:00:00', '2026-09-24T14:40:00') // both down, exempt incident
const GAP = span('2026-07-28T09:00:00', '2026-07-28T09:30:00') // no data at all: not counted either way
// portal response: 4000 ms on web01 16 Jul 08:30-10:00 (target 3000: late), on both 3 Sep (busy season 09-01..09-15, 5000: in time), on both 17 Sep 08:30-09:00 (late)
const SLOW = [span('2026-07-16T08:30:00', '2026-07-16T10:00:00'), span('2026-09-03T08:30:00', '2026-09-03T10:00:00'), span('2026-09-17T08:30:00', '2026-09-17T09:00:00')]
// ---- 市税: db01, redundancy all, always; service zeimu on db01
const F1 = span('2026-07-20T10:00:00', '2026-07-20T11:00:00') // down on the holiday: counted (always)
const F2 = span('2026-08-20T02:00:00', '2026-08-20T04:00:00') // down in db01's maintenance: planned
const F3 = span('2026-09-10T20:00:00', '2026-09-10T20:15:00') // down at night: counted (always)

function hostUp (h: string, s: number): number | null {
  if (h === 'db01') return [F1, F2, F3].some(r => within(s, r)) ? 0 : 1
  if (within(s, GAP)) return null
  if (s === E5) return h === 'web01' ? 0.4 : 0.2
  if ([E2, E3, E4, E7].some(r => within(s, r))) return 0
  if (h === 'web01' && within(s, E1)) return 0
  return 1
}
function portal (h: string, s: number): { up: number, resp: number | null } | null {
  const u = hostUp(h, s)
  if (u === null || u === 0) return null // the agent is down: no samples
  const up = within(s, E6) || (h === 'web01' && within(s, E6B)) ? 0 : 1
  const slow = SLOW.some((r, i) => within(s, r) && (i > 0 || h === 'web01'))
  return { up, resp: up === 1 ? (slow ? 4000 : 200) : null }
}

const TAGS: Record<string, string> = { web01: 'role=server,site=honcho', web02: 'role=server,site=honcho', db01: 'role=server,site=bunkan' }
const roll = (f: string, v: number, n: number): string => `${f}_mean=${v},${f}_max=${Math.ceil(v)},${f}_min=${Math.floor(v)},${f}_count=${n}`
function quarter (): string[] {
  const L: string[] = []
  for (const s of slots(JUL, OCT)) {
    for (const h of ['web01', 'web02', 'db01']) {
      const u = hostUp(h, s)
      if (u !== null) L.push(`host_up,host=${h},${TAGS[h]} ${roll('up', u, 30)} ${s}`)
      const p = h === 'db01' ? (u === 0 ? null : { up: 1, resp: 100 }) : portal(h, s)
      if (p !== null) L.push(`service,host=${h},${TAGS[h]},service=${h === 'db01' ? 'zeimu' : 'portal'},check=http ${roll('up', p.up, 10)}${p.resp !== null ? ',' + roll('response_ms', p.resp, 10) : ''} ${s}`)
    }
  }
  return L
}

// ---- expected availability and compliance, from the generated data
interface Exp { scheduled: number, planned: number, exempt: number, measured: number, down: number, noData: number, samples: number, within: number }
function expectAvail (sys: '共通基盤' | '市税', from: number, to: number): Exp & { avail: number, compliance: number } {
  const e: Exp = { scheduled: 0, planned: 0, exempt: 0, measured: 0, down: 0, noData: 0, samples: 0, within: 0 }
  const hosts = sys === '共通基盤' ? ['web01', 'web02'] : ['db01']
  for (const s of slots(from, to)) {
    if (sys === '共通基盤' && !inHours(s)) continue
    if (sys === '共通基盤' ? within(s, E4) : within(s, F2)) { e.planned += 5; continue }
    if (sys === '共通基盤' && within(s, E7)) { e.exempt += 5; continue }
    e.scheduled += 5
    const comb = sys === '共通基盤' ? Math.min : Math.max
    const parts: number[] = []
    const hs = hosts.map(h => hostUp(h, s)).filter(x => x !== null).map(x => 1 - x)
    if (hs.length > 0) parts.push(comb(...hs))
    const inst = hosts.map(h => h === 'db01' ? (hostUp(h, s) === 0 ? null : { up: 1, resp: 100 }) : portal(h, s)).filter(x => x !== null)
    if (inst.length > 0) parts.push(comb(...inst.map(p => 1 - p.up)))
    const busy = localDate(s) >= '2026-09-01' && localDate(s) <= '2026-09-15'
    for (const p of inst) if (p.resp !== null) { e.samples += 10; if (p.resp <= (sys === '共通基盤' && busy ? 5000 : 3000)) e.within += 10 }
    if (parts.length === 0) { e.noData += 5; continue }
    e.measured += 5
    e.down += 5 * Math.max(...parts)
  }
  return { ...e, avail: 100 * (e.measured - e.down) / e.measured, compliance: 100 * e.within / e.samples }
}

// ---- the incident record
async function record (dataDir: string): Promise<void> {
  const store = new SqliteAlertStore(dataDir)
  try {
    const win = await store.addWindow({ kind: 'maintenance', name: '共通基盤 定期保守', matchers: { system: '共通基盤' }, starts_at: E4[0], ends_at: E4[1], recur_days: null, recur_hours: null, created_by: 'ops', comment: '' }, E4[0] - DAY)
    const dbWin = await store.addWindow({ kind: 'maintenance', name: 'db01 patch', matchers: { host: 'db01' }, starts_at: F2[0], ends_at: F2[1], recur_days: null, recur_hours: null, created_by: 'ops', comment: '' }, F2[0] - DAY)
    t.ok(win > 0 && dbWin > 0)
    const open = async (sys: string, severity: string, host: string, summary: string, at: number, f: { resolved: number, notified?: number, notice?: number, confirmed?: number, sa?: 0 | 1, major?: 0 | 1, exempt?: [string, string], suppressed?: string }): Promise<number> => {
      const id = await store.openIncident({ rule: 'host_down', severity, host, labels: {}, summary, summary_en: summary, description: '', description_en: '', value: 0, threshold: null, detected_at: at, suppressed_by: f.suppressed ?? null, series_key: `${host}:${at}`, systems: [sys] })
      store.db.db.prepare('UPDATE incidents SET notified_at = ?, user_notice_at = ?, confirmed_recovery_at = ?, service_affecting = ?, major_override = ?, exempt_category = ?, exempt_reason = ? WHERE id = ?')
        .run(f.notified ?? null, f.notice ?? null, f.confirmed ?? null, f.sa ?? null, f.major ?? null, f.exempt?.[0] ?? null, f.exempt?.[1] ?? null, id)
      await store.resolveIncident(id, f.resolved, 'cleared', 1)
      return id
    }
    // I1: both down; mail at 10 min, user notice at 12, recovered 13:28 (28 min: not major), confirmed by the client at 13:45
    const i1 = await open('共通基盤', 'critical', 'web01', '共通基盤 停止', E2[0], { notified: E2[0] + 10 * MIN, notice: E2[0] + 12 * MIN, resolved: E2[0] + 28 * MIN, confirmed: jst('2026-07-14T13:45:00') })
    // I1b: the same outage seen on web02, merged into I1: not a second 障害 (it cleared a minute before
    // I1, so the folded 障害 still recovers at 13:28; a later member would extend it)
    const i1b = await open('共通基盤', 'critical', 'web02', 'web02 応答なし', E2[0] + MIN, { resolved: E2[0] + 27 * MIN })
    store.db.db.prepare('UPDATE incidents SET merged_into = ? WHERE id = ?').run(i1, i1b)
    // I2: web01 alone down (redundancy covered it): the operator marks it not service-affecting
    await open('共通基盤', 'critical', 'web01', 'web01 応答なし', E1[0], { resolved: E1[1], notified: E1[0] + 5 * MIN, sa: 0 })
    // I3: a warning, not service-affecting by its severity
    await open('共通基盤', 'warning', 'web02', 'web02 CPU 85%', jst('2026-08-10T10:00:00'), { resolved: jst('2026-08-10T10:20:00') })
    // I4: portal down on both; mail late (20 min), user notice in time (10), recovered after 20; major by the operator
    await open('共通基盤', 'critical', 'web01', 'portal 停止', E6[0], { notified: E6[0] + 20 * MIN, notice: E6[0] + 10 * MIN, resolved: E6[1], major: 1 })
    // I5: exempt (免責): a carrier outage
    await open('共通基盤', 'critical', 'web01', '回線断', E7[0], { notified: E7[0] + 5 * MIN, resolved: E7[1], exempt: ['③ 他社提供の回線', 'キャリア回線の障害（事業者発表あり）'] })
    // 市税: I9 in May (major: critical for 2 h, never mailed), I6 on the holiday (major, 60 min, mailed at 5, no user notice), I8 in maintenance, I7 at night (15 min, mailed at 14)
    await open('市税', 'critical', 'db01', 'db01 停止', jst('2026-05-12T10:00:00'), { resolved: jst('2026-05-12T12:00:00') })
    await open('市税', 'critical', 'db01', 'db01 停止', F1[0], { notified: F1[0] + 5 * MIN, resolved: F1[1] })
    await open('市税', 'critical', 'db01', 'db01 停止（保守）', F2[0], { resolved: F2[1], suppressed: `maintenance:${dbWin}` })
    await open('市税', 'critical', 'db01', 'db01 停止', F3[0], { notified: F3[0] + 14 * MIN, resolved: F3[1] })
  } finally { await store.close() }
}

function csv (file: string): Array<Record<string, string>> {
  const text = readFileSync(file, 'utf8').replace(/^\ufeff/, '')
  const rows = text.trim().split('\r\n').map(l => { const o: string[] = []; let cur = ''; let q = false; for (const ch of l) { if (ch === '"') q = !q; else if (ch === ',' && !q) { o.push(cur); cur = '' } else cur += ch } o.push(cur); return o })
  return rows.slice(1).map(r => Object.fromEntries(rows[0]!.map((h, i) => [h, r[i] ?? ''])))
}

const CONFIG = (url: string): string => `influx: { url: '${url}' }
dataDir: ./collector
systems:
  - name: 共通基盤
    hosts: [web01, web02]
    services: [portal]
    redundancy: any
    schedule: business-hours
    targets: { availability: 99.9, responseMs: 3000, responseCompliance: 99, recoveryMinutes: 240, majorPerYear: 2, noticeMinutes: 15 }
    busySeason: [ { from: '09-01', to: '09-15', responseMs: 5000 } ]
  - name: 市税
    hosts: [db01]
    services: [zeimu]
    redundancy: all
    schedule: always
    targets: { availability: 99.5, responseMs: 3000, responseCompliance: 95, recoveryMinutes: 240, majorPerYear: 1, noticeMinutes: 15 }
  - name: 発券
    where: { role: kiosk }
`

t.test('a generated quarter: the systems month by month, the quarter, the month, from–to, the fiscal year', async t => {
  const { influx, dir, dataDir } = await withReportDb(t)
  await writeLines(influx.url, 'kanshi_5m', quarter())
  await record(dataDir)
  const config = join(dir, 'collector.yaml')
  writeFileSync(config, CONFIG(influx.url))
  const near = (a: unknown, b: number, msg: string, eps = 1e-6): void => { t.ok(Math.abs(Number(a) - b) <= eps, `${msg}: ${String(a)} ≈ ${b}`) }

  // By hand: July has 22 business days (20 Jul is 海の日), August 20 (11 Aug), September 19 (21–23 Sep).
  t.same([JUL, AUG, SEP].map((m, i) => new Set(slots(m, [AUG, SEP, OCT][i]!).filter(inHours).map(localDate)).size), [22, 20, 19])
  const months = [['2026-07', JUL, AUG], ['2026-08', AUG, SEP], ['2026-09', SEP, OCT]] as const
  const exp = { 共通基盤: months.map(([, a, b]) => expectAvail('共通基盤', a, b)), 市税: months.map(([, a, b]) => expectAvail('市税', a, b)) }
  // The outages as the contract sees them, by hand: 30 min in July, 3 in August, 20 in September; 市税 60, 0, 15.
  t.same(exp.共通基盤.map(e => e.down), [30, 3, 20])
  t.same(exp.市税.map(e => e.down), [60, 0, 15])
  t.same([exp.共通基盤[0]!.noData, exp.共通基盤[1]!.planned, exp.共通基盤[2]!.exempt, exp.市税[1]!.planned], [30, 60, 40, 120])

  const out = join(dir, 'q')
  const r = await runReport(['--quarter', '2026Q3', '--out', out, '--config', config, '--no-pdf'])
  t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`)
  t.match(r.stdout, /2026Q3: wrote report\.html, report\.xlsx, systems\.csv/)
  const html = readFileSync(join(out, 'report.html'), 'utf8')
  t.match(html, '令和8年度 第2四半期')
  t.match(html, 'id="period-summary"')
  // What to look at first: 共通基盤's quarter below 99.9 %, 市税's second major of the year, the late mail, the missing user notice.
  const qe = exp.共通基盤.reduce((a, e) => ({ m: a.m + e.measured, d: a.d + e.down }), { m: 0, d: 0 })
  t.match(html, `<li>共通基盤 の稼働率 ${(100 * (qe.m - qe.d) / qe.m).toFixed(3)}% が目標 99.9% を下回りました</li>`)
  t.match(html, '<li>市税 の重大障害が年度累計 2 件（年間上限 1 件）</li>')
  t.match(html, /<li>共通基盤 の障害 #\d+ の障害発生報告が 15 分以内にありません<\/li>/)
  t.match(html, /<li>市税 の障害 #\d+ の利用者告知が 15 分以内にありません<\/li>/)
  t.notMatch(html, '共通基盤 の基準応答時間順守率', 'compliance met over the quarter')

  const wb = new ExcelJS.Workbook()
  await wb.xlsx.readFile(join(out, 'report.xlsx'))
  t.same(wb.worksheets.map(w => w.name), ['Systems', 'System incidents', 'Incident list', 'Exempt', 'Months', 'Availability by month'])
  const sysRows = csv(join(out, 'systems.csv'))
  const row = (sys: string, month: string): Record<string, string> => sysRows.find(x => x['業務システム'] === sys && x['月'] === month)!
  for (const sys of ['共通基盤', '市税'] as const) {
    const tot: Exp = { scheduled: 0, planned: 0, exempt: 0, measured: 0, down: 0, noData: 0, samples: 0, within: 0 }
    months.forEach(([id], i) => {
      const e = exp[sys][i]!
      const x = row(sys, id)
      t.equal(Number(x['サービス時間 分']), e.scheduled, `${sys} ${id} service-hours minutes`)
      t.equal(Number(x['計画停止 分']), e.planned, `${sys} ${id} planned minutes`)
      t.equal(Number(x['免責 分']), e.exempt, `${sys} ${id} exempt minutes`)
      t.equal(Number(x['データなし 分']), e.noData, `${sys} ${id} no-data minutes`)
      near(x['停止 分'], e.down, `${sys} ${id} down minutes`)
      near(x['稼働率 %'], e.avail, `${sys} ${id} availability`)
      near(x['基準応答時間順守率 %'], e.compliance, `${sys} ${id} response compliance`)
      t.equal(Number(x['応答 計測数']), e.samples, `${sys} ${id} response samples`)
      for (const k of Object.keys(tot) as Array<keyof Exp>) tot[k] += e[k]
    })
    const x = row(sys, '期間計')
    near(x['稼働率 %'], 100 * (tot.measured - tot.down) / tot.measured, `${sys} quarter availability`)
    near(x['基準応答時間順守率 %'], 100 * tot.within / tot.samples, `${sys} quarter compliance`)
  }
  const kiosk = row('発券', '2026-07')
  t.same([kiosk['計画停止 分'], kiosk['データなし 分'], kiosk['稼働率 %'], kiosk['稼働率 判定']], ['0', String(slots(JUL, AUG).filter(inHours).length * 5), '', '—'], 'a system without any data: no data, not planned, not judged')
  t.equal(row('共通基盤', '2026-07')['稼働率 判定'], '未達', '30 min down in July misses 99.9 %')
  t.equal(row('共通基盤', '2026-08')['稼働率 判定'], '達成')
  t.equal(row('共通基盤', '2026-09')['基準応答時間順守率 %'] !== '', true)

  // Incident figures per month and for the quarter.
  const inc = csv(join(out, 'systemIncidentFigures.csv'))
  const fig = (sys: string, m: string): string[] => { const x = inc.find(r => r['業務システム'] === sys && r['月'] === m)!; return ['障害件数（SLA対象）', '復旧目標内の件数', '最長復旧 分', '障害発生報告対応率 %', '障害発生告知対応率 %', '重大障害', '重大障害 年度累計', '重大障害 判定', '免責', 'サービス影響なし'].map(k => x[k]!) }
  t.same(fig('共通基盤', '2026-07'), ['1', '1 / 1', '45', '100', '100', '0', '0', '達成', '0', '1'], 'July: I1 counted (recovery to the confirmed 13:45), I2 not service-affecting, I1b merged')
  t.same(fig('共通基盤', '2026-08'), ['0', '—', '', '', '', '0', '0', '達成', '0', '1'], 'August: only the warning')
  t.same(fig('共通基盤', '2026-09'), ['1', '1 / 1', '20', '0', '100', '1', '1', '達成', '1', '0'], 'September: I4 (mail late, notice in time, major), I5 exempt')
  t.same(fig('共通基盤', '期間計'), ['2', '2 / 2', '45', '50', '100', '1', '1', '達成', '1', '2'])
  t.same(fig('市税', '2026-07'), ['1', '1 / 1', '60', '100', '0', '1', '2', '未達', '0', '0'], 'July: I6 major; with May\'s the year has 2 > 1')
  t.same(fig('市税', '2026-08'), ['0', '—', '', '', '', '0', '2', '未達', '0', '0'], 'August: the maintenance incident is not counted')
  t.same(fig('市税', '2026-09'), ['1', '1 / 1', '15', '100', '', '0', '2', '未達', '0', '0'], 'September: I7; recovered before a user notice was due')
  const list = csv(join(out, 'systemIncidents.csv'))
  t.equal(list.length, 7, 'every 障害 of the quarter but the exempt one and the merged alert')
  t.notOk(list.some(r => r['ホスト'] === 'web02' && r['内容'] === 'web02 応答なし'), 'the merged alert is folded into I1')
  const ex = csv(join(out, 'exempt.csv'))
  t.same(ex.map(r => [r['業務システム'], r['免責区分'], r['免責理由']]), [['共通基盤', '③ 他社提供の回線', 'キャリア回線の障害（事業者発表あり）']])
  t.equal(csv(join(out, 'months.csv')).length, 3, 'host-level figures for each month')


  // The monthly report of September has the section; --from/--to within a month is that month's report of those days.
  const mo = join(dir, 'm')
  const mr = await monthlyReport({ config: loadCollectorConfig(config), month: makeMonth(2026, 9, 'Asia/Tokyo'), outDir: mo, lang: 'ja', pdf: false, now: jst('2026-12-06T12:00:00') })
  t.same(mr.systems.map(s => s.system.name), ['共通基盤', '市税', '発券'])
  t.equal(mr.attention[0], `共通基盤 の稼働率 ${exp.共通基盤[2]!.avail.toFixed(3)}% が目標 99.9% を下回りました`, 'a missed system target leads the monthly list')
  t.match(readFileSync(join(mo, 'report.html'), 'utf8'), '<section id="systems"><h2>業務システム別サービスレベル</h2>')
  const m9 = csv(join(mo, 'systems.csv')).find(x => x['業務システム'] === '共通基盤')!
  near(m9['稼働率 %'], exp.共通基盤[2]!.avail, 'monthly report: 共通基盤 September availability')
  const fr = join(dir, 'f')
  t.equal((await runReport(['--from', '2026-09-01', '--to', '2026-09-15', '--out', fr, '--config', config, '--no-pdf'])).code, 0)
  const part = expectAvail('共通基盤', SEP, jst('2026-09-16T00:00:00'))
  const p9 = csv(join(fr, 'systems.csv')).find(x => x['業務システム'] === '共通基盤')!
  t.equal(p9['月'], '2026-09-01 – 2026-09-15')
  t.equal(Number(p9['サービス時間 分']), part.scheduled, 'from–to: service minutes of 1–15 Sep only')
  near(p9['基準応答時間順守率 %'], part.compliance, 'from–to: compliance (busy season throughout)')

  // Bad arguments: exit 2 and one line naming the argument.
  const bad = await runReport(['--quarter', '2026Q5', '--out', fr, '--config', config])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--quarter: expected a calendar quarter YYYYQn/)
  const half = await runReport(['--from', '2026-09-01', '--out', fr, '--config', config])
  t.equal(half.code, 2)
  t.match(half.stderr, /--to: expected a date YYYY-MM-DD with --from, got missing/)
  t.equal((await runReport(['--quarter', '2026Q3', '--month', '2026-09', '--out', fr])).code, 2)

  // The fiscal year, run on 6 Dec 2026: April to December; the quarter's figures plus May's major incident.
  const fy = await runPeriodReport({ config: loadCollectorConfig(config), period: fiscalYearPeriod(2026, 'Asia/Tokyo'), outDir: join(dir, 'fy'), lang: 'en', pdf: false, now: jst('2026-12-06T12:00:00') })
  t.same(fy.months.map(m => m.month.id), ['2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10', '2026-11', '2026-12'])
  const zei = fy.systems.find(s => s.system.name === '市税')!
  t.same([zei.total.stats.counted, zei.total.stats.major, zei.total.majorYtd, zei.total.stats.recoveryMaxMin, zei.total.stats.reportInTime, zei.total.stats.reportJudged], [3, 2, 2, 120, 2, 3], '市税 fiscal year: May, July, September counted; 2 majors; May never mailed')
  t.same(zei.months.map(m => m.majorYtd), [0, 1, 1, 2, 2, 2, 2, 2, 2])
  const q = (s: '共通基盤' | '市税'): number => { const e = exp[s]; const m = e.reduce((a, x) => a + x.measured, 0); const d = e.reduce((a, x) => a + x.down, 0); return 100 * (m - d) / m }
  for (const s of fy.systems.filter(x => x.system.name !== '発券')) near(s.total.avail.availability, q(s.system.name as '共通基盤' | '市税'), `${s.system.name}: fiscal-year availability is the quarter's (no data in other months)`)
  t.match(readFileSync(join(dir, 'fy', 'report.html'), 'utf8'), 'Service-level report (fiscal year)')
  t.match(readFileSync(join(dir, 'fy', 'report.html'), 'utf8'), 'id="not-yet"')

  // Without systems: the host-level figures per month (maintenance matching system: does not apply to a host).
  const bare = join(dir, 'bare.yaml')
  writeFileSync(bare, `influx: { url: '${influx.url}' }\ndataDir: ./collector\n`)
  const nb = await runPeriodReport({ config: loadCollectorConfig(bare), period: quarterPeriod(2026, 3, 'Asia/Tokyo'), outDir: join(dir, 'bare'), lang: 'en', pdf: false, now: jst('2026-12-06T12:00:00') })
  t.same(nb.systems, [])
  t.match(readFileSync(join(dir, 'bare', 'report.html'), 'utf8'), 'id="no-systems"')
  const web = csv(join(dir, 'bare', 'periodAvailability.csv')).find(x => x['Kind'] === 'server' && x['Host'] === 'web01')!
  const hostAvail = (from: number, to: number): [number, number] => {
    const ins = slots(from, to).filter(s => inHours(s) && hostUp('web01', s) !== null)
    return [ins.length * 5, ins.reduce((d, s) => d + 5 * (1 - hostUp('web01', s)!), 0)]
  }
  const per = months.map(([, a, b]) => hostAvail(a, b))
  t.same(per.map(([, d]) => d), [150, 63, 40], 'web01 alone: E1 + E2 in July; E4 + E5 in August; E7 in September')
  months.forEach(([id], i) => near(web[id], 100 * (per[i]![0] - per[i]![1]) / per[i]![0], `web01 ${id} host availability`))
  const sum = per.reduce((a, x) => [a[0] + x[0], a[1] + x[1]], [0, 0])
  near(web['Period total'], 100 * (sum[0] - sum[1]) / sum[0], 'web01 over the quarter')
  t.equal(csv(join(dir, 'bare', 'months.csv')).length, 3)
})
