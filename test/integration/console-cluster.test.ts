// The console's クラスタ section in a real Chromium, against a collector in cluster mode on a
// real PostgreSQL: this node leads, a peer that went silent is shown down, then PostgreSQL
// stops and the section says so; English after the language toggle. Hidden without cluster:.

import t from 'tap'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { chromium } from 'playwright-core'
import { startCollector } from '../helpers/collector.js'
import { startPostgres } from '../helpers/postgres.js'
import { TEST_VIEWER_TOKEN, viewerApi } from '../helpers/config.js'
import { waitFor } from '../helpers/procs.js'

const artifacts = resolve(import.meta.dirname, '..', '..', 'test-artifacts', 'console')
mkdirSync(artifacts, { recursive: true })

t.test('the cluster section: nodes, leader, epoch, PostgreSQL', async t => {
  const pg = await startPostgres(t)
  const col = await startCollector(t, {
    env: { KANSHI_PG_PASSWORD: pg.password },
    config: { influx: { embedded: { enabled: false } }, api: viewerApi(), cluster: { node: 'c1', postgres: { url: pg.url, connectTimeout: '1s', statementTimeout: '2s' }, lease: '3s', heartbeat: '1s' } }
  })
  await waitFor(() => col.c.cluster?.isLeader(), 10_000, 100)
  // A peer seen a minute ago: down.
  await pg.admin.query("INSERT INTO nodes (node, started_at, last_seen, version, address) VALUES ('c2', now() - interval '1 hour', now() - interval '1 minute', '0.1.0', '10.0.0.2:8080')")
  // A peer recorded cut off from PostgreSQL (it answered the leader's probe). Its address is this collector, which
  // answers as c1, not c3: no answer as c3 and no failed probe either, so the notice stays as written.
  await pg.admin.query("INSERT INTO nodes (node, started_at, last_seen, version, address) VALUES ('c3', now() - interval '1 hour', now() - interval '1 minute', '0.1.0', $1)", [col.url])
  await pg.admin.query("INSERT INTO node_down (node, down_at, leader, epoch, agents, moved, lost, kind) VALUES ('c3', now(), 'c1', 1, 2, '{}', '{}', 'cut_off')")
  await waitFor(() => col.c.cluster!.status().nodes.length === 3, 10_000, 100)

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] })
  t.teardown(async () => await browser.close())
  const page = await (await browser.newContext({ baseURL: col.url, viewport: { width: 1280, height: 900 } })).newPage()
  page.on('pageerror', err => t.fail(`page error: ${err.message}`))
  await page.goto('/')
  await page.locator('#token').fill(TEST_VIEWER_TOKEN)
  await page.locator('#login-button').click()
  await page.locator('#cluster-nodes tr[data-node="c2"]').waitFor({ timeout: 15_000 })
  const cells = async (node: string): Promise<string[]> => await page.locator(`#cluster-nodes tr[data-node="${node}"] td`).allTextContents()
  const epoch = col.c.cluster!.epoch()!
  t.equal(await page.locator('#cluster-section h2').textContent(), 'クラスタ')
  t.match(await page.locator('#cluster-summary').textContent(), `このノード c1 / リーダー c1 (epoch ${epoch}) · PostgreSQL: 接続中`)
  t.same((await cells('c1')).slice(0, 3), ['c1 (リーダー, このノード)', '稼働', '0'])
  t.same((await cells('c2')).slice(0, 3), ['c2', '停止 (応答なし)', '0'])
  t.equal(await page.locator('#cluster-nodes tr[data-node="c2"] td').nth(1).getAttribute('class'), 'bad')
  t.same((await cells('c3')).slice(0, 2), ['c3', 'PostgreSQL 接続不可 (応答あり・収集継続)'], 'a cut-off peer is told apart from a dead one')
  t.equal(await page.locator('#cluster-nodes tr[data-node="c3"] td').nth(1).getAttribute('class'), 'warn')
  t.notMatch(await page.content(), pg.password, 'no password on the page')
  await page.screenshot({ path: resolve(artifacts, 'cluster-ja.png'), fullPage: true })

  await pg.stop()
  await page.locator('#lang').click()
  await page.reload()
  await waitFor(async () => /PostgreSQL: unreachable/.test(await page.locator('#cluster-summary').textContent() ?? ''), 20_000, 200)
  // Within the lease c1 still leads; after it, who leads is unknown (the page refreshes every 10 s).
  const stopped = Date.now()
  await waitFor(async () => { await page.reload(); return /leader unknown/.test(await page.locator('#cluster-summary').textContent() ?? '') }, 20_000, 1000)
  t.match(await page.locator('#cluster-summary').textContent(), /^This node c1 \/ leader unknown \(epoch —\)/, `who leads is unknown once the lease ran out (${Date.now() - stopped} ms)`)
  t.equal(await page.locator('#cluster-summary').getAttribute('class'), 'warn')
  await page.screenshot({ path: resolve(artifacts, 'cluster-en-pg-down.png'), fullPage: true })
})

t.test('without cluster: the API says so and the section stays hidden', async t => {
  const col = await startCollector(t, { listen: false, config: { influx: { embedded: { enabled: false } }, api: viewerApi() } })
  t.equal(col.c.cluster, undefined)
  t.equal((await col.c.app.inject({ url: '/api/v1/cluster' })).statusCode, 401)
  const r = await col.c.app.inject({ url: '/api/v1/cluster', headers: { authorization: `Bearer ${TEST_VIEWER_TOKEN}` } })
  t.same(r.json(), { enabled: false })
  t.match((await col.c.app.inject({ url: '/' })).body, /<section id="cluster-section" hidden>/)
})
