// The console's incident view in a real Chromium against the real collector app: the alert list
// links to it, an operator writes the 障害 up and publishes a notice (stored, audited), a viewer
// only reads, and the incident report downloads with the session. Screenshots: test-artifacts/.

import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { Collector } from '../../collector/app.js'
import { NullSink } from '../../collector/storage/null-sink.js'
import { startCollector } from '../helpers/collector.js'

const rulesDir = new URL('../fixtures/alert-rules/', import.meta.url).pathname
const artifacts = resolve(import.meta.dirname, '..', '..', 'test-artifacts', 'console')
mkdirSync(artifacts, { recursive: true })
const TOK = { viewer: 'incident-viewer-token', operator: 'incident-operator-token' }
const sha = (s: string): string => createHash('sha256').update(s).digest('hex')

async function page (t: Test, browser: Browser, base: string, token: string): Promise<Page> {
  const ctx = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 1000 } })
  t.teardown(async () => await ctx.close())
  const p = await ctx.newPage()
  p.on('pageerror', err => t.fail(`page error: ${err.message}`))
  p.on('console', m => { if (m.type() === 'error' && !/401|403/.test(m.text())) t.fail(`console error: ${m.text()}`) })
  await p.goto('/')
  await p.locator('#token').fill(token)
  await p.locator('#login-button').click()
  await p.locator('body[data-loaded="1"]').waitFor({ timeout: 10_000 })
  return p
}

async function breach (c: Collector, host: string): Promise<number> {
  const a = c.alerting!
  const now = Date.now()
  await a.stage.apply(a.evaluator.observePoints([{ m: 'kiosk_app', t: now - 5000, tags: { host, role: 'server', site: 's' }, f: { queue_length: 95 } }], now - 5000))
  await a.stage.apply(a.evaluator.tick(now))
  return (await a.store.firing()).find(i => i.host === host)!.id
}

t.test('an operator writes up a 障害 and publishes a notice from the console; a viewer reads', async t => {
  const { c, url } = await startCollector(t, {
    backend: new NullSink(),
    config: {
      api: { tokens: [{ name: 'noc', tokenSha256: sha(TOK.viewer), role: 'viewer' }, { name: 'yamada', tokenSha256: sha(TOK.operator), role: 'operator' }] },
      systems: [{ name: '共通基盤', hosts: ['web01'] }],
      alerting: { rulesDir, smtp: { host: '127.0.0.1', port: 1 } },
      status: { enabled: true }
    }
  })
  const id = await breach(c, 'web01')
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] })
  t.teardown(async () => await browser.close())

  const op = await page(t, browser, url, TOK.operator)
  const link = op.locator(`#alerts tr[data-incident="${id}"] a.incident-link`)
  t.equal(await link.getAttribute('href'), `/console/incidents/${id}`, 'the alert list links to the incident view')
  const listed = op.locator(`#incidents tr[data-incident-id="${id}"]`)
  t.equal(await listed.locator('a').getAttribute('href'), `/console/incidents/${id}`, 'so does the list of recent 障害')
  t.match(await listed.textContent(), /共通基盤.*未記入$/, 'with its systems and no write-up yet')
  await link.click()
  await op.locator('#write-up-form').waitFor({ state: 'visible', timeout: 10_000 })
  t.match(await op.locator('#title').textContent(), new RegExp(`障害 #${id} web01 待ち人数 95`))
  t.equal(await op.locator('#write-up dd[data-key="sys"]').textContent(), '共通基盤')
  await op.locator('#write-up-form textarea[name="cause"]').fill('ディスクコントローラの故障')
  await op.locator('#write-up-form textarea[name="prevention"]').fill('予備機を用意する')
  await op.locator('#write-up-form input[name="confirmed"]').fill('2026-12-01T10:45')
  await op.locator('#write-up-form select[name="major"]').selectOption('true')
  await op.locator('#write-up-form select[name="severity"]').selectOption('warning')
  await op.locator('#write-up-form button[type="submit"]').click()
  await op.locator('#write-up dd[data-key="cause"]', { hasText: 'ディスクコントローラの故障' }).waitFor({ timeout: 10_000 })
  const inc = (await c.alerting!.store.book.get(id))!
  t.equal(inc.cause_text, 'ディスクコントローラの故障')
  t.equal(inc.prevention, '予備機を用意する')
  t.equal(inc.confirmed_recovery_at, Date.parse('2026-12-01T10:45:00+09:00'), 'the JST wall time the operator typed')
  t.equal(inc.major_override, 1)
  t.equal(inc.severity_override, 'warning', 'the severity the operator chose')
  await op.locator('#write-up dd[data-key="severity"]', { hasText: 'warning' }).waitFor({ timeout: 10_000 })
  const edit = c.audit.about('incident', id).find(e => e.action === 'incident.edit')!
  t.equal(edit.actor, 'yamada (operator)')

  await op.locator('#notice-form textarea[name="message"]').fill('住民票の発行を停止しています。')
  await op.locator('#notice-form button[type="submit"]').click()
  await op.locator('#notices li', { hasText: '住民票の発行を停止しています。' }).waitFor({ timeout: 10_000 })
  t.ok((await c.alerting!.store.book.get(id))!.user_notice_at !== null, 'the notice set user_notice_at')
  t.match(await (await fetch(`${url}/status`)).text(), /住民票の発行を停止しています。/, 'and is on the status page')

  // Correct the notice, then withdraw it: the status page follows; the record keeps it, marked.
  const n1 = (await c.alerting!.store.book.notices(id))[0]!.id
  op.once('dialog', d => { void d.accept('住民票・印鑑証明の発行を停止しています。') })
  await op.locator(`#notices li[data-notice="${n1}"] button.notice-correct`).click()
  await op.locator(`#notices li[data-notice="${n1}"]`, { hasText: '印鑑証明' }).waitFor({ timeout: 10_000 })
  t.equal((await c.alerting!.store.book.notices(id))[0]!.message, '住民票・印鑑証明の発行を停止しています。', 'corrected')
  t.match(await (await fetch(`${url}/status`)).text(), /印鑑証明/, 'the status page shows the correction')
  op.once('dialog', d => { void d.accept() })
  await op.locator(`#notices li[data-notice="${n1}"] button.notice-withdraw`).click()
  await op.locator(`#notices li.withdrawn[data-notice="${n1}"]`).waitFor({ timeout: 10_000 })
  t.notMatch(await (await fetch(`${url}/status`)).text(), /印鑑証明/, 'withdrawn: gone from the status page')
  t.same(c.audit.about('incident', id).map(e => e.action).filter(a => a.startsWith('incident.notice')), ['incident.notice', 'incident.notice.edit', 'incident.notice.withdraw'])

  // Merge an alert of another host into this 障害, then split it off again.
  const other = await breach(c, 'web09')
  t.equal((await c.alerting!.store.book.get(other))!.merged_into, null, 'web09 is in no system: its own 障害')
  await op.locator('#merge-form input[name="from"]').fill(String(other))
  await op.locator('#merge-form button[type="submit"]').click()
  await op.locator(`#alerts tr[data-incident="${other}"]`).waitFor({ timeout: 10_000 })
  t.equal((await c.alerting!.store.book.get(other))!.merged_into, id, 'merged from the console')
  await op.screenshot({ path: join(artifacts, 'incident-view.png'), fullPage: true })
  await op.locator(`#alerts tr[data-incident="${other}"] button.split`).click()
  await op.locator(`#alerts tr[data-incident="${other}"]`).waitFor({ state: 'detached', timeout: 10_000 })
  t.equal((await c.alerting!.store.book.get(other))!.merged_into, null, 'split from the console')
  t.same(c.audit.about('incident', other).map(e => [e.action, e.actor]), [['incident.merge', 'yamada (operator)'], ['incident.split', 'yamada (operator)']])

  const report = await op.request.get(`/v1/incidents/${id}/report.html`)
  t.equal(report.status(), 200)
  t.match(report.headers()['content-disposition'], /attachment; filename="kanshi-incident-\d+\.html"/)
  t.match(await report.text(), /<dd id="w-cause">ディスクコントローラの故障<\/dd>/, 'the report carries the write-up')

  const viewer = await page(t, browser, url, TOK.viewer)
  await viewer.goto(`/console/incidents/${id}`)
  await viewer.locator('#write-up dd[data-key="cause"]', { hasText: 'ディスクコントローラの故障' }).waitFor({ timeout: 10_000 })
  t.equal(await viewer.locator('#write-up-form').isHidden(), true, 'a viewer gets no edit form')
  t.equal(await viewer.locator('#notice-form').isHidden(), true)
  t.equal(await viewer.locator('#merge-form').isHidden(), true, 'nor merge controls')
  t.equal(await viewer.locator('#notices button').count(), 0, 'nor notice buttons')
  const refused = await viewer.request.fetch(`/v1/incidents/${id}`, { method: 'PATCH', data: { cause: 'x' }, headers: { 'x-csrf-token': 'whatever' } })
  t.equal(refused.status(), 403, 'and the API refuses its edits')
})

t.test('the incident view shows and takes times in report.timezone', async t => {
  const { c, url } = await startCollector(t, {
    backend: new NullSink(),
    config: {
      api: { tokens: [{ name: 'yamada', tokenSha256: sha(TOK.operator), role: 'operator' }] },
      report: { timezone: 'America/New_York' },
      alerting: { rulesDir, smtp: { host: '127.0.0.1', port: 1 } }
    }
  })
  const id = await breach(c, 'web01')
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] })
  t.teardown(async () => await browser.close())
  const op = await page(t, browser, url, TOK.operator)
  await op.goto(`/console/incidents/${id}`)
  await op.locator('#write-up-form').waitFor({ state: 'visible', timeout: 10_000 })
  await op.locator('span[data-i18n="confirmed"]', { hasText: 'America/New_York' }).waitFor({ timeout: 10_000 })
  // 1 December: New York is on EST (UTC−5), a wall time 9 hours from JST's reading.
  await op.locator('#write-up-form input[name="confirmed"]').fill('2026-12-01T10:45')
  await op.locator('#write-up-form button[type="submit"]').click()
  const want = new Date(Date.parse('2026-12-01T10:45:00-05:00')).toLocaleString('ja-JP', { timeZone: 'America/New_York', timeZoneName: 'short' })
  await op.locator('#timeline dd[data-key="confirmedAt"]', { hasText: want }).waitFor({ timeout: 10_000 })
  t.equal((await c.alerting!.store.book.get(id))!.confirmed_recovery_at, Date.parse('2026-12-01T10:45:00-05:00'), 'the wall time typed, in New York')
  t.equal(await op.locator('#write-up-form input[name="confirmed"]').inputValue(), '2026-12-01T10:45', 'and read back the same')
  t.equal(await op.locator('#timeline dd[data-key="confirmedAt"]').textContent(), want)
})
