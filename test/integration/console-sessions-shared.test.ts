// The console's sessions behind one interface: the same contract run against the in-memory
// store of one collector and the PostgreSQL one of a cluster (a private PostgreSQL, the clock
// driven by the test); then two in-process collectors on one PostgreSQL: a login on c1 works
// on c2, a logout on c2 ends it on c1.

import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import pg from 'pg'
import { MIGRATIONS, migrate } from '../../collector/cluster/schema.js'
import { PgSessions } from '../../collector/cluster/console-sessions-pg.js'
import { CONSOLE_DEFAULTS, MemorySessions, SessionStore, type ConsoleLimits, type SessionBackend } from '../../collector/console/sessions.js'
import { startCollector } from '../helpers/collector.js'
import { startPostgres, type Postgres } from '../helpers/postgres.js'
import { waitFor } from '../helpers/procs.js'

type Make = (now: () => number, limits: Readonly<ConsoleLimits>) => Promise<SessionBackend>
const H = 3_600_000

function contract (t: Test, name: string, make: Make): void {
  t.test(`${name}: both expiries, with the injected clock`, async t => {
    let now = 1_700_000_000_000
    const s = await make(() => now, CONSOLE_DEFAULTS)
    const a = await s.create('yamada', 'operator')
    t.ok(a.id.length >= 43 && a.csrf.length >= 43 && a.id !== a.csrf, '256-bit random id and CSRF token')
    const got = await s.get(a.id)
    t.same(got, { id: a.id, name: 'yamada', role: 'operator', csrf: a.csrf, createdAt: now, lastUsed: now }, 'read back as created')
    now += CONSOLE_DEFAULTS.sessionIdleMs - 1
    t.equal((await s.get(a.id))?.lastUsed, now, 'alive just under the idle limit, and the request renews it')
    now += CONSOLE_DEFAULTS.sessionIdleMs
    t.ok(await s.get(a.id), 'alive at exactly the idle limit')
    now += CONSOLE_DEFAULTS.sessionIdleMs + 1
    t.equal(await s.get(a.id), undefined, 'idle past the limit by 1 ms')
    now -= CONSOLE_DEFAULTS.sessionIdleMs
    t.equal(await s.get(a.id), undefined, 'and removed: not alive again when asked earlier')
    const b = await s.create('sato', 'viewer')
    const created = now
    while (now - created + CONSOLE_DEFAULTS.sessionIdleMs / 2 <= CONSOLE_DEFAULTS.sessionMaxMs) {
      now += CONSOLE_DEFAULTS.sessionIdleMs / 2
      t.ok(await s.get(b.id), `used ${(now - created) / H} h after login`)
    }
    now = created + CONSOLE_DEFAULTS.sessionMaxMs + 1
    t.equal(await s.get(b.id), undefined, 'used all along, but past the absolute limit')
    t.equal(await s.get(undefined), undefined)
    t.equal(await s.get('nope'), undefined)
    t.equal(s.maxAgeS, CONSOLE_DEFAULTS.sessionMaxMs / 1000)
  })

  t.test(`${name}: logout and the bound`, async t => {
    let now = 1_700_000_000_000
    const limits = { ...CONSOLE_DEFAULTS, maxSessions: 3 }
    const s = await make(() => now, limits)
    const first = await s.create('a', 'viewer')
    const rest = []
    for (let i = 0; i < 3; i++) { now += 1; rest.push(await s.create(`b${i}`, 'viewer')) }
    t.equal(await s.get(first.id), undefined, 'the oldest went first')
    for (const r of rest) t.equal((await s.get(r.id))?.name, r.name, `${r.name} kept`)
    await s.delete(rest[0]!.id)
    t.equal(await s.get(rest[0]!.id), undefined, 'logged out')
    t.equal((await s.get(rest[1]!.id))?.name, 'b1', 'the others stay')

    const e = await make(() => now, { ...CONSOLE_DEFAULTS, maxSessions: 2 })
    const live = await e.create('live', 'viewer')
    now += 1
    const idle = await e.create('idle', 'viewer')
    now += CONSOLE_DEFAULTS.sessionIdleMs - 10
    await e.get(live.id)
    now += 20
    await e.create('new', 'viewer')
    t.equal((await e.get(live.id))?.name, 'live', 'an expired session makes room before a live one is dropped')
    t.equal(await e.get(idle.id), undefined)
  })
}

contract(t, 'memory', async (now, limits) => new MemorySessions(new SessionStore(now, limits)))

t.test('postgres', async t => {
  const db: Postgres = await startPostgres(t)
  const pool = new pg.Pool({ host: '127.0.0.1', port: db.port, user: 'kanshi', database: 'kanshi', password: db.password, max: 4 })
  t.teardown(async () => { await pool.end() })
  t.same(await migrate(pool), MIGRATIONS.map((_, i) => i + 1), 'every migration applies in order (4: console_sessions)')
  let n = 0
  const made: PgSessions[] = []
  contract(t, 'postgres', async (now, limits) => {
    await pool.query('TRUNCATE console_sessions')
    const s = new PgSessions({ pool, node: `c${++n}`, now, limits, ready: async () => { await migrate(pool) } })
    made.push(s)
    return s
  })

  t.test('postgres: only a hash of the id is stored; two nodes see one session', async t => {
    await pool.query('TRUNCATE console_sessions')
    let now = 1_700_000_000_000
    const c1 = new PgSessions({ pool, node: 'c1', now: () => now })
    const c2 = new PgSessions({ pool, node: 'c2', now: () => now })
    const s = await c1.create('yamada', 'admin')
    const rows = (await db.admin.query('SELECT * FROM console_sessions')).rows
    t.equal(rows.length, 1)
    t.equal(rows[0].id_sha256, createHash('sha256').update(s.id).digest('hex'))
    t.equal(rows[0].node, 'c1', 'the node that logged in is recorded')
    t.notMatch(JSON.stringify(rows), s.id, 'the session id itself is nowhere in the table')
    now += 1000
    t.equal((await c2.get(s.id))?.name, 'yamada', 'known on c2')
    // c1's clock behind c2's: a use through c1 does not move the last use back.
    now -= 500
    await c1.get(s.id)
    t.equal(Number((await db.admin.query('SELECT last_used FROM console_sessions')).rows[0].last_used), now + 500)
    await c2.delete(s.id)
    t.equal(await c1.get(s.id), undefined, 'logged out on c2: gone on c1')
    t.equal(await c1.size(), 0)
  })
})

t.test('two collectors on one PostgreSQL share the console login', async t => {
  const db = await startPostgres(t)
  const TOKEN = 'operator-token-shared-sessions'
  const ADMIN = 'admin-token-shared-sessions'
  const col = async (node: string) => await startCollector(t, {
    listen: false,
    env: { KANSHI_PG_PASSWORD: db.password },
    config: {
      influx: { embedded: { enabled: false } },
      api: { tokens: [{ name: 'yamada', tokenSha256: createHash('sha256').update(TOKEN).digest('hex'), role: 'operator' }, { name: 'root', tokenSha256: createHash('sha256').update(ADMIN).digest('hex'), role: 'admin' }] },
      cluster: { node, postgres: { url: db.url, connectTimeout: '1s', statementTimeout: '2s' }, lease: '3s', heartbeat: '1s' }
    }
  })
  const c1 = await col('c1')
  const c2 = await col('c2')
  const origin = { origin: 'http://localhost:80' }
  const login = await c1.c.app.inject({ method: 'POST', url: '/console/login', payload: { token: TOKEN }, headers: origin })
  t.equal(login.statusCode, 200)
  const cookie = String(login.headers['set-cookie']).split(';')[0]!
  const csrf = login.json().csrf as string
  const me = await c2.c.app.inject({ url: '/console/session', headers: { cookie } })
  t.equal(me.statusCode, 200, 'the cookie from c1 works on c2')
  t.same(me.json(), { name: 'yamada', role: 'operator', csrf, alerting: false })
  t.equal((await c2.c.app.inject({ url: '/console/state', headers: { cookie } })).statusCode, 200)
  t.equal((await c2.c.app.inject({ url: '/api/v1/agents', headers: { cookie } })).statusCode, 200, 'and on the REST API of c2')
  const ready = await c2.c.app.inject({ url: '/readyz', headers: { cookie } })
  t.ok('walBytes' in ready.json(), '/readyz on c2 shows the details to the session')
  const noCsrf = await c2.c.app.inject({ method: 'POST', url: '/console/logout', headers: { cookie, ...origin } })
  t.equal(noCsrf.statusCode, 403, 'the CSRF token is still required on c2')
  const out = await c2.c.app.inject({ method: 'POST', url: '/console/logout', headers: { cookie, ...origin, 'x-csrf-token': csrf } })
  t.equal(out.statusCode, 204, 'logged out on c2')
  t.equal((await c1.c.app.inject({ url: '/console/session', headers: { cookie } })).statusCode, 401, 'and so on c1')
  t.equal((await c1.c.app.inject({ url: '/api/v1/agents', headers: { cookie } })).statusCode, 401)

  // The audit log: the login on c1 and the logout on c2 in one shared chain, each naming its node.
  const audit = async () => (await c2.c.app.inject({ url: '/v1/audit', headers: { authorization: `Bearer ${ADMIN}` } })).json()
  await waitFor(async () => (await audit()).cluster?.entries?.some((e: { action: string }) => e.action === 'console.logout'), 10_000, 100)
  const shared = (await audit()).cluster
  t.equal(shared.brokenAt, null, 'the shared chain verifies')
  t.equal(shared.unshared, 0)
  const mine = shared.entries.filter((e: { action: string }) => e.action.startsWith('console.')).map((e: { node: string, action: string, actor: string }) => [e.node, e.action, e.actor])
  t.same(mine, [['c2', 'console.logout', 'yamada (operator)'], ['c1', 'console.login', 'yamada (operator)']], 'newest first, each from its node')
  t.equal(shared.records, (await db.admin.query('SELECT count(*)::int AS n FROM audit_log')).rows[0].n)

  // API tokens' last use: the admin token used on c2 only, written by c2, listed by c1.
  t.equal(await c2.c.tokenUse.flush(), 1, 'c2 saw only the admin token (yamada came through the session)')
  const uses = (await c1.c.app.inject({ url: '/api/v1/tokens/use', headers: { authorization: `Bearer ${TOKEN}` } })).json().tokens
  t.same(uses.find((u: { name: string }) => u.name === 'root')?.node, 'c2', 'c1 lists the use c2 recorded')
  t.same(uses.find((u: { name: string }) => u.name === 'yamada')?.node, 'c1', 'and its own: the console login and this request')

  // PostgreSQL gone: a node goes on with the sessions it has seen; a login there is local and written
  // when PostgreSQL returns, and so is a logout.
  const again = await c1.c.app.inject({ method: 'POST', url: '/console/login', payload: { token: TOKEN }, headers: origin })
  const cookie2 = String(again.headers['set-cookie']).split(';')[0]!
  const csrf2 = again.json().csrf as string
  await db.stop()
  t.equal((await c1.c.app.inject({ url: '/console/session', headers: { cookie: cookie2 } })).statusCode, 200, 'c1 knows the session it made')
  t.equal((await c1.c.app.inject({ url: '/console/state', headers: { cookie: cookie2 } })).statusCode, 200, 'and the console keeps working there')
  t.equal((await c2.c.app.inject({ url: '/console/session', headers: { cookie: cookie2 } })).statusCode, 401, 'c2 never saw it: log in again there')
  t.equal((await c2.c.app.inject({ url: '/api/v1/agents', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200, 'a bearer token needs no database')
  const rz = await c2.c.app.inject({ url: '/readyz', headers: { cookie: cookie2 } })
  t.ok([200, 503].includes(rz.statusCode) && typeof rz.json().status === 'string', `/readyz with a session cookie still answers (${rz.statusCode})`)
  const local = await c2.c.app.inject({ method: 'POST', url: '/console/login', payload: { token: TOKEN }, headers: origin })
  t.equal(local.statusCode, 200, 'a login on c2 while PostgreSQL is down')
  const cookie3 = String(local.headers['set-cookie']).split(';')[0]!
  t.equal((await c2.c.app.inject({ url: '/console/session', headers: { cookie: cookie3 } })).statusCode, 200)
  t.equal((await c1.c.app.inject({ method: 'POST', url: '/console/logout', headers: { cookie: cookie2, ...origin, 'x-csrf-token': csrf2 } })).statusCode, 204, 'a logout on c1 while PostgreSQL is down')
  t.equal((await c1.c.app.inject({ url: '/console/session', headers: { cookie: cookie2 } })).statusCode, 401, 'ended on c1 at once')
  await db.start()
  // Each node writes what it kept on its next console request.
  t.equal((await c2.c.app.inject({ url: '/console/session', headers: { cookie: cookie3 } })).statusCode, 200)
  t.equal((await c1.c.app.inject({ url: '/console/session', headers: { cookie: cookie3 } })).statusCode, 200, 'the login made on c2 during the outage works on c1 now')
  t.equal((await c2.c.app.inject({ url: '/console/session', headers: { cookie: cookie2 } })).statusCode, 401, 'the logout made on c1 during the outage holds on c2')
  const rows = (await db.admin.query('SELECT id_sha256 FROM console_sessions')).rows.map(r => r.id_sha256)
  t.same(rows, [createHash('sha256').update(cookie3.split('=')[1]!).digest('hex')], 'one session left in PostgreSQL: the one made during the outage')
})
