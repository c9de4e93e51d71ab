// API tokens' last use: many uses in a minute make one write per token (a real file; a real
// PostgreSQL shared by two nodes, the newer use winning); a failed write keeps the uses for the
// next; GET /api/v1/tokens/use through the real app, operators only.

import t from 'tap'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { FileTokenUse, TokenUse } from '../../collector/api/token-use.js'
import { migrate } from '../../collector/cluster/schema.js'
import { PgTokenUse } from '../../collector/cluster/token-use-pg.js'
import { NullSink } from '../../collector/storage/null-sink.js'
import { startCollector } from '../helpers/collector.js'
import { startPostgres } from '../helpers/postgres.js'
import { tmpDir } from '../helpers/tmp.js'

t.test('a file: one write per token per flush; a failed write is kept', async t => {
  const dir = await tmpDir(t)
  let now = 1_700_000_000_000
  const sub = join(dir, 'sub')
  writeFileSync(sub, 'not a directory')
  const use = new TokenUse({ node: 'n1', now: () => now, backend: new FileTokenUse(join(sub, 'token-use.json')) })
  const uses = { grafana: 120, yamada: 3 }
  for (const [name, n] of Object.entries(uses)) for (let i = 0; i < n; i++) { now += 250; use.seen(name) }
  const last = now
  t.equal(await use.flush(), 0, 'the write fails (its directory is a file)')
  t.equal(use.failures, 1)
  t.same((await use.list()).map(r => [r.name, r.lastUsedAt]), [['grafana', last - 3 * 250], ['yamada', last]], 'the uses are kept in memory and listed')
  rmSync(sub)
  mkdirSync(sub)
  t.equal(await use.flush(), Object.keys(uses).length, 'the next flush writes the kept uses: one write per token')
  t.equal(use.writes, 2)
  const file = JSON.parse(readFileSync(join(sub, 'token-use.json'), 'utf8'))
  t.same(file, [{ name: 'grafana', lastUsedAt: last - 3 * 250, node: 'n1' }, { name: 'yamada', lastUsedAt: last, node: 'n1' }])
  t.equal(await use.flush(), 0, 'nothing new: no write')
  now += 60_000
  use.seen('grafana')
  t.same((await use.list()).find(r => r.name === 'grafana')?.lastUsedAt, now, 'a use not yet written is listed')
  await use.stop()
  t.equal(use.writes, 3, 'stop writes what is left')
})

t.test('PostgreSQL: two nodes, the newest use wins', async t => {
  const db = await startPostgres(t)
  const pool = new pg.Pool({ host: '127.0.0.1', port: db.port, user: 'kanshi', database: 'kanshi', password: db.password, max: 2 })
  t.teardown(async () => { await pool.end() })
  await migrate(pool)
  let now = 1_700_000_000_000
  const c1 = new TokenUse({ node: 'c1', now: () => now, backend: new PgTokenUse(pool) })
  const c2 = new TokenUse({ node: 'c2', now: () => now, backend: new PgTokenUse(pool) })
  c1.seen('grafana')
  now += 1000
  c2.seen('grafana')
  c2.seen('yamada')
  await c2.flush()
  await c1.flush() // older: must not replace c2's
  t.same(await c1.list(), [{ name: 'grafana', lastUsedAt: now, node: 'c2' }, { name: 'yamada', lastUsedAt: now, node: 'c2' }])
  now += 1000
  c1.seen('yamada')
  await c1.flush()
  t.same((await pool.query('SELECT name, last_used_at, node FROM api_token_use ORDER BY name')).rows, [
    { name: 'grafana', last_used_at: String(now - 1000), node: 'c2' },
    { name: 'yamada', last_used_at: String(now), node: 'c1' }
  ])
})

t.test('GET /api/v1/tokens/use', async t => {
  let now = 1_700_000_000_000
  const tok = (name: string, role: string) => ({ name, role, tokenSha256: createHash('sha256').update(`${name}-token`).digest('hex') })
  const col = await startCollector(t, {
    listen: false,
    backend: new NullSink(),
    build: { now: () => now },
    config: { api: { tokens: [tok('viewer1', 'viewer'), tok('ops', 'operator'), tok('never', 'admin')] } }
  })
  const get = async (name: string) => await col.c.app.inject({ url: '/api/v1/tokens/use', headers: { authorization: `Bearer ${name}-token` } })
  await col.c.app.inject({ url: '/api/v1/agents', headers: { authorization: 'Bearer viewer1-token' } })
  const seenAt = now
  t.equal((await get('viewer1')).statusCode, 403, 'a viewer may not see it')
  now += 5000
  const r = await get('ops')
  t.equal(r.statusCode, 200)
  const node = r.json().tokens[1].node
  t.same(r.json(), { tokens: [
    { name: 'never', role: 'admin', lastUsedAt: null, node: null },
    { name: 'ops', role: 'operator', lastUsedAt: now, node },
    { name: 'viewer1', role: 'viewer', lastUsedAt: seenAt, node }
  ] }, 'a token never used: null; the refused viewer request counted as a use too (its token was valid)')
  t.equal(typeof node, 'string')
  t.notMatch(r.body, /-token/, 'no token in the reply')
  await col.c.tokenUse.flush()
  t.same(JSON.parse(readFileSync(join(col.dataDir, 'token-use.json'), 'utf8')).map((x: { name: string }) => x.name), ['ops', 'viewer1'])
})
