// The console's 構成管理 section in a real Chromium: inventory points sent by
// agents over real WebSockets into a real influxd come back through
// GET /api/v1/inventory and are listed with their flags, in Japanese, then
// in English after the language toggle. Screenshot in test-artifacts/.

import t from 'tap'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { chromium } from 'playwright-core'
import { startCollector } from '../helpers/collector.js'
import { connectAgent } from '../helpers/fake-agent.js'
import { withInfluxd } from '../helpers/influxd.js'
import { TEST_VIEWER_TOKEN, viewerApi } from '../helpers/config.js'
import { waitFor } from '../helpers/procs.js'

const artifacts = resolve(import.meta.dirname, '..', '..', 'test-artifacts', 'console')
mkdirSync(artifacts, { recursive: true })
const DAY = 86_400_000

t.test('the inventory table: OS, build, last update, reboot, agent, end of support, flags', async t => {
  const influx = await withInfluxd(t)
  const col = await startCollector(t, {
    agents: [{ id: 'old01' }, { id: 'web01' }],
    config: { influx: { version: 1, url: influx.url, db: 'kanshi', flushInterval: '100ms' }, api: viewerApi() }
  })
  const now = Date.now()
  const hosts = {
    // Windows Server 2012 R2 (support ended 2023-10-10), last hotfix 100 days ago, reboot pending
    old01: { os_id: 'windows', os_name: 'Microsoft Windows Server 2012 R2 Standard', os_version: '6.3.9600', os_build: '9600.21620', last_update: now - 100 * DAY, pending_reboot: 1, agent_version: '0.1.0' },
    // Debian 12, updated 3 days ago
    web01: { os_id: 'debian', os_name: 'Debian GNU/Linux', os_version: '12', os_build: '12.8', kernel: '6.1.0-28-amd64', last_update: now - 3 * DAY, pending_reboot: 0, agent_version: '0.1.0' }
  }
  for (const [id, f] of Object.entries(hosts)) {
    const a = await connectAgent(t, col.agentUrl, { token: col.tokens[id]!, id })
    await a.greet()
    a.batch(1, [{ m: 'inventory', t: now, f }])
    await a.waitFrame(x => x.type === 'ack' && x.seq === 1, 'ack')
  }
  await waitFor(async () => {
    const r = await fetch(`${col.url}/api/v1/inventory`, { headers: { authorization: `Bearer ${TEST_VIEWER_TOKEN}` } })
    return ((await r.json()) as { hosts: unknown[] }).hosts.length === 2
  }, 20_000, 200)

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] })
  t.teardown(async () => await browser.close())
  const ctx = await browser.newContext({ baseURL: col.url, viewport: { width: 1280, height: 900 } })
  const page = await ctx.newPage()
  page.on('pageerror', err => t.fail(`page error: ${err.message}`))
  await page.goto('/')
  await page.locator('#token').fill(TEST_VIEWER_TOKEN)
  await page.locator('#login-button').click()
  await page.locator('#inventory tr[data-host="old01"]').waitFor({ timeout: 15_000 })
  const cells = async (host: string): Promise<string[]> => await page.locator(`#inventory tr[data-host="${host}"] td`).allTextContents()
  t.equal(await page.locator('#inventory-section h2').textContent(), '構成管理 (OS・更新プログラム)')
  const day = (ms: number): string => new Date(ms + 9 * 3_600_000).toISOString().slice(0, 10)
  t.same(await cells('old01'), ['old01', 'Microsoft Windows Server 2012 R2 Standard 6.3.9600', '9600.21620', `${day(hosts.old01.last_update)} (100日前)`, 'あり', '0.1.0', '2023-10-10', 'サポート終了, 更新が45日超なし'])
  t.same(await cells('web01'), ['web01', 'Debian GNU/Linux 12', '12.8', `${day(hosts.web01.last_update)} (3日前)`, '', '0.1.0', '2028-06-30', ''])
  t.equal(await page.locator('#inventory tr[data-host="old01"] td').last().getAttribute('class'), 'bad')
  t.same(await page.locator('#inventory tbody tr').evaluateAll(rs => rs.map(r => r.getAttribute('data-host'))), ['old01', 'web01'])
  await page.screenshot({ path: resolve(artifacts, 'inventory-ja.png'), fullPage: true })
  await page.locator('#lang').click()
  await waitFor(async () => await page.locator('#inventory-section h2').textContent() === 'Inventory (OS and updates)', 5000, 50)
  t.equal((await cells('old01'))[7], 'past end of support, no update for over 45 days')
})

t.test('WAL-only (no database): the API says why the inventory is empty; a viewer token is still needed', async t => {
  const col = await startCollector(t, { listen: false, config: { influx: { embedded: { enabled: false } }, api: viewerApi() } })
  t.equal((await col.c.app.inject({ url: '/api/v1/inventory' })).statusCode, 401)
  const r = await col.c.app.inject({ url: '/api/v1/inventory', headers: { authorization: `Bearer ${TEST_VIEWER_TOKEN}` } })
  t.equal(r.statusCode, 200)
  t.same(r.json(), { maxUpdateAgeDays: 45, hosts: [], problem: 'no database is configured (WAL-only): the inventory is kept in InfluxDB' })
})
