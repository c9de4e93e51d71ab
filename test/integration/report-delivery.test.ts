// Scheduled reports in the real collector app with a real SMTP server and a fake
// clock: the daily mail at 08:15 on a business day (XLSX and PDF attached, the
// summary in the HTML body) and not on a holiday, the monthly one on the 5th business
// day, one catch-up after a restart, the outbox across an SMTP outage, the audit
// log, and GET /v1/reports for viewers only.

import type { SqliteAlertStore } from '../../collector/alerting/store-sqlite.js'
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import type { Generator } from '../../collector/report/delivery/runner.js'
import { startCollector, type TestCollector } from '../helpers/collector.js'
import { withSmtp, type Smtp } from '../helpers/smtp.js'
import { waitFor } from '../helpers/procs.js'

const rulesDir = new URL('../fixtures/alert-rules/', import.meta.url).pathname
const VIEWER = 'tok-viewer'
const sha = (s: string): string => createHash('sha256').update(s).digest('hex')
const at = (s: string): number => Date.parse(`${s}+09:00`)
const SUMMARY = 'web01 が始業時刻に停止 / web01 down at opening'

/** A generator that writes a small real workbook, a PDF and an HTML page, as the real ones do. */
function writer (kind: string, calls: string[]): Generator {
  return async g => {
    calls.push(`${kind} ${g.period}`)
    mkdirSync(g.outDir, { recursive: true })
    const wb = new ExcelJS.Workbook()
    wb.addWorksheet('summary').addRow([kind, g.period])
    await wb.xlsx.writeFile(join(g.outDir, 'report.xlsx'))
    writeFileSync(join(g.outDir, 'report.pdf'), `%PDF-1.4\n% ${kind} ${g.period}\n%%EOF\n`)
    writeFileSync(join(g.outDir, 'report.html'), `<h1>${kind} ${g.period}</h1>`)
    return { files: ['report.html', 'report.xlsx', 'report.pdf'], summary: [SUMMARY] }
  }
}

interface Setup { tc: TestCollector, clock: { t: number }, calls: string[] }

async function setup (t: Test, smtp: Smtp, start: string): Promise<Setup> {
  const clock = { t: at(start) }
  const calls: string[] = []
  const tc = await startCollector(t, {
    config: {
      api: { tokens: [{ name: 'noc', tokenSha256: sha(VIEWER), role: 'viewer' }] },
      alerting: {
        rulesDir,
        smtp: { host: '127.0.0.1', port: smtp.port, from: 'kanshi@example.jp', timeout: '2s' },
        receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }, { name: 'managers', email: ['boss@example.jp'], locale: 'en' }],
        routes: [{ receiver: 'oncall' }]
      },
      reports: {
        outDir: 'reports',
        daily: { at: '08:15', receivers: ['oncall', 'managers'] },
        monthly: { businessDay: 5, at: '09:00', receivers: ['managers'] }
      }
    },
    build: { now: () => clock.t, reportGenerators: { daily: writer('daily', calls), monthly: writer('monthly', calls) } }
  })
  return { tc, clock, calls }
}

/** runAt moves the clock and runs the schedule at once (no await in between: the timer cannot slip in). */
async function runAt (s: Setup, when: string): Promise<string[]> {
  s.clock.t = at(when)
  return (await s.tc.c.reports!.tick()).map(r => `${r.kind} ${r.period}${r.ok ? '' : ' failed'}`)
}

const reportMails = (s: Setup): Array<{ sent_at: number | null, attempts: number, subject: string }> =>
  (s.tc.c.alerting!.store as SqliteAlertStore).db.db.prepare("SELECT sent_at, attempts, subject FROM outbox WHERE kind = 'report' ORDER BY id").all() as Array<{ sent_at: number | null, attempts: number, subject: string }>

t.test('the daily mail at 08:15 on a business day, none on a holiday; the monthly on the 5th business day', async t => {
  const smtp = await withSmtp(t)
  const s = await setup(t, smtp, '2026-07-17T07:00')
  t.same(await runAt(s, '2026-07-17T08:14'), [], 'nothing at 08:14')
  t.equal(smtp.mails.length, 0)
  t.same(await runAt(s, '2026-07-17T08:15'), ['daily 2026-07-17'], 'the daily report at 08:15 on Friday')
  await waitFor(() => smtp.mails.length >= 2, 15_000, 50)
  t.same(reportMails(s).map(m => m.sent_at), [at('2026-07-17T08:15'), at('2026-07-17T08:15')], 'accepted by the server at 08:15 (collector clock)')
  const ja = smtp.mails.find(m => m.to.includes('oncall@example.jp'))!
  const en = smtp.mails.find(m => m.to.includes('boss@example.jp'))!
  t.equal(ja.subject, '[kanshi] 日次業務報告書 2026-07-17')
  t.equal(en.subject, '[kanshi] Daily operations report 2026-07-17')
  t.match(ja.html, /要対応事項/)
  t.ok(ja.html.includes(SUMMARY), 'the summary is in the HTML body')
  t.same(ja.attachments.map(a => [a.filename, a.contentType]).sort(), [
    ['report.pdf', 'application/pdf'],
    ['report.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet']
  ], 'XLSX and PDF attached, not the HTML')
  const dir = join(s.tc.dir, 'reports', 'daily', '2026-07-17')
  t.same(ja.attachments.find(a => a.filename === 'report.xlsx')!.content, readFileSync(join(dir, 'report.xlsx')), 'the workbook byte for byte')

  t.same(await runAt(s, '2026-07-20T08:15'), [], 'Monday 20 July 2026 is 海の日: no report')
  t.same((await s.tc.c.reports!.next()).find(o => o.kind === 'daily')!.period, '2026-07-21')
  t.same(await runAt(s, '2026-07-21T08:15'), ['daily 2026-07-21'])
  await waitFor(() => smtp.mails.length >= 4, 15_000, 50)

  // August 2026: Mon 3 is the 1st business day, Fri 7 the 5th. The daily report of the 7th is owed too.
  t.same(await runAt(s, '2026-08-07T08:59'), ['daily 2026-08-07'], 'not the monthly one before 09:00')
  t.same(await runAt(s, '2026-08-07T09:00'), ['monthly 2026-07'], 'the monthly report on the 5th business day at 09:00')
  await waitFor(() => smtp.mails.some(m => m.subject === '[kanshi] Monthly report 2026-07'), 15_000, 50)
  t.same(smtp.mails.filter(m => m.subject.includes('Monthly')).map(m => m.to), [['boss@example.jp']], 'to the managers only')
  t.same(s.calls, ['daily 2026-07-17', 'daily 2026-07-21', 'daily 2026-08-07', 'monthly 2026-07'])

  const actions = s.tc.c.audit.entries(100).map(e => e.action)
  t.equal(actions.filter(a => a === 'report.generated').length, 4, 'each generation audited')
  t.ok(actions.filter(a => a === 'report.delivered').length >= 6, 'each accepted mail audited')
  const skipped = s.tc.c.audit.entries(100).find(e => e.action === 'report.skipped')
  t.match(skipped?.detail, { kind: 'daily', running: '2026-08-07' }, 'the days missed in between are recorded as skipped')
  t.equal(s.tc.c.audit.verify().broken, undefined, 'the chain holds')
})

t.test('a restart after a missed 08:15 sends the report once', async t => {
  const smtp = await withSmtp(t)
  const s = await setup(t, smtp, '2026-07-16T20:00')
  s.clock.t = at('2026-07-17T10:00') // down from Thursday evening to Friday 10:00
  s.tc = await s.tc.restart()
  await waitFor(() => smtp.mails.length >= 2, 15_000, 50)
  t.same(s.calls, ['daily 2026-07-17'], 'the start runs the missed report')
  s.clock.t = at('2026-07-17T10:05')
  s.tc = await s.tc.restart()
  t.same(await runAt(s, '2026-07-17T10:06'), [], 'nothing is owed after the second restart')
  await new Promise(resolve => setTimeout(resolve, 1500))
  t.equal(smtp.mails.length, 2, 'no second mail')
  t.same(s.calls, ['daily 2026-07-17'])
  t.equal(reportMails(s).length, 2)
})

t.test('SMTP down then up: the report mail is kept in the outbox and delivered', async t => {
  const smtp = await withSmtp(t)
  const s = await setup(t, smtp, '2026-07-17T08:00')
  smtp.refuse = true
  t.same(await runAt(s, '2026-07-17T08:15'), ['daily 2026-07-17'])
  await waitFor(() => reportMails(s).every(m => m.attempts >= 1), 15_000, 50)
  t.equal(smtp.mails.length, 0)
  t.ok(reportMails(s).every(m => m.sent_at === null), 'not sent, kept')
  smtp.refuse = false
  s.clock.t = at('2026-07-17T08:30') // past the backoff; the alerting stage's tick sends the outbox
  await waitFor(() => smtp.mails.length >= 2, 15_000, 50)
  t.equal(smtp.mails[0]!.attachments.length, 2, 'with the attachments')
  const delivered = s.tc.c.audit.entries(50).filter(e => e.action === 'report.delivered')
  t.match(delivered.map(e => e.detail), [{ attempts: 2, attachments: ['report.xlsx', 'report.pdf'] }, { attempts: 2 }])
})

t.test('GET /v1/reports lists and downloads with a viewer token, and refuses without one', async t => {
  const smtp = await withSmtp(t)
  const s = await setup(t, smtp, '2026-07-17T08:00')
  await runAt(s, '2026-07-17T08:15')
  const get = async (path: string, token?: string): Promise<Response> => await fetch(s.tc.url + path, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
  t.equal((await get('/v1/reports')).status, 401)
  t.equal((await get('/v1/reports/daily/2026-07-17/report.pdf')).status, 401)
  const list = await (await get('/v1/reports', VIEWER)).json() as { reports: Array<Record<string, unknown>> }
  t.match(list.reports, [{ kind: 'daily', period: '2026-07-17', files: ['report.html', 'report.xlsx', 'report.pdf'], generatedAt: at('2026-07-17T08:15') }])
  const pdf = await get('/v1/reports/daily/2026-07-17/report.pdf', VIEWER)
  t.equal(pdf.status, 200)
  t.equal(pdf.headers.get('content-type'), 'application/pdf')
  t.match(pdf.headers.get('content-disposition'), /^attachment; filename="kanshi-daily-2026-07-17.pdf"/)
  t.same(Buffer.from(await pdf.arrayBuffer()), readFileSync(join(s.tc.dir, 'reports', 'daily', '2026-07-17', 'report.pdf')))
  for (const bad of ['daily/2026-07-17/report.json', 'daily/2026-07-17/..%2F..%2F..%2Fcollector.yaml', 'daily/..%2F..%2Fdata/audit.db', 'monthly/2026-07-17/report.pdf', 'weekly/2026-07-17/report.pdf']) {
    t.equal((await get(`/v1/reports/${bad}`, VIEWER)).status, 404, `${bad} is not served`)
  }
})
