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
import { makeMonth, quarterPeriod } from '../../collector/report/period.js'
import { runReport as monthlyReport } from '../../collector/report/report.js'
import { runPeriodReport } from '../../collector/report/systems/period-report.js'
import { words } from '../../collector/report/i18n.js'
import { execFileSync } from 'node:child_process'

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
interface Exp { scheduled: number, planned: number, exempt: number, notSa: number, measured: number, down: number, noData: number, samples: number, within: number, busy: number }
type Sys = '共通基盤' | '市税' | '窓口'
const emptyExp = (): Exp => ({ scheduled: 0, planned: 0, exempt: 0, notSa: 0, measured: 0, down: 0, noData: 0, samples: 0, within: 0, busy: 0 })
function expectAvail (sys: Sys, from: number, to: number): Exp & { avail: number, compliance: number } {
  const e = emptyExp()
  const hosts = sys === '市税' ? ['db01'] : ['web01', 'web02']
  for (const s of slots(from, to)) {
    if (sys !== '市税' && !inHours(s)) continue
    if (sys === '共通基盤' ? within(s, E4) : sys === '市税' ? within(s, F2) : false) { e.planned += 5; continue }
    if (sys === '共通基盤' && within(s, E7)) { e.exempt += 5; continue }
    // I2 (web01 alone, E1) was marked not service-affecting: its time leaves 共通基盤's availability like an exemption
    if (sys === '共通基盤' && within(s, E1)) { e.notSa += 5; continue }
    e.scheduled += 5
    const busy = sys === '共通基盤' && localDate(s) >= '2026-09-01' && localDate(s) <= '2026-09-15'
    if (busy) e.busy += 5
    const comb = sys === '共通基盤' ? Math.min : Math.max
    const parts: number[] = []
    const hs = hosts.map(h => hostUp(h, s)).filter(x => x !== null).map(x => 1 - x)
    if (hs.length > 0) parts.push(comb(...hs))
    const inst = sys === '窓口' ? [] : hosts.map(h => h === 'db01' ? (hostUp(h, s) === 0 ? null : { up: 1, resp: 100 }) : portal(h, s)).filter(x => x !== null)
    if (inst.length > 0) parts.push(comb(...inst.map(p => 1 - p.up)))
    for (const p of inst) if (p.resp !== null) { e.samples += 10; if (p.resp <= (busy ? 5000 : 3000)) e.within += 10 }
    if (parts.length === 0) { e.noData += 5; continue }
    e.measured += 5
    e.down += 5 * Math.max(...parts)
  }
  return { ...e, avail: 100 * (e.measured - e.down) / e.measured, compliance: 100 * e.within / e.samples }
}
const sumExp = (l: readonly Exp[]): Exp => l.reduce((a, x) => { const o = { ...a }; for (const k of Object.keys(o) as Array<keyof Exp>) o[k] += x[k]; return o }, emptyExp())

// ---- the incident record
interface Spec { id: number, sys: string, severity: string, host: string, summary: string, at: number, resolved: number, notified?: number, notice?: number, confirmed?: number, sa?: 0 | 1, major?: 0 | 1, exempt?: [string, string], suppressed?: string, merged?: boolean, wu?: { cause?: string, actions?: string, prevention?: string, impact?: string } }
async function record (dataDir: string): Promise<Spec[]> {
  const specs: Spec[] = []
  const store = new SqliteAlertStore(dataDir)
  try {
    const win = await store.addWindow({ kind: 'maintenance', name: '共通基盤 定期保守', matchers: { system: '共通基盤' }, starts_at: E4[0], ends_at: E4[1], recur_days: null, recur_hours: null, created_by: 'ops', comment: '' }, E4[0] - DAY)
    const dbWin = await store.addWindow({ kind: 'maintenance', name: 'db01 patch', matchers: { host: 'db01' }, starts_at: F2[0], ends_at: F2[1], recur_days: null, recur_hours: null, created_by: 'ops', comment: '' }, F2[0] - DAY)
    t.ok(win > 0 && dbWin > 0)
    const open = async (sys: string, severity: string, host: string, summary: string, at: number, f: Omit<Spec, 'id' | 'sys' | 'severity' | 'host' | 'summary' | 'at'>): Promise<number> => {
      const id = await store.openIncident({ rule: 'host_down', severity, host, labels: {}, summary, summary_en: summary, description: '', description_en: '', value: 0, threshold: null, detected_at: at, suppressed_by: f.suppressed ?? null, series_key: `${host}:${at}`, systems: [sys] })
      store.db.db.prepare('UPDATE incidents SET notified_at = ?, user_notice_at = ?, confirmed_recovery_at = ?, service_affecting = ?, major_override = ?, exempt_category = ?, exempt_reason = ? WHERE id = ?')
        .run(f.notified ?? null, f.notice ?? null, f.confirmed ?? null, f.sa ?? null, f.major ?? null, f.exempt?.[0] ?? null, f.exempt?.[1] ?? null, id)
      store.db.db.prepare('UPDATE incidents SET cause_text = ?, actions = ?, prevention = ?, impact = ? WHERE id = ?').run(f.wu?.cause ?? '', f.wu?.actions ?? '', f.wu?.prevention ?? '', f.wu?.impact ?? '', id)
      await store.resolveIncident(id, f.resolved, 'cleared', 1)
      specs.push({ id, sys, severity, host, summary, at, ...f })
      return id
    }
    // I1: both down; mail at 10 min, user notice at 12, recovered 13:28 (28 min: not major), confirmed by the client at 13:45; fully written up
    const i1 = await open('共通基盤', 'critical', 'web01', '共通基盤 停止', E2[0], { notified: E2[0] + 10 * MIN, notice: E2[0] + 12 * MIN, resolved: E2[0] + 28 * MIN, confirmed: jst('2026-07-14T13:45:00'), sa: 1, wu: { cause: 'ロードバランサの設定誤り', actions: '設定を戻した', prevention: '変更手順に二者確認を追加', impact: '窓口業務 30 分停止' } })
    // I1b: the same outage seen on web02, merged into I1: not a second 障害 (it cleared a minute before
    // I1, so the folded 障害 still recovers at 13:28; a later member would extend it)
    const i1b = await open('共通基盤', 'critical', 'web02', 'web02 応答なし', E2[0] + MIN, { resolved: E2[0] + 27 * MIN })
    store.db.db.prepare('UPDATE incidents SET merged_into = ? WHERE id = ?').run(i1, i1b)
    specs[specs.length - 1]!.merged = true
    // I2: web01 alone down (redundancy covered it): the operator marks it not service-affecting
    await open('共通基盤', 'critical', 'web01', 'web01 応答なし', E1[0], { resolved: E1[1], notified: E1[0] + 5 * MIN, sa: 0, wu: { impact: '冗長構成のため利用者影響なし' } })
    // I3: a warning, not service-affecting by its severity
    await open('共通基盤', 'warning', 'web02', 'web02 CPU 85%', jst('2026-08-10T10:00:00'), { resolved: jst('2026-08-10T10:20:00') })
    // I4: portal down on both; mail late (20 min), user notice in time (10), recovered after 20; major by the operator; no prevention written, recovery not confirmed
    await open('共通基盤', 'critical', 'web01', 'portal 停止', E6[0], { notified: E6[0] + 20 * MIN, notice: E6[0] + 10 * MIN, resolved: E6[1], major: 1, wu: { cause: 'AP サーバのメモリ不足', actions: '再起動' } })
    // I5: exempt (免責): a carrier outage
    await open('共通基盤', 'critical', 'web01', '回線断', E7[0], { notified: E7[0] + 5 * MIN, resolved: E7[1], exempt: ['③ 他社提供の回線', 'キャリア回線の障害（事業者発表あり）'] })
    // 市税: I9 in May (major: critical for 2 h, never mailed), I6 on the holiday (major, 60 min, mailed at 5, no user notice), I8 in maintenance, I7 at night (15 min, mailed at 14)
    await open('市税', 'critical', 'db01', 'db01 停止', jst('2026-05-12T10:00:00'), { resolved: jst('2026-05-12T12:00:00') })
    await open('市税', 'critical', 'db01', 'db01 停止', F1[0], { notified: F1[0] + 5 * MIN, resolved: F1[1] })
    await open('市税', 'critical', 'db01', 'db01 停止（保守）', F2[0], { resolved: F2[1], suppressed: `maintenance:${dbWin}` })
    await open('市税', 'critical', 'db01', 'db01 停止', F3[0], { notified: F3[0] + 14 * MIN, resolved: F3[1] })
  } finally { await store.close() }
  return specs
}

// ---- expected incident judgements, from the specs (docs/report.md "Service levels by system")
const W = words('ja')
const stamp = (ms: number): string => new Date(ms + 9 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ')
const saOf = (x: Spec): boolean => x.sa !== undefined ? x.sa === 1 : x.severity === 'critical'
const countedOf = (x: Spec): boolean => saOf(x) && x.exempt === undefined && x.suppressed === undefined
const majorOf = (x: Spec): boolean => x.major !== undefined ? x.major === 1 : x.suppressed === undefined && x.severity === 'critical' && x.resolved - x.at >= 30 * MIN
const recoveryOf = (x: Spec): number => ((x.confirmed ?? x.resolved) - x.at) / MIN
/** a step due within limit minutes: met when done in time, missed when late or never; not judged when muted or recovered first */
const stepOk = (done: number | undefined, x: Spec, limit = 15): boolean | null => x.suppressed !== undefined ? null : done !== undefined ? (done - x.at) / MIN <= limit : (x.resolved - x.at) / MIN <= limit ? null : false
const yn = (b: boolean | null): string => b === null ? '—' : b ? '○' : '×'
const PARTS = [['cause', W('yCause')], ['actions', W('yActions')], ['prevention', W('yPrevention')]] as const
const missingOf = (x: Spec): string[] => countedOf(x) ? PARTS.filter(([k]) => (x.wu?.[k] ?? '') === '').map(([, n]) => n) : []
const unconfirmedOf = (x: Spec): boolean => countedOf(x) && x.confirmed === undefined
const autoOf = (x: Spec): boolean => x.suppressed === undefined && x.exempt === undefined && x.sa === undefined
const flagsOf = (x: Spec): string => [missingOf(x).length > 0 ? W('fNoWriteUp', { p: missingOf(x).join('・') }) : '', unconfirmedOf(x) ? W('fNoConfirm') : '', autoOf(x) ? W('fAutoSa') : ''].filter(f => f !== '').join('、')
type Want = Record<string, string | number | null>
/** listRow: a row of systemIncidents.csv as the definitions give it */
function listRow (x: Spec): Want {
  const rec = recoveryOf(x)
  return {
    業務システム: x.sys, 番号: x.id, 重要度: x.severity, ホスト: x.host, 内容: x.summary, 検知: stamp(x.at), '復旧（確認）': stamp(x.confirmed ?? x.resolved),
    '復旧まで 分': rec, '復旧 目標内': yn(rec <= 240), '報告まで 分': x.notified !== undefined ? (x.notified - x.at) / MIN : null, '報告 目標内': yn(stepOk(x.notified, x)),
    '告知まで 分': x.notice !== undefined ? (x.notice - x.at) / MIN : null, '告知 目標内': yn(stepOk(x.notice, x)), 重大: majorOf(x) ? '○' : '', サービス影響: saOf(x) ? '○' : '×', SLA対象: countedOf(x) ? '○' : '×',
    復旧確認時刻: x.confirmed !== undefined ? stamp(x.confirmed) : null, 原因: x.wu?.cause ?? '', 対応内容: x.wu?.actions ?? '', 再発防止策: x.wu?.prevention ?? '', 要確認: flagsOf(x), 障害報告書: `${PUBLIC}/console/incidents/${x.id}`
  }
}

function csv (file: string): Array<Record<string, string>> {
  const text = readFileSync(file, 'utf8').replace(/^\ufeff/, '')
  const rows = text.trim().split('\r\n').map(l => { const o: string[] = []; let cur = ''; let q = false; for (const ch of l) { if (ch === '"') q = !q; else if (ch === ',' && !q) { o.push(cur); cur = '' } else cur += ch } o.push(cur); return o })
  return rows.slice(1).map(r => Object.fromEntries(rows[0]!.map((h, i) => [h, r[i] ?? ''])))
}

const PUBLIC = 'https://kanshi.example.jp'
const CONFIG = (url: string): string => `influx: { url: '${url}' }
dataDir: ./collector
alerting: { publicUrl: '${PUBLIC}/' }
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
  - name: 窓口
    where: { site: honcho }
    redundancy: all
    schedule: business-hours
`

t.test('a generated quarter: the systems month by month, the quarter, the month, from–to, the fiscal year', async t => {
  const { influx, dir, dataDir } = await withReportDb(t)
  await writeLines(influx.url, 'kanshi_5m', quarter())
  const specs = await record(dataDir)
  const config = join(dir, 'collector.yaml')
  writeFileSync(config, CONFIG(influx.url))
  const near = (a: unknown, b: number, msg: string, eps = 1e-6): void => { t.ok(Math.abs(Number(a) - b) <= eps, `${msg}: ${String(a)} ≈ ${b}`) }
  /** like: every expected cell of a CSV row; numbers within 1e-6, null an empty cell */
  const like = (got: Record<string, string> | undefined, want: Want, msg: string): void => {
    if (got === undefined) { t.fail(`${msg}: no row`); return }
    for (const [k, v] of Object.entries(want)) {
      if (typeof v === 'number') near(got[k], v, `${msg}: ${k}`)
      else t.equal(got[k], v ?? '', `${msg}: ${k}`)
    }
    t.same(Object.keys(got).filter(k => !(k in want)), [], `${msg}: no other columns`)
  }

  // By hand: July has 22 business days (20 Jul is 海の日), August 20 (11 Aug), September 19 (21–23 Sep).
  t.same([JUL, AUG, SEP].map((m, i) => new Set(slots(m, [AUG, SEP, OCT][i]!).filter(inHours).map(localDate)).size), [22, 20, 19])
  const months = [['2026-07', JUL, AUG], ['2026-08', AUG, SEP], ['2026-09', SEP, OCT]] as const
  const exp = { 共通基盤: months.map(([, a, b]) => expectAvail('共通基盤', a, b)), 市税: months.map(([, a, b]) => expectAvail('市税', a, b)), 窓口: months.map(([, a, b]) => expectAvail('窓口', a, b)) }
  // The outages as the contract sees them, by hand: 30 min in July, 3 in August, 20 in September; 市税 60, 0, 15.
  t.same(exp.共通基盤.map(e => e.down), [30, 3, 20])
  t.same(exp.市税.map(e => e.down), [60, 0, 15])
  t.same([exp.共通基盤[0]!.noData, exp.共通基盤[1]!.planned, exp.共通基盤[2]!.exempt, exp.市税[1]!.planned], [30, 60, 40, 120])
  // I2 marked not service-affecting: 共通基盤 leaves out its 2 hours on 7 Jul. 窓口 (where: site honcho, all): either host down counts, maintenance of 共通基盤 does not apply.
  t.same([exp.共通基盤[0]!.notSa, exp.共通基盤[2]!.busy], [120, 11 * 555])
  t.same(exp.窓口.map(e => e.down), [150, 64, 40])

  const out = join(dir, 'q')
  const r = await runReport(['--quarter', '2026Q3', '--out', out, '--config', config])
  t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`)
  t.match(r.stdout, /2026Q3: wrote report\.html, report\.xlsx, systems\.csv/)
  t.match(r.stdout, /report\.pdf/, 'the quarter is printed too')
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
  t.same(wb.worksheets.map(w => w.name), ['Systems', 'System incidents', 'Incident list', 'Exempt', 'No service impact', 'Months', 'Availability by month'])
  const sysRows = csv(join(out, 'systems.csv'))
  const row = (sys: string, month: string): Record<string, string> => sysRows.find(x => x['業務システム'] === sys && x['月'] === month)!
  for (const sys of ['共通基盤', '市税'] as const) {
    const tot: Exp = emptyExp()
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

  // Every minute column, the busy season and the met/missed judgements, per month and for the quarter, for each system.
  const TGT: Record<Sys, [number, number]> = { 共通基盤: [99.9, 99], 市税: [99.5, 95], 窓口: [99.5, 95] }
  const judge = (v: number | null, tg: number): string => v === null || Number.isNaN(v) ? '—' : v >= tg ? '達成' : '未達'
  const availRow = (sys: Sys, e: Exp): Want => {
    const a = e.measured > 0 ? 100 * (e.measured - e.down) / e.measured : null
    const c = e.samples > 0 ? 100 * e.within / e.samples : null
    return { 'サービス時間 分': e.scheduled, '計画停止 分': e.planned, '免責 分': e.exempt, '影響なし 分': e.notSa, 'データなし 分': e.noData, '停止 分': e.down, '稼働率 %': a, '稼働率 判定': judge(a, TGT[sys][0]), '基準応答時間順守率 %': c, '順守率 判定': judge(c, TGT[sys][1]), '応答 計測数': e.samples, '繁忙期 分': e.busy }
  }
  const pick = (r: Record<string, string> | undefined, want: Want): Record<string, string> | undefined => r === undefined ? undefined : Object.fromEntries(Object.keys(want).map(k => [k, r[k] ?? '']))
  for (const sys of ['共通基盤', '市税', '窓口'] as const) {
    months.forEach(([id], i) => { const want = availRow(sys, exp[sys][i]!); like(pick(row(sys, id), want), want, `${sys} ${id}`) })
    const want = availRow(sys, sumExp(exp[sys]))
    like(pick(row(sys, '期間計'), want), want, `${sys} quarter total`)
  }

  // The incident list, row by row: every 障害 of the quarter but the exempt one, with its write-up and what is still open.
  const inQuarter = specs.filter(x => x.merged !== true && x.at >= JUL && x.at < OCT)
  const ORDER = ['共通基盤', '市税', '窓口']
  const wantList = inQuarter.filter(x => x.exempt === undefined).sort((a, b) => ORDER.indexOf(a.sys) - ORDER.indexOf(b.sys) || a.at - b.at)
  t.equal(list.length, wantList.length)
  wantList.forEach((x, i) => like(list[i], listRow(x), `systemIncidents #${x.id} ${x.summary}`))
  t.same(list.filter(r => r['要確認'] === '').map(r => r['内容']), ['web01 応答なし', '共通基盤 停止', 'db01 停止（保守）'], 'written up, confirmed and judged by hand: nothing to check')
  const nsa = csv(join(out, 'notServiceAffecting.csv'))
  t.same(nsa.map(r => [r['業務システム'], Number(r['番号']), r['理由'], r['影響']]), inQuarter.filter(x => !saOf(x) && x.suppressed === undefined && x.exempt === undefined)
    .map(x => [x.sys, x.id, x.sa === 0 ? W('xNotSaSet') : W('xNotSaAuto', { s: x.severity }), x.wu?.impact ?? '']), 'not service-affecting, listed apart with the reason')
  const nFlag = inQuarter.filter(x => missingOf(x).length > 0 || unconfirmedOf(x) || autoOf(x)).length
  t.match(html, `<li>${W('yaFlags', { n: nFlag, w: inQuarter.filter(x => missingOf(x).length > 0).length, c: inQuarter.filter(unconfirmedOf).length, a: inQuarter.filter(autoOf).length })}</li>`, 'the write-ups to settle lead the incident lines')
  t.match(html, 'id="host-level-note"', 'the Months table says what the host-level figures count')

  // The host-level Months table: SLA incidents only (service-affecting, not exempt, not planned), notice within report.targets.notifyWithinMin (15).
  const monthRow = (from: number, to: number): Want => {
    const all = specs.filter(x => x.merged !== true && x.at >= from && x.at < to)
    const c = all.filter(countedOf)
    const judged = c.map(x => stepOk(x.notified, x)).filter(v => v !== null)
    return { '障害件数（SLA対象）': c.length, '障害通知 15分以内の割合': judged.length > 0 ? 100 * judged.filter(Boolean).length / judged.length : null, 重大障害件数: c.filter(majorOf).length,
      '平均復旧時間（MTTR）': c.length > 0 ? c.reduce((a, x) => a + (x.resolved - x.at) / MIN, 0) / c.length : null, 免責: all.filter(x => x.exempt !== undefined && x.suppressed === undefined).length, サービス影響なし: all.filter(x => !saOf(x) && x.exempt === undefined && x.suppressed === undefined).length }
  }
  const mcsv = csv(join(out, 'months.csv'))
  months.forEach(([id, a, b]) => { const want = monthRow(a, b); like(pick(mcsv.find(r => r['月'] === id), want), want, `months.csv ${id}`) })
  // Its lowest host: host_up as measured in business hours (the 共通基盤 window matches the system, not a host; nothing is exempt at host level).
  const hostPct = (h: string, from: number, to: number): number => {
    const ins = slots(from, to).filter(s => inHours(s) && hostUp(h, s) !== null)
    return 100 * (ins.length - ins.reduce((d, s) => d + 1 - hostUp(h, s)!, 0)) / ins.length
  }
  months.forEach(([id, a, b]) => near(mcsv.find(r => r['月'] === id)!['サーバ稼働率（最低）'], Math.min(...['web01', 'web02', 'db01'].map(h => hostPct(h, a, b))), `months.csv ${id}: lowest host availability`))

  // report.pdf of the quarter, read back as text: the title and 共通基盤's quarter availability.
  const pdf = execFileSync('pdftotext', ['-layout', join(out, 'report.pdf'), '-'], { encoding: 'utf8' })
  t.match(pdf, 'サービスレベル報告書（四半期）')
  t.match(pdf, (100 * (qe.m - qe.d) / qe.m).toFixed(3), 'the quarter availability is printed')


  // The monthly report of September has the section; --from/--to within a month is that month's report of those days.
  const mo = join(dir, 'm')
  const mr = await monthlyReport({ config: loadCollectorConfig(config), month: makeMonth(2026, 9, 'Asia/Tokyo'), outDir: mo, lang: 'ja', pdf: false, now: jst('2026-12-06T12:00:00') })
  t.same(mr.systems.map(s => s.system.name), ['共通基盤', '市税', '発券', '窓口'])
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

  // The fiscal year through the CLI (now = the clock: the months begun so far): the quarter's figures plus May's major incident.
  const fyc = join(dir, 'fyc')
  const fr2 = await runReport(['--fiscal-year', '2026', '--out', fyc, '--config', config, '--no-pdf'])
  t.equal(fr2.code, 0, `--fiscal-year exit 0 (stderr: ${fr2.stderr})`)
  const started = Array.from({ length: 12 }, (_, i) => jst(`${i < 9 ? 2026 : 2027}-${String((i + 3) % 12 + 1).padStart(2, '0')}-01T00:00:00`)).filter(s => s <= Date.now())
  t.ok(started.length >= 7, 'the clock is past the generated quarter')
  const fyHtml = readFileSync(join(fyc, 'report.html'), 'utf8')
  t.match(fyHtml, 'サービスレベル報告書（年度）')
  if (started.length < 12) t.match(fyHtml, 'id="not-yet"')
  const fm = csv(join(fyc, 'months.csv'))
  t.same(fm.map(r => r['月']), started.map(localDate).map(d => d.slice(0, 7)), 'a row for each month begun')
  const zei = (m: string): Record<string, string> => csv(join(fyc, 'systemIncidentFigures.csv')).find(r => r['業務システム'] === '市税' && r['月'] === m)!
  t.same(['障害件数（SLA対象）', '重大障害', '重大障害 年度累計', '最長復旧 分'].map(k => Number(zei('期間計')[k])), [3, 2, 2, 120], '市税 fiscal year: May, July, September counted; 2 majors')
  near(zei('期間計')['障害発生報告対応率 %'], 100 * 2 / 3, '市税: May never mailed, 2 of 3 reported in time')
  t.same(fm.map(r => Number(zei(r['月']!)['重大障害 年度累計'])), [0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2].slice(0, started.length), 'the May major carries into the quarter')
  const monthEnd = (i: number): number => started[i + 1] ?? jst(i < 11 ? `${i < 8 ? 2026 : 2027}-${String((i + 4) % 12 + 1).padStart(2, '0')}-01T00:00:00` : '2027-04-01T00:00:00')
  started.forEach((a, i) => { const want = monthRow(a, monthEnd(i)); like(pick(fm[i], want), want, `FY months.csv ${fm[i]?.['月']}`) })
  const fsys = csv(join(fyc, 'systems.csv'))
  for (const sys of ['共通基盤', '市税'] as const) {
    const e = sumExp(exp[sys])
    const x = fsys.find(r => r['業務システム'] === sys && r['月'] === '期間計')
    const want = { '稼働率 %': 100 * (e.measured - e.down) / e.measured, '停止 分': e.down, '免責 分': e.exempt, '影響なし 分': e.notSa, '応答 計測数': e.samples, '基準応答時間順守率 %': 100 * e.within / e.samples, '繁忙期 分': e.busy }
    like(pick(x, want), want, `FY systems.csv ${sys} total`)
  }
  const ffig = csv(join(fyc, 'systemIncidentFigures.csv'))
  for (const sys of ['共通基盤', '市税'] as const) {
    const mine = specs.filter(x => x.merged !== true && x.sys === sys && x.at >= started[0]!)
    const c = mine.filter(countedOf)
    const maj = c.filter(majorOf).length
    const lim = sys === '市税' ? 1 : 2
    const want = { '障害件数（SLA対象）': c.length, 重大障害: maj, '重大障害 年度累計': maj, '重大障害 判定': maj <= lim ? '達成' : '未達', '最長復旧 分': Math.max(...c.map(recoveryOf)), 免責: mine.filter(x => x.exempt !== undefined).length, サービス影響なし: mine.filter(x => !saOf(x) && x.exempt === undefined).length }
    like(pick(ffig.find(r => r['業務システム'] === sys && r['月'] === '期間計'), want), want, `FY systemIncidentFigures.csv ${sys} total`)
  }

  // Without systems: the host-level figures per month (maintenance matching system: does not apply to a host).
  const bare = join(dir, 'bare.yaml')
  writeFileSync(bare, `influx: { url: '${influx.url}' }\ndataDir: ./collector\n`)
  const nb = await runPeriodReport({ config: loadCollectorConfig(bare), period: quarterPeriod(2026, 3, 'Asia/Tokyo'), outDir: join(dir, 'bare'), lang: 'en', pdf: false, now: jst('2026-12-06T12:00:00') })
  t.same(nb.systems, [])
  t.match(readFileSync(join(dir, 'bare', 'report.html'), 'utf8'), 'id="no-systems"')
  t.match(readFileSync(join(dir, 'bare', 'report.html'), 'utf8'), 'Service-level report (quarter)')
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
