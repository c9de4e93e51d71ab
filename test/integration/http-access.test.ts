// Who may read what over HTTP, through the real app on a real socket: /api/v1/agents
// and /metrics need a viewer by default; metrics.auth: none and metrics.allow open
// /metrics to a local Prometheus only; /healthz and /readyz tell a stranger up/ready, nothing more;
// the deploy example's Prometheus scrape works with its token file; every registered route
// refuses a stranger unless it is on the public list below.

import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { parse } from 'yaml'
import { sha256Hex } from '../../collector/ingest/auth.js'
import { NullSink } from '../../collector/storage/null-sink.js'
import { writeKeys } from '../helpers/archive.js'
import { startCollector } from '../helpers/collector.js'
import { writeConfig } from '../helpers/config.js'
import { connectAgent } from '../helpers/fake-agent.js'
import { freePort, waitFor } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

const VIEWER = 'viewer-token-for-the-access-test'
const OPERATOR = 'operator-token-for-the-access-test'
const api = { tokens: [{ name: 'grafana', tokenSha256: sha256Hex(VIEWER), role: 'viewer' }, { name: 'ops', tokenSha256: sha256Hex(OPERATOR), role: 'operator' }] }

interface Reply { status: number, headers: Record<string, string | string[] | undefined>, body: string }

/** get sends a GET from a chosen local address (127.0.0.2 is a second loopback source on Linux). */
async function get (port: number, path: string, o: { from?: string, headers?: Record<string, string> } = {}): Promise<Reply> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: o.headers ?? {}, ...(o.from !== undefined ? { localAddress: o.from } : {}) }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
const code = (r: Reply): unknown => (JSON.parse(r.body) as { code?: unknown }).code

t.test('by default /api/v1/agents and /metrics answer 401 to a stranger and 200 to a viewer', async t => {
  const { port, agentUrl, tokens } = await startCollector(t, { config: { api }, agents: [{ id: 'web01' }] })
  await (await connectAgent(t, agentUrl, { token: tokens['web01']!, id: 'web01' })).greet()
  for (const path of ['/api/v1/agents', '/metrics']) {
    const r = await get(port, path)
    t.equal(r.status, 401, `${path} without a token`)
    t.equal(code(r), 'E_AUTH')
    t.equal(r.headers['www-authenticate'], 'Bearer', `${path} says how to authenticate`)
    t.notMatch(r.body, /web01/, `${path} names no host to a stranger`)
    t.equal((await get(port, path, { headers: bearer('not-a-token') })).status, 401, `${path} with a wrong token`)
    t.equal((await get(port, path, { headers: bearer(VIEWER) })).status, 200, `${path} with a viewer token`)
    t.equal((await get(port, path, { headers: bearer(OPERATOR) })).status, 200, `${path} with an operator token (higher roles include viewer)`)
  }
  t.match(JSON.parse((await get(port, '/api/v1/agents', { headers: bearer(VIEWER) })).body), { agents: [{ id: 'web01' }] })

  const m = await get(port, '/metrics', { headers: bearer(VIEWER) })
  const p = spawnSync('promtool', ['check', 'metrics'], { input: m.body, encoding: 'utf8' })
  if (p.error !== undefined) throw new Error(`promtool is missing (Debian package prometheus): ${p.error.message}`)
  t.equal(p.status, 0, `promtool: ${p.stdout}${p.stderr}`)
})

t.test('the console session cookie opens /api/v1/agents and the /readyz details', async t => {
  const { port, url } = await startCollector(t, { config: { api } })
  const login = await fetch(`${url}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ token: VIEWER }) })
  t.equal(login.status, 200)
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!
  t.equal((await get(port, '/api/v1/agents', { headers: { cookie } })).status, 200)
  t.match(JSON.parse((await get(port, '/readyz', { headers: { cookie } })).body), { status: 'not ready', problems: [/WAL-only/] })
  const state = await fetch(`${url}/console/state`, { headers: { cookie } })
  t.match(await state.json(), { health: { ready: false, storage: /WAL-only/, problems: [/WAL-only/] } }, 'the console still shows the reasons')
})

t.test('/readyz tells a stranger only the status; a viewer gets the reasons', async t => {
  // Storage on a closed port: the reasons name its address and the error.
  const { port } = await startCollector(t, { config: { api, influx: { url: 'http://127.0.0.1:1', timeout: '1s' } } })
  let detail: Reply | undefined
  for (let i = 0; i < 100; i++) {
    detail = await get(port, '/readyz', { headers: bearer(VIEWER) })
    if (detail.status === 503) break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  t.equal(detail?.status, 503)
  t.match(JSON.parse(detail!.body), { status: 'not ready', storage: 'influxdb-v1', problems: [/^storage: /] })
  const open = await get(port, '/readyz')
  t.equal(open.status, 503, 'a load balancer still sees not-ready')
  t.same(JSON.parse(open.body), { status: 'not ready', problemCount: 1 })
  t.notMatch(open.body, /influx|127\.0\.0\.1|storage|wal/i)
  t.same(JSON.parse((await get(port, '/readyz', { headers: bearer('not-a-token') })).body), { status: 'not ready', problemCount: 1 }, 'a wrong token is a stranger, not a 401')
  t.same(JSON.parse((await get(port, '/healthz')).body), { status: 'ok' })
})

t.test('metrics.auth: none opens /metrics, not /api/v1/agents', async t => {
  const { port } = await startCollector(t, { config: { api, metrics: { auth: 'none' } } })
  const m = await get(port, '/metrics', { from: '127.0.0.2' })
  t.equal(m.status, 200)
  t.match(m.body, /^# TYPE kanshi_wal_bytes gauge/m)
  t.equal((await get(port, '/api/v1/agents')).status, 401)
})

t.test('metrics.allow refuses other source addresses with 403, before and apart from the token', async t => {
  const open = await startCollector(t, { config: { api, metrics: { auth: 'none', allow: ['127.0.0.1', '::1'] } } })
  t.equal((await get(open.port, '/metrics', { from: '127.0.0.1' })).status, 200, 'a listed address needs no token')
  const refused = await get(open.port, '/metrics', { from: '127.0.0.2', headers: bearer(VIEWER) })
  t.equal(refused.status, 403, 'an address outside the list is refused even with a token')
  t.equal(code(refused), 'E_FORBIDDEN')
  t.match(refused.body, /metrics\.allow/)
  t.equal((await get(open.port, '/api/v1/agents', { from: '127.0.0.2', headers: bearer(VIEWER) })).status, 200, 'allow concerns /metrics only')

  const both = await startCollector(t, { config: { api, metrics: { allow: ['127.0.0.2/32'] } } })
  t.equal((await get(both.port, '/metrics', { from: '127.0.0.1', headers: bearer(VIEWER) })).status, 403)
  t.equal((await get(both.port, '/metrics', { from: '127.0.0.2' })).status, 401, 'auth: viewer still wants the token')
  t.equal((await get(both.port, '/metrics', { from: '127.0.0.2', headers: bearer(VIEWER) })).status, 200)
})

t.test('deploy/prometheus/prometheus.yml: a real Prometheus scrapes with the viewer token file; without it the target is down', async t => {
  const { port } = await startCollector(t, { config: { api } })
  const dir = await tmpDir(t)
  const tokenFile = join(dir, 'kanshi-viewer.token')
  writeFileSync(tokenFile, `${VIEWER}\n`, { mode: 0o600 })
  const example = parse(readFileSync(new URL('../../deploy/prometheus/prometheus.yml', import.meta.url), 'utf8')) as { global: object, scrape_configs: Array<Record<string, any>> }
  const job = example.scrape_configs[0]!
  t.equal(job['authorization'].credentials_file, '/etc/prometheus/kanshi-viewer.token', 'the example reads the token from a file')
  const withToken = { ...job, scrape_interval: '1s', authorization: { ...job['authorization'], credentials_file: tokenFile }, static_configs: [{ targets: [`127.0.0.1:${port}`] }] }
  const { authorization: _, ...bare } = withToken
  const config = writeConfig(join(dir, 'prometheus.yml'), { ...example, scrape_configs: [withToken, { ...bare, job_name: 'no-token' }] })
  const check = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' })
  t.equal(check.status, 0, `promtool check config: ${check.stdout}${check.stderr}`)

  const web = await freePort()
  const prom = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${web}`], { stdio: 'ignore' })
  t.teardown(() => { prom.kill('SIGKILL') })
  let health: Record<string, { health: string, lastError: string }> = {}
  await waitFor(async () => {
    const r = await fetch(`http://127.0.0.1:${web}/api/v1/targets`).catch(() => undefined)
    if (r?.ok !== true) return false
    const active = ((await r.json()) as { data: { activeTargets: Array<{ labels: { job: string }, health: string, lastError: string }> } }).data.activeTargets
    health = Object.fromEntries(active.map(a => [a.labels.job, a]))
    return health['kanshi-collector']?.health === 'up' && health['no-token']?.health === 'down'
  }, 30_000, 250).catch(() => {})
  t.equal(health['kanshi-collector']?.health, 'up', `with the token: ${health['kanshi-collector']?.lastError ?? 'no target'}`)
  t.equal(health['no-token']?.health, 'down', 'without it')
  t.match(health['no-token']?.lastError, /401/)
})

// What a stranger may open, and why; HEAD follows GET. Anything else must answer 401, 403 or 404,
// so a route added later without a guard fails here until it is guarded or listed with a reason.
const PUBLIC: Record<string, string> = {
  'GET /healthz': 'up, nothing more',
  'GET /readyz': 'ready and a problem count, nothing more',
  'GET /status': 'status.enabled: the published notices only',
  'GET /status.json': 'status.enabled: the published notices only',
  'GET /': 'the console page (static; data comes from the guarded API)',
  'GET /console/incidents/:id': 'the incident page shell (static; data from /v1/incidents/:id)',
  'GET /favicon.ico': 'an empty icon',
  'GET /console.css': 'static',
  'GET /console.js': 'static',
  'GET /console-devices.js': 'static',
  'GET /console-incident.js': 'static',
  'GET /console-inventory.js': 'static',
  'GET /console-cluster.js': 'static'
}

t.test('every registered route refuses a stranger (401/403/404) unless it is on the public list', async t => {
  const rulesDir = new URL('../fixtures/alert-rules/', import.meta.url).pathname
  const keys = writeKeys(await tmpDir(t))
  const { c, tokens } = await startCollector(t, {
    listen: false,
    backend: new NullSink(),
    agents: [{ id: 'srv-walk7' }, { id: 'kiosk-walk9', role: 'kiosk' }],
    config: {
      api,
      alerting: { rulesDir, publicUrl: 'http://127.0.0.1:1', smtp: { host: '127.0.0.1', port: 1, from: 'k@example.jp' }, receivers: [{ name: 'r', email: ['a@example.jp'] }], routes: [{ receiver: 'r' }] },
      status: { enabled: true },
      archive: { enabled: true, signingKey: keys.key }
    }
  })
  t.ok(c.routes.length > 40, `${c.routes.length} routes registered`)
  const seen = new Set<string>()
  for (const r of c.routes) {
    const key = `${r.method === 'HEAD' ? 'GET' : r.method} ${r.url}`
    seen.add(key)
    const url = r.url.replace(/:[A-Za-z_]+/g, '1').replace(/\*/g, 'x')
    const res = await c.app.inject({ method: r.method as 'GET', url, ...(['POST', 'PUT', 'PATCH'].includes(r.method) ? { payload: {} } : {}) })
    for (const secret of ['srv-walk7', 'kiosk-walk9', tokens['srv-walk7']!, 'k@example.jp']) t.notOk(res.body.includes(secret), `${r.method} ${r.url}: names no host, address or token`)
    if (PUBLIC[key] !== undefined) continue
    t.ok([401, 403, 404].includes(res.statusCode), `${r.method} ${r.url}: ${res.statusCode} to a stranger (${res.body.slice(0, 80)})`)
  }
  for (const key of Object.keys(PUBLIC)) t.ok(seen.has(key), `the public list names a route that exists: ${key}`)
  t.same(JSON.parse((await c.app.inject({ url: '/healthz' })).body), { status: 'ok' })
  t.same(Object.keys(JSON.parse((await c.app.inject({ url: '/readyz' })).body)).sort(), ['problemCount', 'status'])
  t.equal((await c.app.inject({ method: 'POST', url: '/v1/silences', payload: { bad: 1 } })).statusCode, 401, 'a stranger gets 401 before the body is validated')
})
