// kanshi-report --incident against a real collector's record and a real influxd: a 障害 of two
// merged alerts, mailed through a real SMTP server, acknowledged, noticed to users at 10 and 20
// minutes and written up through the API; the report's timeline, write-up, notices, charts, log
// lines and edit history are read back from incident.html, incident.xlsx and incident.pdf.

import t from 'tap'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { parse, stringify } from 'yaml'
import { loadCollectorConfig } from '../../collector/config.js'
import { runIncidentReport } from '../../collector/report/incident/index.js'
import type { Collector } from '../../collector/app.js'
import { NullSink } from '../../collector/storage/null-sink.js'
import { startCollector } from '../helpers/collector.js'
import { withReportDb, writeLines } from '../helpers/influxd.js'
import { withSmtp } from '../helpers/smtp.js'
import { waitFor } from '../helpers/procs.js'
import { runReport } from '../helpers/report-cli.js'
import { tmpDir } from '../helpers/tmp.js'
import { copyFile, writeFile } from 'node:fs/promises'

const rulesDir = new URL('../fixtures/alert-rules/', import.meta.url).pathname
const OP = 'tok-operator'
const MIN = 60_000
const D = Date.parse('2026-11-10T10:00:00+09:00')
const stamp = (t: number): string => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(t))

async function breach (c: Collector, host: string, at: number, value: number): Promise<void> {
  const a = c.alerting!
  await a.stage.apply(a.evaluator.observePoints([{ m: 'kiosk_app', t: at, tags: { host, role: 'server', site: 's' }, f: { queue_length: value } }], at))
  await a.stage.apply(a.evaluator.tick(at + 3000))
}

const call = async (url: string, path: string, method: string, body?: unknown): Promise<any> => {
  const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${OP}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return await res.json()
}

/** cells returns the text of each row's cells of the table with this id. */
function rowsOf (html: string, id: string): string[][] {
  const m = new RegExp(`<table id="t-${id}">[\\s\\S]*?<tbody>([\\s\\S]*?)</tbody>`).exec(html)
  if (m === null) return []
  return [...m[1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(r => [...r[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map(c => c[1]!.replace(/<br>/g, '\n')))
}

t.test('kanshi-report --incident writes the 障害報告書 with its timeline, write-up and the hosts around the event', async t => {
  const { influx, dataDir } = await withReportDb(t)
  const smtp = await withSmtp(t)
  // The fixture's rules plus a log rule: its 障害 carries the lines it matched.
  const rules = await tmpDir(t)
  await copyFile(join(rulesDir, 'test.yaml'), join(rules, 'test.yaml'))
  await writeFile(join(rules, 'log.yaml'), "- { name: app_errors, type: log, level: [error], match: 'ORA-', count: 3, window: 5m, severity: warning }\n")
  const TARGET = { recoveryMinutes: 30, noticeMinutes: 5 }
  const clock = { now: D + 2 * MIN }
  const { c, url, dir } = await startCollector(t, {
    backend: new NullSink(),
    build: { now: () => clock.now },
    config: {
      dataDir,
      influx: { url: influx.url, retention: { manage: false }, rollups: false },
      api: { tokens: [{ name: '山田', tokenSha256: createHash('sha256').update(OP).digest('hex'), role: 'operator' }] },
      systems: [{ name: '共通基盤', hosts: ['web01', 'web02'], targets: TARGET }],
      alerting: {
        rulesDir: rules, smtp: { host: '127.0.0.1', port: smtp.port, from: 'kanshi@example.jp', timeout: '2s' },
        receivers: [{ name: 'oncall', email: ['oncall@example.jp'] }], routes: [{ receiver: 'oncall' }], groupWait: '0s', groupInterval: '0s'
      }
    }
  })
  // The hosts' data: per minute from D − 90 min to D + 2 h; web01's cpu climbs at detection.
  const lines: string[] = []
  for (let tm = D - 90 * MIN; tm <= D + 120 * MIN; tm += MIN) {
    for (const h of ['web01', 'web02', 'other01']) {
      const cpu = h === 'web01' && tm >= D && tm < D + 45 * MIN ? 97 : 20
      lines.push(`cpu,host=${h} usage_percent=${cpu} ${tm}`, `mem,host=${h} used_percent=55 ${tm}`, `host_up,host=${h} up=1i ${tm}`)
    }
  }
  lines.push(
    `log_event,host=web01,level=error,source=/var/log/app.log message="storage controller timeout",count=1i ${D - 2 * MIN}`,
    `log_event,host=web02,level=error,source=/var/log/app.log message="cannot reach shared volume",count=1i ${D + 4 * MIN}`,
    `log_event,host=other01,level=error,source=/var/log/app.log message="OTHER HOST LINE",count=1i ${D}`,
    `log_event,host=web01,level=error,source=/var/log/app.log message="LONG BEFORE",count=1i ${D - 3 * 60 * MIN}`
  )
  await writeLines(influx.url, 'kanshi_raw', lines)

  await breach(c, 'web01', D, 95)
  await waitFor(() => smtp.mails.length >= 1, 15_000, 100)
  const primary = (await c.alerting!.store.firing()).find(i => i.host === 'web01')!.id
  clock.now = D + 3 * MIN + 30_000
  await breach(c, 'web02', D + 3 * MIN, 99)
  const member = (await c.alerting!.store.firing()).find(i => i.host === 'web02')!.id
  t.equal((await c.alerting!.store.book.get(member))!.merged_into, primary, 'web02 joined the 障害 of web01')
  clock.now = D + 4 * MIN
  await call(url, `/v1/alerts/${member}/ack`, 'POST')
  clock.now = D + 10 * MIN
  await call(url, `/v1/incidents/${primary}/notices`, 'POST', { message: '住民票の発行を停止しています。', expectedRecoveryAt: '2026-11-10T11:00:00+09:00' })
  clock.now = D + 20 * MIN
  await call(url, `/v1/incidents/${primary}/notices`, 'POST', { message: '復旧作業中です。' })
  const a = c.alerting!
  await a.stage.apply(a.evaluator.observePoints([{ m: 'kiosk_app', t: D + 30 * MIN, tags: { host: 'web01', role: 'server', site: 's' }, f: { queue_length: 1 } }], D + 30 * MIN))
  await a.stage.apply(a.evaluator.observePoints([{ m: 'kiosk_app', t: D + 45 * MIN, tags: { host: 'web02', role: 'server', site: 's' }, f: { queue_length: 1 } }], D + 45 * MIN))
  await a.stage.apply(a.evaluator.tick(D + 46 * MIN))
  clock.now = D + 60 * MIN
  const writeUp = { cause: '共有ストレージのコントローラがタイムアウトした。', impact: { users: '窓口職員 40 名', description: '住民票の発行が 45 分間できなかった。' }, actions: 'コントローラを再起動した。', prevention: 'ファームウェアを更新する。', confirmedRecoveryAt: '2026-11-10T10:50:00+09:00' }
  await call(url, `/v1/incidents/${primary}`, 'PATCH', writeUp)
  const notifiedAt = (await c.alerting!.store.book.get(primary))!.notified_at!
  t.ok(notifiedAt !== null, 'the firing mail was accepted')

  const out = join(dir, 'out')
  const r = await runReport(['--incident', String(member), '--out', out, '--config', join(dir, 'collector.yaml')])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, new RegExp(`incident ${primary} \\(${member} is merged into it\\): wrote incident\\.html, incident\\.xlsx, incident\\.pdf`))

  const html = readFileSync(join(out, 'incident.html'), 'utf8')
  const tl = rowsOf(html, 'timeline')
  const want = [[D, 0], [notifiedAt, Math.round((notifiedAt - D) / MIN)], [D + 4 * MIN, 4], [D + 10 * MIN, 10], [D + 45 * MIN, 45], [D + 50 * MIN, 50]]
  t.same(tl.map(row => [row[1], row[2]]), want.map(([at, min]) => [stamp(at!), String(min)]), 'detected, notified, acked, user notice, recovered (latest member), confirmed')
  t.same(tl.map(row => row[0]), ['検知', '担当者への通知', '対応開始', '利用者への告知', '復旧 (監視上)', '復旧確認'])
  t.match(html, new RegExp(`<dd id="w-cause">${writeUp.cause}</dd>`))
  t.match(html, new RegExp(`<dd id="w-affected-users">${writeUp.impact.users}</dd>`))
  t.match(html, new RegExp(`<dd id="w-prevention">${writeUp.prevention}</dd>`))
  t.same(rowsOf(html, 'notices').map(n => [n[0], n[1], n[2]]), [[stamp(D + 10 * MIN), '住民票の発行を停止しています。', stamp(Date.parse('2026-11-10T11:00:00+09:00'))], [stamp(D + 20 * MIN), '復旧作業中です。', '']])
  t.same(rowsOf(html, 'alerts').map(x => x[2]), ['web01', 'web02'], 'both alerts of the 障害')
  t.same(rowsOf(html, 'logs').map(x => x[4]), ['storage controller timeout', 'cannot reach shared volume'], 'the first log lines of the affected hosts around detection, nothing else')
  const hist = rowsOf(html, 'history')
  t.same(hist.map(h => h[2]), ['incident.notice', 'incident.notice', 'incident.edit'])
  t.equal(hist[2]![1], '山田 (operator)')
  t.match(hist[2]![4], `cause_text: ${writeUp.cause}`)
  t.equal((html.match(/<svg/g) ?? []).length, 3, 'cpu, mem and host_up charts')
  t.match(html, /<h1>障害報告書 #/)

  // Its times against 共通基盤's targets, computed here from the generated times.
  const judged = (took: number, limit: number): string => took <= limit ? '達成' : '未達'
  const notifyMin = (notifiedAt - D) / MIN
  t.same(rowsOf(html, 'targets'), [
    ['共通基盤', '復旧 (復旧確認時刻)', String(TARGET.recoveryMinutes), '50', judged(50, TARGET.recoveryMinutes), '対象'],
    ['共通基盤', '報告 (初回の通知メール)', String(TARGET.noticeMinutes), String(Math.round(notifyMin)), judged(notifyMin, TARGET.noticeMinutes), '対象'],
    ['共通基盤', '告知 (利用者への告知)', String(TARGET.noticeMinutes), '10', judged(10, TARGET.noticeMinutes), '対象']
  ], 'recovery (confirmed at 50 min), report and notice against recoveryMinutes and noticeMinutes')
  t.match(html, /<section id="matched"><h2>一致したログ行[^<]*<\/h2><p class="empty">ログ監視ルールの障害ではありません。/, 'a threshold 障害 has no matched lines')

  const wb = new ExcelJS.Workbook()
  await wb.xlsx.readFile(join(out, 'incident.xlsx'))
  t.same(wb.worksheets.map(s => s.name), ['概要', '経過', 'アラート', '告知', '目標', '一致ログ', 'ログ', '変更履歴'])
  t.equal(wb.getWorksheet('経過')!.rowCount, 7, 'header and six moments')
  const summary = wb.getWorksheet('概要')!.getSheetValues().map(v => Array.isArray(v) ? v.slice(1) : v)
  t.ok(summary.some(v => Array.isArray(v) && v[1] === writeUp.cause), 'the cause is in the workbook')

  t.ok(existsSync(join(out, 'incident.pdf')))
  const text = execFileSync('pdftotext', ['-layout', join(out, 'incident.pdf'), '-'], { encoding: 'utf8' })
  t.match(text, /障害報告書/)
  t.match(text, /ファームウェアを更新する/)

  const bad = await runReport(['--incident', '999', '--out', out, '--config', join(dir, 'collector.yaml'), '--no-pdf'])
  t.equal(bad.code, 1)
  t.match(bad.stderr, /no incident 999/)
  const badArg = await runReport(['--incident', 'abc', '--out', out, '--config', join(dir, 'collector.yaml')])
  t.equal(badArg.code, 2)
  t.match(badArg.stderr, /--incident: expected an incident id/)

  const en = await runReport(['--incident', String(primary), '--out', join(dir, 'en'), '--config', join(dir, 'collector.yaml'), '--lang', 'en', '--no-pdf'])
  t.equal(en.code, 0, en.stderr)
  const enHtml = readFileSync(join(dir, 'en', 'incident.html'), 'utf8')
  t.same(rowsOf(enHtml, 'timeline').map(row => row[0]), ['Detected', 'On-call notified', 'Acknowledged', 'Users notified', 'Recovered (monitoring)', 'Recovery confirmed'])
  t.same(rowsOf(enHtml, 'targets').map(row => [row[1], row[4]]), [['Recovery (confirmed time)', 'missed'], ['Report (first alert mail)', notifyMin <= TARGET.noticeMinutes ? 'met' : 'missed'], ['Notice to users', 'missed']])

  // A log rule's 障害 on a host of no system: the lines it matched (first 20, 500 characters), no targets to judge.
  const msgs = Array.from({ length: 24 }, (_, i) => `ORA-${String(i).padStart(5, '0')} ${'z'.repeat(i === 0 ? 700 : 10)}`)
  const L = D + 90 * MIN
  await a.stage.apply(a.evaluator.observeEvents(msgs.map((message, i) => ({ t: L + i, source: '/var/log/db.log', level: 'error', message, tags: { host: 'db07', role: 'server', site: 's' } })), L + 30))
  const logInc = (await a.store.firing()).find(i => i.rule === 'app_errors')!
  const lo = await runReport(['--incident', String(logInc.id), '--out', join(dir, 'log'), '--config', join(dir, 'collector.yaml'), '--no-pdf'])
  t.equal(lo.code, 0, lo.stderr)
  const logHtml = readFileSync(join(dir, 'log', 'incident.html'), 'utf8')
  t.same(rowsOf(logHtml, 'matched').map(r => [r[1], r[2], r[3], r[4]]), msgs.slice(0, 20).map((m, i) => ['db07', 'app_errors', String(i + 1), m.slice(0, 500)]), 'matched lines: the first 20, 500 characters each')
  t.match(logHtml, /業務システム \(systems:\) に属さないため/, 'no system: nothing to judge against')
  const enLog = await runReport(['--incident', String(logInc.id), '--out', join(dir, 'log-en'), '--config', join(dir, 'collector.yaml'), '--no-pdf', '--lang', 'en'])
  t.equal(enLog.code, 0, enLog.stderr)
  t.match(readFileSync(join(dir, 'log-en', 'incident.html'), 'utf8'), /<h2>Matched lines \(the lines the rule matched, first 20\)<\/h2>/)

  // influx.retention.logsBy: log lines of a role kept one day stay out of the 障害報告書 (kept and mailed), counted.
  const kiosk = ['山田様 受付 A-7', '090-1234-5678 折返し']
  await writeLines(influx.url, 'kanshi_raw', kiosk.map((m, i) => `log_event,host=web02,role=kiosk,site=s,level=error,source=/var/log/kiosk.log message="${m}",count=1i ${D + (i + 1) * MIN}`))
  const base = join(dir, 'collector.yaml')
  const y = parse(readFileSync(base, 'utf8')) as { influx: { retention: Record<string, unknown> } }
  y.influx.retention['logsBy'] = [{ where: { role: 'kiosk' }, keep: '1d' }]
  writeFileSync(join(dir, 'kiosk.yaml'), stringify(y))
  const run = async (config: string, outDir: string): Promise<string> => {
    await runIncidentReport({ config: loadCollectorConfig(config), id: primary, outDir, lang: 'ja', pdf: false, now: D + 2 * 60 * MIN })
    return readFileSync(join(outDir, 'incident.html'), 'utf8')
  }
  const all = rowsOf(await run(base, join(dir, 'kiosk-shown')), 'logs').map(x => x[4])
  t.ok(kiosk.every(m => all.includes(m)), 'without the rule the kiosk lines are in the excerpt (the check below can fail)')
  const kHtml = await run(join(dir, 'kiosk.yaml'), join(dir, 'kiosk'))
  t.same(rowsOf(kHtml, 'logs').map(x => x[4]), ['storage controller timeout', 'cannot reach shared volume'], 'with logsBy: the kiosk lines are left out')
  t.ok(kiosk.every(m => !kHtml.includes(m)), 'and appear nowhere in the report')
  t.match(kHtml, `ログ保持期間の短い役割・拠点のログ ${kiosk.length} 行は本文を載せていません`, 'the report says how many lines it left out')
})
