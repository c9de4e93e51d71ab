// The console's sessions and login limits with the clock driven by the test,
// and its HTTP rules through the real app (inject): cookie attributes under
// TLS, static assets, logins that cannot prove they come from the page.

import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { NullSink } from '../../collector/storage/null-sink.js'
import { startCollector } from '../helpers/collector.js'
import { CONSOLE_DEFAULTS, LoginLimiter, SessionStore, csrfMatches, parseCookies } from '../../collector/console/sessions.js'

const TOKEN = 'operator-token-for-sessions'

async function app (t: Test, extra: Record<string, unknown> = {}) {
  return await startCollector(t, {
    listen: false,
    backend: new NullSink(),
    config: { api: { tokens: [{ name: 'yamada', tokenSha256: createHash('sha256').update(TOKEN).digest('hex'), role: 'operator' }] }, ...extra }
  })
}

t.test('sessions end at the absolute and at the idle limit', async t => {
  let now = 1_000_000
  const s = new SessionStore(() => now)
  const a = s.create('yamada', 'operator')
  t.not(a.id, a.csrf)
  t.ok(a.id.length >= 43 && a.csrf.length >= 43, '256-bit random id and CSRF token')
  now += CONSOLE_DEFAULTS.sessionIdleMs - 1
  t.equal(s.get(a.id)?.name, 'yamada', 'alive just under the idle limit, and the request renews it')
  now += CONSOLE_DEFAULTS.sessionIdleMs - 1
  t.ok(s.get(a.id), 'still alive: it was used')
  now += CONSOLE_DEFAULTS.sessionIdleMs + 1
  t.equal(s.get(a.id), undefined, 'idle too long')
  t.equal(s.size, 0, 'and removed')
  const b = s.create('yamada', 'operator')
  for (let i = 0; i < 20; i++) { now += CONSOLE_DEFAULTS.sessionIdleMs / 2; s.get(b.id) }
  t.equal(s.get(b.id), undefined, 'used all along, but past the absolute limit')
  t.equal(s.get(undefined), undefined)
  t.equal(s.get('nope'), undefined)
})

t.test('the session store is bounded', async t => {
  const s = new SessionStore(Date.now, { ...CONSOLE_DEFAULTS, maxSessions: 3 })
  const first = s.create('a', 'viewer')
  for (let i = 0; i < 3; i++) s.create('b', 'viewer')
  t.equal(s.size, 3)
  t.equal(s.get(first.id), undefined, 'the oldest went first')
  let now = 0
  const e = new SessionStore(() => now, { ...CONSOLE_DEFAULTS, maxSessions: 2 })
  const live = e.create('live', 'viewer')
  e.create('idle', 'viewer')
  now += CONSOLE_DEFAULTS.sessionIdleMs - 10
  e.get(live.id)
  now += 20
  e.create('new', 'viewer')
  t.equal(e.get(live.id)?.name, 'live', 'an expired session makes room before a live one is dropped')
})

t.test('CSRF tokens compare exactly', async t => {
  const s = new SessionStore().create('a', 'viewer')
  t.ok(csrfMatches(s, s.csrf))
  t.notOk(csrfMatches(s, undefined))
  t.notOk(csrfMatches(s, ''))
  t.notOk(csrfMatches(s, s.csrf.slice(1)))
  t.notOk(csrfMatches(s, `${s.csrf.slice(0, -1)}${s.csrf.endsWith('A') ? 'B' : 'A'}`))
})

t.test('failed logins block an address for the window, not others', async t => {
  let now = 0
  const l = new LoginLimiter(() => now)
  for (let i = 0; i < CONSOLE_DEFAULTS.maxFailures; i++) { t.notOk(l.blocked('10.0.0.1')); l.fail('10.0.0.1'); now += 1000 }
  t.ok(l.blocked('10.0.0.1'))
  t.notOk(l.blocked('10.0.0.2'), 'another address is not affected')
  now += CONSOLE_DEFAULTS.failWindowMs
  t.notOk(l.blocked('10.0.0.1'), 'free again once the failures leave the window')
  l.fail('10.0.0.3')
  l.succeed('10.0.0.3')
  t.notOk(l.blocked('10.0.0.3'))
  const small = new LoginLimiter(() => now, { ...CONSOLE_DEFAULTS, maxAddresses: 2 })
  for (const a of ['a', 'b', 'c']) for (let i = 0; i < CONSOLE_DEFAULTS.maxFailures; i++) small.fail(a)
  t.notOk(small.blocked('a'), 'the limiter remembers a bounded number of addresses, oldest forgotten')
  t.ok(small.blocked('c'))
})

t.test('cookies are parsed by name', async t => {
  t.same([...parseCookies('a=1; kanshi_session=abc-_; b = 2')], [['a', '1'], ['kanshi_session', 'abc-_'], ['b', '2']])
  t.equal(parseCookies(undefined).size, 0)
})

t.test('assets, headers and login rules through the app', async t => {
  const { c } = await app(t)
  for (const [url, type] of [['/', /text\/html/], ['/console.js', /text\/javascript/], ['/console.css', /text\/css/]] as const) {
    const r = await c.app.inject(url)
    t.equal(r.statusCode, 200, url)
    t.match(r.headers['content-type'], type, url)
    t.match(r.headers['content-security-policy'], /script-src 'self'/, url)
    t.equal(r.headers['x-frame-options'], 'DENY', url)
  }
  t.notMatch((await c.app.inject('/')).body, /<script>|\son\w+=/, 'no inline script or handlers in the page')
  const body = { token: TOKEN }
  const noOrigin = await c.app.inject({ method: 'POST', url: '/console/login', payload: body })
  t.equal(noOrigin.statusCode, 403, 'a login with neither Origin nor Sec-Fetch-Site is refused')
  const fetchSite = await c.app.inject({ method: 'POST', url: '/console/login', payload: body, headers: { 'sec-fetch-site': 'same-origin' } })
  t.equal(fetchSite.statusCode, 200, 'Sec-Fetch-Site: same-origin stands in for Origin')
  const formPost = await c.app.inject({ method: 'POST', url: '/console/login', payload: `token=${TOKEN}`, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80' } })
  t.equal(formPost.statusCode, 415, 'a cross-site HTML form cannot post a login')
  const ok = await c.app.inject({ method: 'POST', url: '/console/login', payload: body, headers: { origin: 'http://localhost:80' } })
  t.equal(ok.statusCode, 200)
  const cookie = String(ok.headers['set-cookie'])
  t.match(cookie, /^kanshi_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/, 'no Secure without TLS')
  const state = await c.app.inject({ url: '/console/state', headers: { cookie: cookie.split(';')[0]! } })
  t.equal(state.statusCode, 200)
  t.same(state.json().agents, [])
  t.equal(state.json().alerting, false)
  t.equal(state.json().health.ready, true)
  t.equal((await c.app.inject('/console/state')).statusCode, 401, 'state needs a session')
})

t.test('under TLS the cookie is Secure with the __Host- prefix', async t => {
  const { c, dir } = await app(t)
  const key = join(dir, 'k.pem')
  const cert = join(dir, 'c.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' })
  await c.shutdown()
  const { c: tls } = await app(t, { listen: { host: '127.0.0.1', port: 0, tls: { key, cert } } })
  const r = await tls.app.inject({ method: 'POST', url: '/console/login', payload: { token: TOKEN }, headers: { origin: 'https://localhost:80' } })
  t.equal(r.statusCode, 200)
  t.match(String(r.headers['set-cookie']), /^__Host-kanshi_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800; Secure$/)
  const http = await tls.app.inject({ method: 'POST', url: '/console/login', payload: { token: TOKEN }, headers: { origin: 'http://localhost:80' } })
  t.equal(http.statusCode, 403, 'an http:// origin is not the same origin as the TLS listener')
})
