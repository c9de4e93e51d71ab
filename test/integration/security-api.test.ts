// The HTTP API as an attacker meets it, through the real app: the role of
// every route (no token, a wrong token, each role), input validation with
// documented codes, no stack trace, path or secret in any response, and
// security headers on every HTML page the collector serves.

import t, { type Test } from 'tap'
import { sha256Hex } from '../../collector/ingest/auth.js'
import { NullSink } from '../../collector/storage/null-sink.js'
import { startCollector } from '../helpers/collector.js'

const TOK = { viewer: 'api-viewer-secret-token', operator: 'api-operator-secret-token', admin: 'api-admin-secret-token' }
const RANK = { none: 0, viewer: 1, operator: 2, admin: 3 } as const
type Need = keyof typeof RANK

async function app (t: Test) {
  const rulesDir = new URL('../fixtures/alert-rules/', import.meta.url).pathname
  const { c } = await startCollector(t, {
    listen: false,
    backend: new NullSink(),
    agents: [{ id: 'web01', token: 'agent-secret-token' }],
    config: {
      alerting: { rulesDir, smtp: { host: '127.0.0.1', port: 1, from: 'k@example.jp', password: 'smtp-secret-password' }, receivers: [{ name: 'r', email: ['a@example.jp'] }], routes: [{ receiver: 'r' }] },
      api: { tokens: Object.entries(TOK).map(([role, tok]) => ({ name: `${role}-user`, tokenSha256: sha256Hex(tok), role })) }
    }
  })
  return c
}

const window = { name: 'w', match: { host: 'web01' }, start: '2026-01-01T00:00:00Z', end: '2026-01-01T01:00:00Z' }
// Every route of the alerting API and the role it needs (docs/alerting.md).
const ROUTES: Array<[method: 'GET' | 'POST' | 'DELETE', url: string, need: Need, body?: unknown]> = [
  ['GET', '/v1/alerts', 'viewer'],
  ['GET', '/v1/incidents', 'viewer'],
  ['POST', '/v1/alerts/1/ack', 'operator'],
  ['GET', '/v1/silences', 'viewer'],
  ['POST', '/v1/silences', 'operator', window],
  ['DELETE', '/v1/silences/999', 'operator'],
  ['GET', '/v1/maintenance', 'viewer'],
  ['POST', '/v1/maintenance', 'admin', window],
  ['DELETE', '/v1/maintenance/999', 'admin'],
  ['POST', '/v1/rules/reload', 'admin'],
  ['GET', '/v1/audit', 'admin'],
  ['GET', '/api/v1/tokens/use', 'operator']
]

const SECRETS = [...Object.values(TOK), 'smtp-secret-password', 'agent-secret-token']

function clean (t: { notMatch: (a: string, b: RegExp, m: string) => void }, what: string, body: string): void {
  t.notMatch(body, /\n\s+at |node_modules|\/work\/|\.ts:\d+/, `${what}: no stack trace or source path`)
  for (const s of SECRETS) t.notMatch(body, new RegExp(s), `${what}: no secret`)
}

t.test('every route: 401 without or with a wrong token, 403 below its role, allowed at or above it', async t => {
  const c = await app(t)
  for (const [method, url, need, body] of ROUTES) {
    const send = async (token?: string) => await c.app.inject({ method, url, ...(token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {}), ...(body !== undefined ? { payload: body as object } : {}) })
    for (const [label, token] of [['no token', undefined], ['wrong token', 'not-a-token'], ['agent token', 'agent-secret-token']] as const) {
      const r = await send(token)
      t.equal(r.statusCode, 401, `${method} ${url} with ${label}: 401`)
      t.equal(r.json().code, 'E_AUTH')
      clean(t, `${method} ${url} ${label}`, r.body)
    }
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      const r = await send(TOK[role])
      if (RANK[role] < RANK[need]) {
        t.equal(r.statusCode, 403, `${method} ${url} as ${role}: 403 (needs ${need})`)
        t.equal(r.json().code, 'E_FORBIDDEN')
      } else {
        t.ok(r.statusCode < 400 || r.statusCode === 404, `${method} ${url} as ${role}: allowed (${r.statusCode})`)
      }
      clean(t, `${method} ${url} ${role}`, r.body)
    }
  }
})

t.test('input validation: malformed bodies and parameters get 400 with a code, and no internals', async t => {
  const c = await app(t)
  const admin = { authorization: `Bearer ${TOK.admin}` }
  const cases: Array<[string, 'POST' | 'DELETE' | 'GET', string, unknown, string?]> = [
    ['not JSON', 'POST', '/v1/silences', '{"name":', 'application/json'],
    ['JSON array', 'POST', '/v1/silences', [1, 2]],
    ['missing match', 'POST', '/v1/silences', { name: 'x', start: window.start, end: window.end }],
    ['end before start', 'POST', '/v1/silences', { ...window, end: '2025-01-01T00:00:00Z' }],
    ['not a date', 'POST', '/v1/silences', { ...window, start: 'yesterday' }],
    ['huge name', 'POST', '/v1/silences', { ...window, name: 'x'.repeat(10_000) }],
    ['bad hours', 'POST', '/v1/maintenance', { ...window, hours: '25:00-26:00' }],
    ['id not a number', 'DELETE', '/v1/silences/abc', undefined],
    ['id negative', 'DELETE', '/v1/maintenance/-1', undefined],
    ['bad incident range', 'GET', '/v1/incidents?from=never', undefined],
    ['prototype pollution', 'POST', '/v1/silences', JSON.parse(`{"name":"p","match":{"__proto__":{"polluted":"1"}},"start":"${window.start}","end":"${window.end}"}`)]
  ]
  for (const [name, method, url, body, type] of cases) {
    const r = await c.app.inject({
      method, url, headers: { ...admin, ...(type !== undefined ? { 'content-type': type } : {}) },
      ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      ...(body !== undefined && type === undefined ? { headers: { ...admin, 'content-type': 'application/json' } } : {})
    })
    t.equal(r.statusCode, 400, `${name}: 400 (${r.body.slice(0, 120)})`)
    t.equal(r.json().code, 'E_BAD_REQUEST', `${name}: E_BAD_REQUEST, the documented code`)
    clean(t, name, r.body)
  }
  t.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype untouched')
  const big = await c.app.inject({ method: 'POST', url: '/v1/silences', headers: { ...admin, 'content-type': 'application/json' }, payload: JSON.stringify({ ...window, comment: 'x'.repeat(2 * 1024 * 1024) }) })
  t.equal(big.statusCode, 413, 'a 2 MiB body is refused at the body limit')
  t.equal(big.json().code, 'E_TOO_LARGE')
  // Unknown keys in a body are dropped by the schema (Fastify removes additional properties), never stored.
  const extra = await c.app.inject({ method: 'POST', url: '/v1/silences', headers: admin, payload: { ...window, evil: 1 } })
  t.equal(extra.statusCode, 201)
  const listed = (await c.app.inject({ url: '/v1/silences', headers: admin })).json().silences.find((w: { id: number }) => w.id === extra.json().id)
  t.notOk('evil' in listed, 'an unknown key is not stored')
  clean(t, '2 MiB body', big.body)
})

t.test('HTML pages carry security headers: the console and the acknowledge page', async t => {
  const c = await app(t)
  for (const url of ['/', '/v1/alerts/1/ack?exp=1&sig=forged']) {
    const r = await c.app.inject(url)
    t.match(r.headers['content-type'], /text\/html/, `${url} is HTML`)
    const csp = String(r.headers['content-security-policy'] ?? '')
    t.match(csp, /default-src 'none'/, `${url}: CSP default-src 'none'`)
    t.match(csp, /frame-ancestors 'none'/, `${url}: cannot be framed (clickjacking)`)
    t.equal(r.headers['x-content-type-options'], 'nosniff', `${url}: nosniff`)
    t.equal(r.headers['x-frame-options'], 'DENY', `${url}: X-Frame-Options DENY for older browsers`)
    t.equal(r.headers['referrer-policy'], 'no-referrer', `${url}: no referrer (the ack link carries a signature)`)
    t.equal(r.headers['cache-control'], 'no-store', `${url}: not cached`)
    clean(t, url, r.body)
  }
  const notFound = await c.app.inject('/nope/../../etc/passwd')
  t.equal(notFound.statusCode, 404)
  clean(t, '404', notFound.body)
})
