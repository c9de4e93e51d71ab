// kanshi-report --day end to end: a generated Monday night (raw points in a
// real influxd, incidents in a real alerting.db), the real command, and every
// line of the action page and the details checked against values worked out
// here from the generated inputs; then a holiday, and bad arguments.

import t from 'tap'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { withReportDb, writeLines } from '../helpers/influxd.js'
import { tmpDir } from '../helpers/tmp.js'
import { runReport } from '../helpers/report-cli.js'
import { SqliteAlertStore } from '../../collector/alerting/store-sqlite.js'
import { loadCollectorConfig } from '../../collector/config.js'
import { runDailyReport } from '../../collector/report/daily/index.js'
import { leastSquares } from '../../collector/report/disks.js'
import { startCollector } from '../helpers/collector.js'
import { withSmtp } from '../helpers/smtp.js'
import { waitFor } from '../helpers/procs.js'

const MIN = 60_000
const DAY = 86_400_000
// JST has no daylight saving: local time is UTC + 9 h.
const jst = (s: string): number => Date.parse(`${s}+09:00`)
const localDate = (ms: number): string => new Date(ms + 9 * 3_600_000).toISOString().slice(0, 10)

// The report day: Tue 20 Oct 2026. Its window: Mon 19 Oct 08:30 (opening of business-hours) to Tue 08:30.
const END = jst('2026-10-20T08:30:00')
const FROM = jst('2026-10-19T00:00:00')

const WEB = 'host=web01,role=server,site=honcho'
const DB = 'host=db01,role=server,site=honcho'
const KIOSK = 'host=kiosk01,role=kiosk,site=shisho'
const APP = 'host=app02,role=server,site=honcho'

function minutes (from: number, to: number, step = MIN): number[] {
  const out: number[] = []
  for (let m = from; m < to; m += step) out.push(m)
  return out
}

// db01 /data grows 2 points a day from 80 % on 13 Oct 00:00, sampled every 30 minutes.
const DISK_FROM = jst('2026-10-13T00:00:00')
const diskUsed = (m: number): number => 80 + 2 * (m - DISK_FROM) / DAY

function night (): string[] {
  const L: string[] = []
  for (const m of minutes(FROM, END + 5 * MIN)) {
    L.push(`host_up,${WEB} up=1 ${m}`)
    // db01 dies at 03:00: the collector writes host_up 0 once, then nothing.
    if (m < jst('2026-10-20T03:00:00')) L.push(`host_up,${DB} up=1 ${m}`)
    // app02 stops reporting at 06:00 without a 0 (the collector was not told): no data at opening.
    if (m <= jst('2026-10-20T06:00:00')) L.push(`host_up,${APP} up=1 ${m}`)
    // kiosk01 runs 08:25-17:15 each day; off at night (host_up 0 written at 17:15).
    const lm = Math.floor(((m + 9 * 3_600_000) % DAY) / MIN)
    if (lm >= 505 && lm < 1035) L.push(`host_up,${KIOSK} up=1 ${m}`)
    L.push(`service,${WEB},service=portal,check=http up=1i,response_ms=120,cert_days_left=10,message="HTTP 200" ${m}`)
    const nginxUp = m < jst('2026-10-20T07:00:00')
    L.push(`service,${WEB},service=nginx,check=process up=${nginxUp ? 1 : 0}i,message="${nginxUp ? 'running' : 'no process matches nginx'}" ${m}`)
    if (m % (10 * MIN) === 0) {
      L.push(`agent,${WEB} spool_batches=0,clock_skew_ms=30 ${m}`)
      L.push(`agent,${KIOSK} spool_batches=${m >= jst('2026-10-20T08:00:00') ? 25 : 0},clock_skew_ms=-120 ${m}`)
      if (m <= jst('2026-10-20T06:00:00')) L.push(`agent,${APP} spool_batches=1,clock_skew_ms=3500 ${m}`)
    }
  }
  L.push(`host_up,${DB} up=0 ${jst('2026-10-20T03:00:00')}`)
  L.push(`host_up,${KIOSK} up=0 ${jst('2026-10-19T17:15:00')}`)
  // jobs: nightly-backup ran on the 19th (before the window) but not on the 20th: missed.
  const job = (tags: string, name: string, started: number, finished: number, code: number, onTime?: boolean): string =>
    `service,${tags},service=${name},check=job up=${code === 0 && onTime !== false ? 1 : 0}i,exit_code=${code}i,duration_s=${(finished - started) / 1000},started_ms=${started}${onTime === undefined ? '' : `,on_time=${onTime ? 1 : 0}i`},message="${code !== 0 ? `exit code ${code}` : onTime === false ? 'finished late (deadline 07:00)' : 'ok'}" ${finished}`
  L.push(job(DB, 'nightly-backup', jst('2026-10-19T01:00:00'), jst('2026-10-19T01:10:00'), 0, true))
  L.push(job(DB, 'export', jst('2026-10-19T21:50:00'), jst('2026-10-19T22:00:00'), 3))
  L.push(job(WEB, 'daily-batch', jst('2026-10-20T05:00:00'), jst('2026-10-20T07:10:00'), 0, false))
  L.push(job(WEB, 'log-rotate', jst('2026-10-20T01:55:00'), jst('2026-10-20T02:00:00'), 0))
  // a backup freshness check: check=job without exit_code is not a run
  L.push(`service,${DB},service=backup-file,check=job up=1i,age_s=3600 ${jst('2026-10-20T04:00:00')}`)
  // logs: web01 errors and warnings in the window, one error before it; db01 one warning
  const log = (tags: string, level: string, msg: string, at: number, n = 1): string => `log_event,${tags},source=/var/log/app.log,level=${level} message="${msg}",count=${n}i ${at}`
  for (let i = 0; i < 5; i++) L.push(log(WEB, 'error', 'DB connection refused', jst('2026-10-19T23:00:00') + i * MIN))
  L.push(log(WEB, 'error', 'timeout after 3000 ms', jst('2026-10-20T01:00:00'), 2))
  L.push(log(WEB, 'warning', 'slow query', jst('2026-10-20T02:00:00'), 3))
  L.push(log(WEB, 'error', 'before the window', jst('2026-10-19T07:00:00')))
  L.push(log(DB, 'warning', 'replication lag', jst('2026-10-19T12:00:00')))
  L.push(log(WEB, 'info', 'started', jst('2026-10-19T12:00:00')))
  // the weekend before the holiday: one error on Saturday
  L.push(log(WEB, 'error', 'disk I/O error', jst('2026-10-10T14:00:00')))
  for (const m of minutes(DISK_FROM, END, 30 * MIN)) {
    L.push(`disk,${DB},mount=/data,fstype=xfs used_percent=${diskUsed(m)},total_bytes=1000000000000 ${m}`)
    L.push(`disk,${WEB},mount=/,fstype=ext4 used_percent=30,total_bytes=50000000000 ${m}`)
  }
  return L
}

async function incidents (dataDir: string): Promise<void> {
  const store = new SqliteAlertStore(dataDir)
  try {
    const base = { labels: {}, summary_en: '', description: '', description_en: '', value: 0, threshold: null, suppressed_by: null }
    const open = async (rule: string, host: string, summary: string, at: number): Promise<number> =>
      await store.openIncident({ ...base, rule, severity: 'critical', host, summary, detected_at: at, series_key: `${rule}:${host}:${at}` })
    const set = async (id: number, notified: number | null, resolved?: number): Promise<void> => {
      store.db.db.prepare('UPDATE incidents SET notified_at = ? WHERE id = ?').run(notified, id)
      if (resolved !== undefined) await store.resolveIncident(id, resolved, 'cleared', 0)
    }
    // 1: resolved before the window: not listed
    await set(await open('cpu_high', 'web01', 'web01 CPU 95%', jst('2026-10-19T06:00:00')), jst('2026-10-19T06:05:00'), jst('2026-10-19T07:00:00'))
    // 2: opened on Sunday, resolved in the window
    await set(await open('service_down', 'app02', 'app02 api 停止', jst('2026-10-18T10:00:00')), jst('2026-10-18T10:05:00'), jst('2026-10-19T09:00:00'))
    // 3: opened and resolved overnight, notified at 14 minutes
    await set(await open('service_down', 'web01', 'web01 portal 停止', jst('2026-10-19T23:00:00')), jst('2026-10-19T23:14:00'), jst('2026-10-19T23:40:00'))
    // 4: db01 down at 03:00, notified at 20 minutes, still open
    await set(await open('host_down', 'db01', 'db01 応答なし', jst('2026-10-20T03:00:00')), jst('2026-10-20T03:20:00'))
  } finally {
    await store.close()
  }
}

async function sheets (file: string): Promise<{ names: string[], rows: (name: string) => Array<Record<string, unknown>> }> {
  const wb = new ExcelJS.Workbook()
  await wb.xlsx.readFile(file)
  return {
    names: wb.worksheets.map(w => w.name),
    rows: name => {
      const ws = wb.getWorksheet(name)!
      const head = (ws.getRow(1).values as unknown[]).slice(1).map(String)
      const out: Array<Record<string, unknown>> = []
      ws.eachRow((row, i) => { if (i > 1) out.push(Object.fromEntries(head.map((h, j) => [h, row.getCell(j + 1).value]))) })
      return out
    }
  }
}

const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&')
const items = (html: string): string[] => [...(/<ol class="action" id="needs-action">(.*?)<\/ol>/s.exec(html)?.[1] ?? '').matchAll(/<li>(.*?)<\/li>/g)].map(m => unescape(m[1]!))
/** wall is a workbook time (local wall clock written as UTC) back to "MM-DD HH:MM". */
const wall = (v: unknown): string => (v as Date).toISOString().slice(5, 16).replace('T', ' ')

/** diskForecast repeats the monthly method by hand: daily means at local noon, least squares, where the line meets 100 %. */
function diskForecast (): { date: string, now: number, growth: number } {
  const samples = minutes(DISK_FROM, END, 30 * MIN).filter(m => m >= END - 30 * DAY)
  const byDay = new Map<string, number[]>()
  for (const m of samples) byDay.set(localDate(m), [...(byDay.get(localDate(m)) ?? []), diskUsed(m)])
  const pts = [...byDay].map(([d, v]) => [jst(`${d}T12:00:00`), v.reduce((a, b) => a + b, 0) / v.length] as const)
  const fit = leastSquares(pts)!
  return { date: localDate(Math.round((100 - fit.intercept) / fit.slope)), now: diskUsed(samples[samples.length - 1]!), growth: fit.slope * DAY * 30 }
}

t.test('a generated night: the action page, every detail, the workbook, the PDF', async t => {
  const { influx, dir, dataDir } = await withReportDb(t)
  const lines = night()
  // Log events live in their own policy (influx.retention.logsPolicy), as the collector writes them.
  await writeLines(influx.url, 'kanshi_raw', lines.filter(l => !l.startsWith('log_event,')))
  await writeLines(influx.url, 'kanshi_logs', lines.filter(l => l.startsWith('log_event,')))
  await incidents(dataDir)
  const config = join(dir, 'collector.yaml')
  writeFileSync(config, `influx: { url: '${influx.url}' }\ndataDir: ./collector\nreport:\n  jobs:\n    - { name: nightly-backup, host: db01, deadline: '06:00' }\n    - { name: daily-batch, host: web01, deadline: '07:00' }\n`)
  const out = join(dir, 'out')
  const r = await runReport(['--day', '2026-10-20', '--out', out, '--config', config])
  t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`)
  t.match(r.stdout, /2026-10-20: wrote daily\.html, daily\.xlsx, daily\.pdf/)
  const disk = diskForecast()
  const expected = [
    '[障害] 未復旧の障害 #4 db01: db01 応答なし（検知 10-20 03:00）',
    '[障害] 障害 #4 db01 の通知が 15分以内にありません（通知まで 20分）',
    '[ジョブ] db01 / nightly-backup が実行されていません（期限 10-20 06:00）',
    '[ジョブ] db01 / export が失敗しました（終了コード 3、10-19 22:00 終了）',
    '[ジョブ] web01 / daily-batch が期限に遅れて終了しました（10-20 07:10 終了）',
    '[稼働状態] app02 のデータが開庁時にありません（最終 10-20 06:00）',
    '[稼働状態] db01 が開庁時に停止しています（最終稼働 10-20 02:59）',
    '[稼働状態] web01 / nginx が開庁時に停止しています（最終稼働 10-20 06:59）',
    `[ディスク] db01 /data は ${disk.date} に満杯になる見込みです（現在 ${disk.now.toFixed(1)}%）`,
    '[証明書] web01 / portal の証明書の期限まで残り 10 日',
    '[ログ] web01 のログにエラー 7 件（最多: DB connection refused ×5）',
    '[エージェント] app02 の時刻ずれ 3500 ミリ秒',
    '[エージェント] kiosk01 のエージェントに送信待ち 25 バッチ'
  ]
  t.same(r.stdout.split('\n').slice(1).filter(Boolean).map(l => l.trim()), expected, 'stdout: what needs action, one line each')
  t.ok(disk.date < '2026-11-19', `the disk is forecast full within 30 days (${disk.date})`)

  // ---- the page: action first, details on the next page
  const html = readFileSync(join(out, 'daily.html'), 'utf8')
  t.same(items(html), expected, 'every line of the action page, in order')
  t.match(html, '<dd id="window">2026-10-19 08:30 – 2026-10-20 08:30</dd>', 'the window: previous business day opening to this opening')
  t.notMatch(html, 'id="closed-day"', 'a business day')
  t.ok(html.indexOf('id="needs-action"') < html.indexOf('class="details"'), 'what needs action comes before the details')
  t.match(html, 'section.details { break-before: page; }', 'details start on a new page')
  t.notMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'self-contained')

  // ---- the workbook: every detail
  const x = await sheets(join(out, 'daily.xlsx'))
  t.same(x.names, ['Action', 'Overview', 'Incidents', 'Jobs', 'Expected', 'Status', 'Disks', 'Certificates', 'Logs', 'Agents'])
  t.same(x.rows('Action').map(a => `[${String(a['区分'])}] ${String(a['項目'])}`), expected, 'the Action sheet holds the same lines')
  const overview = Object.fromEntries(x.rows('Overview').map(o => [String(o['項目']), o['件数']]))
  t.same(overview, {
    '障害（期間内に検知）': 2, '障害（未復旧）': 1, '障害（期間内に復旧）': 2, '障害（15分以内に通知なし）': 1,
    'ジョブ実行': 3, 'ジョブ失敗': 1, 'ジョブ遅延': 1, 'ジョブ未実行': 1, '開庁時に停止・データなし': 3,
    '満杯予測のディスク': 1, '期限の近い証明書': 1, 'ログ エラー': 7, 'ログ 警告': 4, '要確認のエージェント': 2
  }, 'overview counts')

  const inc = x.rows('Incidents')
  t.same(inc.map(i => i['番号']), [2, 3, 4], 'resolved before the window: not listed')
  const byId = (id: number): Record<string, unknown> => inc.find(i => i['番号'] === id)!
  t.match(byId(2), { '状態': '復旧', '期間内に検知': '', '15分以内': '○', '通知まで 分': 5 })
  t.equal(wall(byId(2)['復旧']), '10-19 09:00')
  t.match(byId(3), { '状態': '復旧', '期間内に検知': '○', '15分以内': '○', '通知まで 分': 14, '所要 分': 40, '内容': 'web01 portal 停止' })
  t.equal(wall(byId(3)['検知']), '10-19 23:00')
  t.equal(wall(byId(3)['通知']), '10-19 23:14')
  t.match(byId(4), { '状態': '未復旧', '期間内に検知': '○', '15分以内': '×', '通知まで 分': 20, '所要 分': 330, '復旧': null })

  const runs = x.rows('Jobs')
  t.same(runs.map(j => [j['ホスト'], j['ジョブ'], j['終了コード'], j['状態']]), [
    ['db01', 'export', 3, '失敗'],
    ['web01', 'log-rotate', 0, '正常'],
    ['web01', 'daily-batch', 0, '遅延']
  ], 'runs in the window by finish time; the file check and the run before the window are not listed')
  t.equal(wall(runs[2]!['開始']), '10-20 05:00')
  t.equal(wall(runs[2]!['終了']), '10-20 07:10')
  const exp = x.rows('Expected')
  t.same(exp.map(e => [e['ホスト'], e['ジョブ'], wall(e['期限']), e['状態']]), [['db01', 'nightly-backup', '10-20 06:00', '未実行'], ['web01', 'daily-batch', '10-20 07:00', '遅延']], 'expected runs: one missed, one late')
  t.equal(exp[0]!['終了'], null, 'a missed run has no finish')

  const status = x.rows('Status')
  t.same(status.map(s => [s['種別'], s['ホスト'], s['サービス'], s['状態']]), [
    ['サーバ', 'app02', '', 'データなし'], ['サーバ', 'db01', '', '停止'], ['サーバ', 'kiosk01', '', '稼働'], ['サーバ', 'web01', '', '稼働'],
    ['サービス', 'web01', 'nginx', '停止'], ['サービス', 'web01', 'portal', '稼働']
  ], 'status at opening: the kiosk is up, db01 down, app02 silent, nginx down')
  t.equal(status.find(s => s['ホスト'] === 'kiosk01')!['役割'], 'kiosk')
  t.equal(status.find(s => s['サービス'] === 'nginx')!['メッセージ'], 'no process matches nginx')

  const disks = x.rows('Disks')
  t.equal(disks.length, 1, 'only the disk forecast full within 30 days')
  t.match(disks[0], { 'ホスト': 'db01', 'マウント': '/data' })
  t.equal((disks[0]!['満杯予測日'] as Date).toISOString().slice(0, 10), disk.date)
  // 2 points a day, a little less through daily means: the last day holds only its morning
  t.ok(Math.abs(Number(disks[0]!['増加 ポイント/30日']) - disk.growth) < 1e-6, `growth ${disk.growth} points per 30 days: ${String(disks[0]!['増加 ポイント/30日'])}`)

  t.same(x.rows('Certificates').map(c => [c['ホスト'], c['サービス'], c['残り日数']]), [['web01', 'portal', 10]])
  t.same(x.rows('Logs').map(l => [l['ホスト'], l['レベル'], l['件数'], l['主なメッセージ']]), [
    ['db01', 'warning', 1, 'replication lag ×1'],
    ['web01', 'error', 7, 'DB connection refused ×5 / timeout after 3000 ms ×2'],
    ['web01', 'warning', 3, 'slow query ×3']
  ], 'log counts per host and level in the window, with the top messages')
  t.same(x.rows('Agents').map(a => [a['ホスト'], a['送信待ち（最新）'], a['送信待ち（最大）'], a['時刻ずれ ms（最新）'], a['時刻ずれ ms（最大）']]), [
    ['app02', 1, 1, 3500, 3500], ['kiosk01', 25, 25, -120, 120], ['web01', 0, 0, 30, 30]
  ])

  // ---- the PDF (Chromium is installed on the test machine)
  t.ok(existsSync(join(out, 'daily.pdf')) && readFileSync(join(out, 'daily.pdf')).subarray(0, 5).toString() === '%PDF-', 'daily.pdf printed by Chromium')

  // ---- a holiday: Mon 12 Oct (スポーツの日) reports the window since Fri 9 Oct's opening, in English
  const cfg = loadCollectorConfig(config)
  const hol = await runDailyReport({ config: cfg, day: '2026-10-12', outDir: join(dir, 'hol'), lang: 'en', pdf: false, now: Date.now() })
  t.same(hol.files, ['daily.html', 'daily.xlsx'])
  t.equal(hol.pdfSkipped, 'not asked for (--no-pdf)')
  t.same(hol.needsAction, ['[logs] web01: 1 errors in the logs (most frequent: disk I/O error ×1)'], 'only the Saturday error; no run was due over the weekend and holiday')
  const holHtml = readFileSync(join(dir, 'hol', 'daily.html'), 'utf8')
  t.match(holHtml, '<dd id="window">2026-10-09 08:30 – 2026-10-12 08:30</dd>', 'since the previous business day')
  t.match(holHtml, '2026-10-12 is not a business day')
  t.match(holHtml, '<h2>1. What needs action</h2>')

  // ---- influx.retention.logsBy: kiosk log text (kept 1 day) stays out of the report (kept 400 days, mailed); counts stay.
  // A second rule with role and site (matching nothing here) keeps web01's text: both tags must match.
  const kioskLog = (tags: string, level: string, msg: string, at: number, n: number): string => `log_event,${tags},source=/var/log/kiosk.log,level=${level} message="${msg}",count=${n}i ${at}`
  const personal = ['山田太郎様 受付番号 A-12 印刷失敗', '090-1234-5678 へ折返し']
  const kLines = [
    kioskLog(KIOSK, 'error', personal[0]!, jst('2026-10-13T10:00:00'), 4),
    kioskLog(KIOSK, 'warning', personal[1]!, jst('2026-10-13T11:00:00'), 1),
    kioskLog(WEB, 'error', 'upstream reset', jst('2026-10-13T12:00:00'), 2)
  ]
  await writeLines(influx.url, 'kanshi_logs', kLines)
  const kioskYaml = join(dir, 'kiosk-logs.yaml')
  writeFileSync(kioskYaml, `influx: { url: '${influx.url}', retention: { logsBy: [ { where: { role: kiosk }, keep: 1d }, { where: { role: server, site: branch9 }, keep: 2d } ] } }\ndataDir: ./collector\n`)
  const shown = await runDailyReport({ config: cfg, day: '2026-10-14', outDir: join(dir, 'kiosk-shown'), lang: 'ja', pdf: false, now: Date.now() })
  t.ok(shown.needsAction.some(l => l.includes(personal[0]!)), 'without a logsBy rule the kiosk message is in the report (the check below can fail)')
  const kr = await runDailyReport({ config: loadCollectorConfig(kioskYaml), day: '2026-10-14', outDir: join(dir, 'kiosk'), lang: 'ja', pdf: false, now: Date.now() })
  const kx = await sheets(join(dir, 'kiosk', 'daily.xlsx'))
  const hiddenN = (level: string): number => kLines.filter(l => l.startsWith(`log_event,${KIOSK}`) && l.includes(`level=${level} `)).reduce((a, l) => a + Number(/count=(\d+)i/.exec(l)![1]), 0)
  t.same(kx.rows('Logs').map(l => [l['ホスト'], l['レベル'], l['件数'], l['主なメッセージ']]), [
    ['kiosk01', 'error', hiddenN('error'), `本文省略 ${hiddenN('error')} 件（ログ保持期間の短い役割・拠点）`],
    ['kiosk01', 'warning', hiddenN('warning'), `本文省略 ${hiddenN('warning')} 件（ログ保持期間の短い役割・拠点）`],
    ['web01', 'error', 2, 'upstream reset ×2']
  ], 'kiosk rows keep their counts; their messages are left out, and said so')
  const kHtml = readFileSync(join(dir, 'kiosk', 'daily.html'), 'utf8')
  for (const p of personal) t.notOk(kHtml.includes(p) || kr.needsAction.some(l => l.includes(p)), `"${p}" is not in the report or its action lines`)
  t.ok(kr.needsAction.includes(`[ログ] kiosk01 のログにエラー ${hiddenN('error')} 件（最多: —）`), 'the kiosk errors still need action, by count')

  // ---- Saturday 10 Oct: the window since Friday's opening, where nothing needs action
  const quiet = join(dir, 'quiet.yaml')
  writeFileSync(quiet, `influx: { url: '${influx.url}' }\ndataDir: ./collector\n`)
  const q = await runReport(['--day', '2026-10-10', '--out', join(dir, 'quiet'), '--config', quiet, '--no-pdf'])
  t.equal(q.code, 0, q.stderr)
  const quietHtml = readFileSync(join(dir, 'quiet', 'daily.html'), 'utf8')
  t.match(quietHtml, '<dd id="window">2026-10-09 08:30 – 2026-10-10 08:30</dd>', 'Saturday: since Friday')
  t.match(quietHtml, '<p class="nothing" id="nothing">対応が必要な事項はありません</p>', 'a clear "nothing needs action"')
  t.match(q.stderr, 'no daily.pdf: not asked for')

  // ---- delivered by the collector: the real daily generator on this night's data, mailed at 08:15
  const smtp = await withSmtp(t)
  const clock = { t: Date.parse('2026-10-20T08:00:00+09:00') }
  const tc = await startCollector(t, {
    config: {
      // retention.manage off: the collector must not shorten the seeded data's INF policy
      influx: { url: influx.url, retention: { manage: false }, rollups: false },
      report: { jobs: [{ name: 'nightly-backup', host: 'db01', deadline: '06:00' }] },
      alerting: {
        rulesDir: new URL('../fixtures/alert-rules/', import.meta.url).pathname,
        smtp: { host: '127.0.0.1', port: smtp.port, from: 'kanshi@example.jp', timeout: '2s' },
        receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }],
        routes: [{ receiver: 'oncall' }]
      },
      reports: { outDir: 'reports', daily: { at: '08:15', receivers: ['oncall'] } }
    },
    build: { now: () => clock.t }
  })
  clock.t = Date.parse('2026-10-20T08:15:00+09:00')
  const ran = await tc.c.reports!.tick()
  t.same(ran.map(x => [x.kind, x.period, x.ok, x.error]), [['daily', '2026-10-20', true, undefined]], 'the collector made the daily report at 08:15')
  await waitFor(() => smtp.mails.length >= 1, 30_000, 50)
  const mail = smtp.mails[0]!
  t.equal(mail.subject, '[kanshi] 日次業務報告書 2026-10-20')
  t.ok(mail.html.includes('[ジョブ] db01 / nightly-backup が実行されていません（期限 10-20 06:00）'), 'the action lines are in the mail body')
  t.same(mail.attachments.map(a => a.filename).sort(), ['daily.pdf', 'daily.xlsx'], 'the real workbook and PDF attached')
  t.ok(existsSync(join(tc.dir, 'reports', 'daily', '2026-10-20', 'daily.xlsx')), 'kept under reports.outDir')
})

t.test('bad --day: one line, exit 2', async t => {
  const dir = await tmpDir(t)
  for (const [args, re] of [
    [['--day', '2026-02-30'], /^kanshi-report: --day: expected a date YYYY-MM-DD or today, got "2026-02-30"\n$/],
    [['--day', '2026/10/20'], /^kanshi-report: --day: expected a date YYYY-MM-DD or today, got "2026\/10\/20"\n$/],
    [['--day', '2026-10-20', '--month', '2026-10'], /^kanshi-report: --month and --day: expected one of them, got both\n$/],
    [['--day', '2099-01-06'], /^kanshi-report: --day: 2099-01-06: its window starts at 2099-01-0\d 08:30 \(Asia\/Tokyo\), which is still to come\n$/]
  ] as const) {
    const r = await runReport([...args, '--out', join(dir, 'x')])
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, re)
  }
})
