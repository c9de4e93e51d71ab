// The console's devices section in a real Chromium against the real collector app: a poller's
// devices are listed with their poller, parent and state, in Japanese and English.

import t from 'tap'
import { chromium } from 'playwright-core'
import { NullSink } from '../../collector/storage/null-sink.js'
import { startCollector } from '../helpers/collector.js'
import { connectAgent } from '../helpers/fake-agent.js'
import { TEST_VIEWER_TOKEN, viewerApi } from '../helpers/config.js'

t.test('devices are listed with their poller and parent', async t => {
  const tc = await startCollector(t, { backend: new NullSink(), agents: [{ id: 'poller-1', site: '本庁舎', devices: true }], config: { api: viewerApi() } })
  const a = await connectAgent(t, tc.agentUrl, { token: tc.tokens['poller-1']!, id: 'poller-1' })
  await a.greet()
  const now = Date.now()
  a.batch(1, [
    { m: 'service', t: now, tags: { device: 'core-sw', host: 'core-sw', check: 'ping', service: 'core-sw' }, f: { up: 1, rtt_ms: 0.8, loss_percent: 0 } },
    { m: 'service', t: now, tags: { device: 'sw-3f', host: 'sw-3f', check: 'ping', service: 'sw-3f', parent: 'core-sw' }, f: { up: 0, rtt_ms: 0, loss_percent: 100 } }
  ])
  await a.waitFrame(m => m.type === 'ack' && m.seq === 1, 'ack 1')
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] })
  t.teardown(async () => await browser.close())
  const page = await browser.newPage({ baseURL: tc.url })
  page.on('pageerror', err => t.fail(`page error: ${err.message}`))
  await page.goto('/')
  await page.locator('#token').fill(TEST_VIEWER_TOKEN)
  await page.locator('#login-button').click()
  await page.locator('#devices-section').waitFor({ state: 'visible', timeout: 15_000 })
  const rows = await page.locator('#devices tbody tr').evaluateAll(trs => trs.map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent)))
  t.same(rows.map(r => [r[0], r[1], r[2], r[3], r[4], r[6]]), [['core-sw', '稼働', '本庁舎', 'poller-1', '', '0%'], ['sw-3f', '停止', '本庁舎', 'poller-1', 'core-sw', '100%']])
  await page.locator('#lang').click()
  await page.locator('#devices-section h2:text-is("Network devices")').waitFor({ timeout: 5000 })
  t.equal(await page.locator('#devices tr[data-device="sw-3f"] td.state').textContent(), 'down')
})
