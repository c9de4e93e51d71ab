// The operator console in a real Chromium (playwright-core) against a real
// collector and a real agent (child processes): login, agents, an alert from
// a real threshold breach acknowledged by an operator, viewer limits, CSRF
// and same-origin checks, security headers, generated reports downloaded with
// the session cookie. Screenshots go to test-artifacts/.

import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import ExcelJS from 'exceljs'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { periodDir, writeManifest } from '../../collector/report/delivery/archive.js'
import { withSmtp } from '../helpers/smtp.js'
import { makeStack } from '../helpers/stack.js'
import { waitFor } from '../helpers/procs.js'
import { AuditLog } from '../../collector/audit/log.js'

const rulesDir = new URL('../fixtures/alert-rules/', import.meta.url).pathname
const artifacts = resolve(import.meta.dirname, '..', '..', 'test-artifacts', 'console')
mkdirSync(artifacts, { recursive: true })
const TOKENS = { viewer: 'viewer-console-token', operator: 'operator-console-token', admin: 'admin-console-token' }
const sha = (s: string): string => createHash('sha256').update(s).digest('hex')
const apiTokens = [
  { name: 'noc', tokenSha256: sha(TOKENS.viewer), role: 'viewer' },
  { name: 'yamada', tokenSha256: sha(TOKENS.operator), role: 'operator' },
  { name: 'kanri', tokenSha256: sha(TOKENS.admin), role: 'admin' }
]

async function launch (t: Test): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run'] })
  t.teardown(async () => await browser.close())
  return browser
}

/** open makes a fresh browser context (its own cookies) and fails the test on any script error in the page. */
async function open (t: Test, browser: Browser, base: string): Promise<{ ctx: BrowserContext, page: Page }> {
  const ctx = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 } })
  const page = await ctx.newPage()
  page.on('pageerror', err => t.fail(`page error: ${err.message}`))
  page.on('console', m => { if (m.type() === 'error' && !/401|403|429/.test(m.text())) t.fail(`console error: ${m.text()}`) })
  t.teardown(async () => await ctx.close())
  return { ctx, page }
}

async function login (page: Page, token: string): Promise<void> {
  await page.goto('/')
  await page.locator('#token').fill(token)
  await page.locator('#login-button').click()
  await page.locator('#app-view').waitFor({ state: 'visible', timeout: 10_000 })
  await page.locator('body[data-loaded="1"]').waitFor({ timeout: 10_000 })
}

/** writeReport leaves one finished generation in outDir as the delivery runner does: the files, then report.json; it returns the workbook. */
async function writeReport (outDir: string, kind: 'daily' | 'monthly', period: string, generatedAt: number): Promise<Buffer> {
  const dir = periodDir(outDir, kind, period)
  mkdirSync(dir, { recursive: true })
  const wb = new ExcelJS.Workbook()
  wb.addWorksheet('要対応').addRow([kind, period])
  await wb.xlsx.writeFile(join(dir, 'report.xlsx'))
  writeFileSync(join(dir, 'report.pdf'), `%PDF-1.4\n% ${kind} ${period}\n%%EOF\n`)
  writeFileSync(join(dir, 'report.html'), `<h1>${kind} ${period}</h1>`)
  await writeManifest(outDir, { kind, period, files: ['report.html', 'report.xlsx', 'report.pdf'], generatedAt, summary: ['web01 が始業時刻に停止 / web01 down at opening'] })
  return readFileSync(join(dir, 'report.xlsx'))
}

async function push (url: string, value: number): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ points: [{ m: 'kiosk_app', tags: { counter: '1番窓口' }, f: { queue_length: value } }] }) })
  if (res.status !== 200) throw new Error(`push: ${res.status} ${await res.text()}`)
}

t.test('console against a real collector, agent and alert', async t => {
  const smtp = await withSmtp(t)
  const stack = await makeStack(t, {
    influx: { embedded: { enabled: false } }, agentId: 'kiosk-01', role: 'server', site: '本庁舎', inputs: ['mem'], push: true,
    alerting: {
      rulesDir, smtp: { host: '127.0.0.1', port: smtp.port, from: 'kanshi@example.jp', timeout: '2s' },
      receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }], routes: [{ receiver: 'oncall' }],
      groupWait: '0s', grafanaUrl: 'http://grafana.example.jp:3000'
    },
    collector: { api: { tokens: apiTokens } }
  })
  await stack.startCollector()
  const agent = await stack.startAgent()
  const base = `http://127.0.0.1:${stack.port}`
  const bearer = (role: keyof typeof TOKENS): Record<string, string> => ({ authorization: `Bearer ${TOKENS[role]}` })
  const browser = await launch(t)

  // The page and its headers.
  const op = await open(t, browser, base)
  const res = await op.page.goto('/')
  t.equal(res!.status(), 200)
  const h = res!.headers()
  t.match(h['content-security-policy'], /default-src 'none'/)
  t.match(h['content-security-policy'], /script-src 'self'/)
  t.match(h['content-security-policy'], /frame-ancestors 'none'/)
  t.notMatch(h['content-security-policy'], /unsafe-inline/)
  t.equal(h['x-frame-options'], 'DENY')
  t.equal(h['x-content-type-options'], 'nosniff')
  t.equal(h['referrer-policy'], 'no-referrer')
  t.equal(h['cache-control'], 'no-store')
  t.match(h['content-type'], /text\/html/)
  await op.page.locator('#login-view').waitFor({ state: 'visible' })
  t.equal(await op.page.locator('html').getAttribute('lang'), 'ja', 'Japanese by default')
  t.equal(await op.page.locator('h1').textContent(), '監視コンソール')
  await op.page.screenshot({ path: join(artifacts, '01-login.png') })

  // A wrong token.
  await op.page.locator('#token').fill('not-a-token')
  await op.page.locator('#login-button').click()
  await op.page.locator('#login-error').waitFor({ state: 'visible' })
  t.equal(await op.page.locator('#login-error').textContent(), 'トークンが正しくありません。')
  t.equal(await op.page.locator('#app-view').isHidden(), true, 'still logged out')
  t.equal((await op.ctx.cookies()).length, 0, 'no session cookie')
  await op.page.screenshot({ path: join(artifacts, '02-login-failed.png') })

  // The operator logs in and sees the real agent, with what its agent point reports.
  await login(op.page, TOKENS.operator)
  const cookie = (await op.ctx.cookies()).find(c => c.name === 'kanshi_session')
  t.ok(cookie, 'session cookie set')
  t.equal(cookie!.httpOnly, true)
  t.equal(cookie!.sameSite, 'Strict')
  t.ok(cookie!.expires > Date.now() / 1000, 'with an expiry')
  t.equal(await op.page.locator('#who').textContent(), 'yamada (権限: operator)')
  t.equal(await op.page.locator('#reports-section h2').textContent(), '報告書')
  t.equal(await op.page.locator('#reports tbody').textContent(), 'なし', 'no generated reports yet: none')
  const agentRow = op.page.locator('tr[data-agent="kiosk-01"]')
  await waitFor(async () => {
    await op.page.reload()
    await op.page.locator('body[data-loaded="1"]').waitFor()
    return (await agentRow.getAttribute('data-state')) === 'online' && (await agentRow.locator('.spool').textContent()) !== ''
  }, 20_000, 500)
  t.equal(await agentRow.locator('.state').textContent(), 'オンライン')
  t.match(await agentRow.locator('.version').textContent(), /^0\.\d+\.\d+ \(linux\)$/)
  t.match(await agentRow.locator('.spool').textContent(), /^\d+ \/ \d/)
  t.match(await agentRow.locator('.skew').textContent(), /\d+(\.\d)? m?s$/)
  t.equal(await agentRow.locator('a').getAttribute('href'), 'http://grafana.example.jp:3000/d/kanshi-host/host-detail?var-host=kiosk-01')
  t.equal((await fetch(`${base}/api/v1/agents`)).status, 401, 'a stranger gets no agents list')
  const agents = await (await fetch(`${base}/api/v1/agents`, { headers: bearer('viewer') })).json() as { agents: Array<Record<string, unknown>> }
  t.equal(agents.agents[0]!['id'], 'kiosk-01')
  t.type(agents.agents[0]!['spoolBatches'], 'number', '/api/v1/agents reports the spool depth')
  t.type(agents.agents[0]!['clockSkewMs'], 'number', 'and the clock skew')
  await op.page.screenshot({ path: join(artifacts, '03-agents.png'), fullPage: true })

  // A real breach: the agent's push input feeds queue_length 95 (> 90 for 2 s).
  const breachEnd = Date.now() + 3500
  while (Date.now() < breachEnd) { await push(stack.pushUrl, 95); await new Promise(resolve => setTimeout(resolve, 200)) }
  let incident = 0
  await waitFor(async () => {
    const a = await (await fetch(`${base}/v1/alerts`, { headers: bearer('viewer') })).json() as { firing: Array<{ id: number }> }
    incident = a.firing[0]?.id ?? 0
    return incident > 0
  }, 15_000, 200)
  await op.page.reload()
  const alertRow = op.page.locator(`tr[data-incident="${incident}"]`)
  await alertRow.waitFor({ timeout: 10_000 })
  t.match(await alertRow.textContent(), /kiosk-01 待ち人数 95 \(> 90\)/)
  t.equal(await alertRow.getAttribute('data-acked'), '0')
  await op.page.screenshot({ path: join(artifacts, '04-alert-firing.png'), fullPage: true })

  // The schedule leaves a daily report in reports.outDir (./reports beside collector.yaml).
  const reportsDir = join(stack.dir, 'reports')
  const xlsx = await writeReport(reportsDir, 'daily', '2026-07-17', Date.parse('2026-07-17T08:15:00+09:00'))

  // A viewer sees the alert without buttons, and a forged POST with the viewer's own CSRF token is refused by role.
  const vw = await open(t, browser, base)
  await login(vw.page, TOKENS.viewer)

  // The viewer sees the report and downloads its workbook with the session cookie only.
  const rRow = vw.page.locator('#reports tr[data-report="daily/2026-07-17"]')
  await rRow.waitFor({ timeout: 10_000 })
  t.equal(await vw.page.locator('#reports tbody tr').count(), 1, 'one report listed')
  t.equal(await rRow.locator('.kind').textContent(), '日次業務報告書')
  t.equal(await rRow.locator('.period').textContent(), '2026-07-17')
  t.equal(await rRow.locator('.generated').textContent(), '2026/07/17 08:15:00', 'generated at, in JST')
  t.same(await rRow.locator('.files a').allTextContents(), ['PDF', 'XLSX', 'HTML'])
  const xlsxLink = rRow.locator('a.file-xlsx')
  t.equal(await xlsxLink.getAttribute('href'), '/v1/reports/daily/2026-07-17/report.xlsx')
  t.equal((await vw.ctx.cookies()).length, 1, 'the session cookie is the page\'s only credential')
  const [download] = await Promise.all([vw.page.waitForEvent('download', { timeout: 10_000 }), xlsxLink.click()])
  t.equal(await download.failure(), null, 'the download succeeded')
  t.same(readFileSync((await download.path())!), xlsx, 'the downloaded workbook is the file, byte for byte')
  const listed = await vw.page.evaluate(async () => { const r = await fetch('/v1/reports'); return { status: r.status, body: await r.json() as { reports: Array<{ kind: string, period: string }> } } })
  t.equal(listed.status, 200, 'the list answers the session too')
  t.match(listed.body.reports, [{ kind: 'daily', period: '2026-07-17' }])
  t.equal((await fetch(`${base}/v1/reports/daily/2026-07-17/report.xlsx`)).status, 401, 'without the cookie: refused')
  await vw.page.screenshot({ path: join(artifacts, '10-reports.png'), fullPage: true })
  const vRow = vw.page.locator(`tr[data-incident="${incident}"]`)
  await vRow.waitFor()
  t.equal(await vRow.locator('button').count(), 0, 'no ack or silence button for a viewer')
  t.equal(await vw.page.locator('#maintenance-form').isHidden(), true, 'no maintenance form for a viewer')
  const forged = await vw.page.evaluate(async (id) => {
    const s = await (await fetch('/console/session')).json() as { csrf: string }
    const r = await fetch(`/v1/alerts/${id}/ack`, { method: 'POST', headers: { 'x-csrf-token': s.csrf } })
    return { status: r.status, body: await r.json() as { code: string } }
  }, incident)
  t.equal(forged.status, 403, 'viewer cannot ack')
  t.equal(forged.body.code, 'E_FORBIDDEN')
  await vw.page.screenshot({ path: join(artifacts, '05-viewer.png'), fullPage: true })

  // State changes from a session need the CSRF token and the same origin.
  const noCsrf = await op.page.evaluate(async (id) => (await fetch(`/v1/alerts/${id}/ack`, { method: 'POST' })).status, incident)
  t.equal(noCsrf, 403, 'operator POST without the CSRF token is refused')
  const opSession = await op.page.evaluate(async () => await (await fetch('/console/session')).json() as { csrf: string })
  const sessionCookie = `kanshi_session=${cookie!.value}`
  const crossSite = await fetch(`${base}/v1/alerts/${incident}/ack`, { method: 'POST', headers: { cookie: sessionCookie, 'x-csrf-token': opSession.csrf, origin: 'http://evil.example' } })
  t.equal(crossSite.status, 403, 'a right CSRF token from another origin is refused')
  const wrongCsrf = await fetch(`${base}/v1/alerts/${incident}/ack`, { method: 'POST', headers: { cookie: sessionCookie, 'x-csrf-token': 'x'.repeat(43), origin: base } })
  t.equal(wrongCsrf.status, 403, 'a wrong CSRF token is refused')
  const still = await (await fetch(`${base}/v1/alerts`, { headers: bearer('viewer') })).json() as { firing: Array<{ acked_at: number | null }> }
  t.equal(still.firing[0]!.acked_at, null, 'none of those acknowledged the alert')

  // The operator acknowledges with the button; the API agrees.
  await alertRow.locator('button.ack').click()
  await op.page.locator(`tr[data-incident="${incident}"][data-acked="1"]`).waitFor({ timeout: 10_000 })
  t.match(await alertRow.locator('.ack-state').textContent(), /^対応中: yamada \(operator\)/)
  t.equal(await alertRow.locator('button.ack').count(), 0, 'the ack button is gone')
  const after = await (await fetch(`${base}/v1/alerts`, { headers: bearer('viewer') })).json() as { firing: Array<{ id: number, acked_at: number | null, acked_by: string | null }> }
  t.equal(after.firing[0]!.id, incident)
  t.ok(after.firing[0]!.acked_at !== null, 'acked_at set')
  t.equal(after.firing[0]!.acked_by, 'yamada (operator)')
  await op.page.screenshot({ path: join(artifacts, '06-acked.png'), fullPage: true })

  // The operator silences the alert's host and rule for an hour.
  await alertRow.locator('button.silence').click()
  await op.page.locator('#silences tr[data-window]').waitFor({ timeout: 10_000 })
  const silences = await (await fetch(`${base}/v1/silences`, { headers: bearer('viewer') })).json() as { silences: Array<{ matchers: Record<string, string>, created_by: string, ends_at: number, starts_at: number }> }
  t.same(silences.silences[0]!.matchers, { host: 'kiosk-01', rule: 'queue_high' })
  t.equal(silences.silences[0]!.created_by, 'yamada (operator)')
  t.ok(Math.abs(silences.silences[0]!.ends_at - silences.silences[0]!.starts_at - 3_600_000) < 1000, 'one hour')
  t.equal(await op.page.locator('#maintenance-form').isHidden(), true, 'maintenance is for admins')

  // A monthly report made later: newest generation first (the API lists the longer period name first).
  await writeReport(reportsDir, 'monthly', '2026-07', Date.parse('2026-08-07T09:00:00+09:00'))

  // An admin adds and deletes a maintenance window; the page shows it in English on request.
  const ad = await open(t, browser, base)
  await login(ad.page, TOKENS.admin)
  await ad.page.locator('#lang').click()
  t.equal(await ad.page.locator('h1').textContent(), 'Operator console')
  t.equal(await ad.page.locator('html').getAttribute('lang'), 'en')
  t.same(await ad.page.locator('#reports tbody tr').evaluateAll(rs => rs.map(r => r.getAttribute('data-report'))), ['monthly/2026-07', 'daily/2026-07-17'], 'newest first')
  t.equal(await ad.page.locator('#reports tr[data-report="monthly/2026-07"] .kind').textContent(), 'Monthly report')
  t.equal(await ad.page.locator('#reports tr[data-report="daily/2026-07-17"] .kind').textContent(), 'Daily operations report')
  t.equal(await ad.page.locator('#reports tr[data-report="daily/2026-07-17"] .generated').textContent(), '17/07/2026, 08:15:00 JST')
  const form = ad.page.locator('#maintenance-form')
  await form.locator('[name=name]').fill('月次パッチ適用')
  await form.locator('[name=match]').fill('host=kiosk-01, role=kiosk')
  await form.locator('[name=start]').fill('2030-01-05T22:00')
  await form.locator('[name=end]').fill('2030-01-06T02:00')
  await form.locator('button[type=submit]').click()
  const mRow = ad.page.locator('#maintenance tr[data-window]', { hasText: '月次パッチ適用' })
  await mRow.waitFor({ timeout: 10_000 })
  t.match(await mRow.textContent(), /host=kiosk-01, role=kiosk/)
  t.match(await mRow.textContent(), /05\/01\/2030, 22:00:00 JST/, 'shown in Asia/Tokyo time')
  const mList = await (await fetch(`${base}/v1/maintenance`, { headers: bearer('viewer') })).json() as { maintenance: Array<{ id: number, name: string, starts_at: number }> }
  const m = mList.maintenance.find(w => w.name === '月次パッチ適用')!
  t.equal(m.starts_at, Date.parse('2030-01-05T22:00:00+09:00'), 'the form\'s time is JST')
  await ad.page.screenshot({ path: join(artifacts, '07-admin-en.png'), fullPage: true })
  ad.page.once('dialog', d => { void d.accept() })
  await mRow.locator('button.delete').click()
  await mRow.waitFor({ state: 'detached', timeout: 10_000 })

  // Logout ends the session on the server too.
  await op.page.locator('#logout').click()
  await op.page.locator('#login-view').waitFor({ state: 'visible' })
  t.equal((await fetch(`${base}/console/state`, { headers: { cookie: sessionCookie } })).status, 401, 'the old cookie is dead')
  const forgedLogout = await fetch(`${base}/console/logout`, { method: 'POST', headers: { cookie: `kanshi_session=${(await vw.ctx.cookies())[0]!.value}` } })
  t.equal(forgedLogout.status, 403, 'logout needs the CSRF token too')

  // The routes that were there before still answer.
  t.equal((await fetch(`${base}/healthz`)).status, 200)
  t.equal((await fetch(`${base}/readyz`)).status, 503, 'WAL-only: not ready, as before')
  t.match(await (await fetch(`${base}/metrics`, { headers: bearer('viewer') })).text(), /kanshi_console_logins_total\{result="invalid"\} 1/)
  t.equal((await fetch(`${base}/v1/alerts`)).status, 401, 'the API still needs a token or a session')

  // The audit log has the failed login, the logins, the ack and the silence.
  const audit = await (await fetch(`${base}/v1/audit`, { headers: bearer('admin') })).json() as { brokenAt: number | null, entries: Array<{ actor: string, action: string }> }
  t.equal(audit.brokenAt, null)
  const actions = audit.entries.map(e => `${e.actor}: ${e.action}`)
  for (const a of ['console: console.login_failed', 'yamada (operator): console.login', 'yamada (operator): alert.ack', 'yamada (operator): silence.create', 'kanri (admin): maintenance.create', 'kanri (admin): maintenance.delete', 'yamada (operator): console.logout']) {
    t.ok(actions.includes(a), a)
  }

  // The agent stops: the admin's page shows it disconnected, then down once host_up goes to 0.
  agent.kill('SIGKILL')
  await agent.waitExit()
  const adRow = ad.page.locator('tr[data-agent="kiosk-01"]')
  const seen: string[] = []
  await waitFor(async () => {
    await ad.page.reload()
    await ad.page.locator('body[data-loaded="1"]').waitFor()
    const st = await adRow.getAttribute('data-state')
    if (st !== null && seen.at(-1) !== st) seen.push(st)
    return st === 'down'
  }, 20_000, 300)
  t.equal(seen.at(-1), 'down')
  t.equal(await adRow.locator('.state').textContent(), 'down', 'in English on the admin\'s page')
  await ad.page.screenshot({ path: join(artifacts, '09-agent-down.png'), fullPage: true })

  // Failed logins are limited per address: after five in the window, even the right token waits.
  const attempt = async (token: string): Promise<number> => (await fetch(`${base}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ token }) })).status
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push(await attempt(`wrong-${i}`))
  t.same(statuses, [401, 401, 401, 401, 401, 429], 'five failures (counted since the last good login) block the address')
  t.equal(await attempt(TOKENS.operator), 429, 'blocked for the window')
  const cross = await fetch(`${base}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: JSON.stringify({ token: TOKENS.operator }) })
  t.equal(cross.status, 403, 'a login from another site is refused')
})

t.test('console without alerting: the page shows what there is', async t => {
  const stack = await makeStack(t, {
    influx: { embedded: { enabled: false } }, agentId: 'web01', inputs: ['mem'],
    collector: { api: { tokens: apiTokens } }
  })
  await stack.startCollector()
  const base = `http://127.0.0.1:${stack.port}`
  const browser = await launch(t)
  const { page } = await open(t, browser, base)
  await login(page, TOKENS.admin)
  await page.locator('#alerting-off').waitFor({ state: 'visible' })
  t.equal(await page.locator('#alerts').isHidden(), true)
  t.equal(await page.locator('#maintenance-form').isHidden(), true, 'no maintenance form without alerting')
  const row = page.locator('tr[data-agent="web01"]')
  await waitFor(async () => { await page.reload(); await page.locator('body[data-loaded="1"]').waitFor(); return await row.count() === 1 }, 10_000, 500)
  t.match(await row.locator('.last-seen').textContent(), /未接続/, 'a configured agent that never connected')
  t.match(await page.locator('#problems').textContent(), /WAL-only/, 'readiness problems are shown')
  t.equal(await page.locator('#grafana a').count(), 0, 'no Grafana URL, no link')
  t.equal(await page.locator('#reports tbody').textContent(), 'なし', 'no reports: the section says none')
  t.equal(await page.locator('#reports a').count(), 0)
  await page.screenshot({ path: join(artifacts, '08-no-alerting.png'), fullPage: true })
  t.equal((await fetch(`${base}/v1/alerts`)).status, 404, 'no alert API without alerting')
  const bad = await fetch(`${base}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ token: 'wrong' }) })
  t.equal(bad.status, 401)
  const log = new AuditLog(join(stack.dir, 'collector'))
  const actions = log.entries(50).map(e => `${e.actor}: ${e.action}`)
  log.close()
  t.ok(actions.includes('kanri (admin): console.login'), 'without alerting, logins go to the collector\'s audit log')
  t.ok(actions.includes('console: console.login_failed'), 'and failed ones too')
  t.equal((await fetch(`${base}/healthz`)).status, 200)
})
