// The cluster's PostgreSQL side against a real server: migrations run twice and concurrently
// apply once; the leader lease goes to one node, passes on (epoch + 1) only after it expired by
// the database clock, and a node whose lease lapsed is fenced off in the database itself.

import t from 'tap'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { startPostgres } from '../helpers/postgres.js'
import { makePool } from '../../collector/cluster/pg.js'
import { MIGRATIONS, migrate } from '../../collector/cluster/schema.js'
import { acquire, recordRun, stillHeld } from '../../collector/cluster/lease.js'
import { Cluster } from '../../collector/cluster/index.js'
import { AgentLeases } from '../../collector/cluster/agent-leases.js'
import { checkCluster } from '../../collector/config/cluster.js'

const quiet = pino({ level: 'silent' })

t.test('cluster on a real PostgreSQL', async t => {
  const pg = await startPostgres(t)
  const env = { KANSHI_PG_PASSWORD: pg.password }
  const config = (node: string) => checkCluster('/c.yaml', { node, postgres: { url: pg.url, passwordEnv: 'KANSHI_PG_PASSWORD', ssl: 'disable', connectTimeout: 2000, statementTimeout: 2000, poolSize: 2 }, lease: 1500, heartbeat: 500, receivers: [] }, p => p, env, undefined)!
  const pools = [0, 1, 2].map(() => makePool(config('x').postgres, () => {}))
  t.teardown(async () => { for (const p of pools) await p.end() })

  await t.test('migrations: three at once apply each version once; a second run applies none', async t => {
    const runs = await Promise.all(pools.map(async p => await migrate(p)))
    t.same(runs.flat().sort(), MIGRATIONS.map((_, i) => i + 1), 'every version applied by exactly one of the three')
    t.same(await migrate(pools[0]!), [], 'nothing left to do')
    const r = await pg.admin.query('SELECT count(*)::int AS n FROM kanshi_schema')
    t.equal(r.rows[0].n, MIGRATIONS.length)
    const tables = await pg.admin.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
    t.same(tables.rows.map(x => x.table_name), ['agent_sessions', 'alert_series', 'alert_windows', 'api_token_use', 'audit_cursor', 'audit_log', 'cluster_jobs', 'console_sessions', 'degraded_origins', 'incident_notices', 'incidents', 'kanshi_meta', 'kanshi_schema', 'leases', 'node_down', 'nodes', 'outbox', 'report_runs'])
  })

  await t.test('lease: one holder; renewals keep the epoch; expiry by the database clock hands it on with epoch + 1', async t => {
    const [a, b] = pools as [typeof pools[0], typeof pools[0]]
    const first = await acquire(a, 'l1', 'n1', 600)
    t.ok(first !== undefined && first.epoch === 1, 'n1 takes a fresh lease at epoch 1')
    t.equal(await acquire(b, 'l1', 'n2', 600), undefined, 'n2 is refused while n1 holds it')
    const renewed = await acquire(a, 'l1', 'n1', 600)
    t.equal(renewed?.epoch, 1, 'a renewal keeps the epoch')
    t.ok(renewed!.remainingMs > 400 && renewed!.remainingMs <= 600, `remaining ${renewed!.remainingMs} ms by the database clock`)
    // Shift the row's expiry into the past in the database: no node's clock is involved.
    await pg.admin.query("UPDATE leases SET expires_at = now() - interval '1 second' WHERE name = 'l1'")
    t.notOk(await stillHeld(a, 'l1', 'n1', 1), 'n1 no longer holds it once expired')
    const taken = await acquire(b, 'l1', 'n2', 600)
    t.equal(taken?.epoch, 2, 'n2 takes it at epoch 2')
    t.equal(await acquire(a, 'l1', 'n1', 600), undefined, 'n1 cannot take it back')
  })

  await t.test('two nodes: one leader; the survivor leads after the lease; the old one is fenced off', async t => {
    const c1 = new Cluster({ config: config('c1'), version: 'test', address: () => '127.0.0.1:1', sessions: () => [{ agent: 'web01', connectedAt: Date.now() }], logger: quiet, registry: new Registry() })
    const c2 = new Cluster({ config: config('c2'), version: 'test', address: () => '127.0.0.1:2', sessions: () => [], logger: quiet })
    t.teardown(async () => { await c2.stop(); await c1.stop() })
    await c1.tick()
    await c2.tick()
    t.ok(c1.isLeader(), 'c1 came first and leads')
    t.notOk(c2.isLeader(), 'c2 does not')
    t.equal(c2.status().leader, 'c1', 'c2 knows who leads')
    const e1 = c1.epoch()!
    const w = c2.hostDown('web01')
    t.equal(w.judge, false, 'c2 may not judge web01 down: c1 has it')
    t.ok(w.lastSeen !== undefined && Math.abs(Date.now() - w.lastSeen) < 1000, 'and knows web01 was heard just now')
    t.equal(c1.hostDown('web01').judge, true, 'the leader may judge an agent that is on itself or nowhere')
    t.same(c2.status().nodes.map(n => [n.node, n.live, n.agents]), [['c1', true, 1], ['c2', true, 0]])
    t.ok(await c1.claim('job', 1000), 'the leader claims a due time')
    t.notOk(await c1.claim('job', 1000), 'the same due time is not run twice')
    // c1 stops beating (a paused process); after the lease c2 takes over.
    await new Promise(resolve => setTimeout(resolve, 1600))
    t.notOk(c1.isLeader(), 'c1 stops leading by its own deadline, without asking the database')
    await c2.tick()
    t.ok(c2.isLeader(), 'c2 leads')
    t.ok(c2.epoch()! > e1, `epoch went up: ${e1} → ${c2.epoch()!}`)
    t.notOk(await recordRun(pools[0]!, 'c1', e1, 'job', 2000), 'a run written with the old epoch is refused by the database')
    t.ok(await c2.claim('job', 2000))
    const runs = await pg.admin.query("SELECT node, epoch::int FROM cluster_jobs WHERE job = 'job' ORDER BY due_at")
    t.same(runs.rows, [{ node: 'c1', epoch: e1 }, { node: 'c2', epoch: c2.epoch() }], 'one run per due time, each by the leader of its epoch')
  })

  await t.test('agent leases: many in one statement; a peer is refused until they lapse; a move is a new epoch', async t => {
    const a = new AgentLeases({ pool: pools[0]!, node: 'n1', leaseMs: 800 })
    const b = new AgentLeases({ pool: pools[1]!, node: 'n2', leaseMs: 800 })
    const taken: string[] = []
    a.onTaken = (x, e) => { taken.push(`n1 ${x} ${e}`) }
    b.onTaken = (x, e) => { taken.push(`n2 ${x} ${e}`) }
    const xs = ['x1', 'x2', 'x3']
    await a.renew(xs)
    t.same(a.holds().sort(), xs, 'n1 holds the three')
    t.same(taken.sort(), xs.map(x => `n1 ${x} 1`), 'each newly taken once, at epoch 1')
    await a.renew(xs)
    t.equal(taken.length, 3, 'a renewal is not a take')
    t.notOk(await b.take('x2'), 'n2 is refused while n1 holds x2')
    t.equal(b.epochOf('agent:x2'), undefined)
    await a.renew(['x1', 'x3']) // x2's session left n1: its lease is not renewed
    t.same(a.holds().sort(), ['x1', 'x3'])
    await new Promise(resolve => setTimeout(resolve, 900))
    t.ok(await b.take('x2'), 'n2 takes x2 once it lapsed by the database clock')
    t.equal(b.epochOf('agent:x2'), 2, 'at a new epoch')
    t.equal(taken.at(-1), 'n2 x2 2', 'and adopts it')
    t.equal(a.epochOf('agent:x2'), undefined, 'n1 does not think it holds x2')
  })

  await t.test('a connection the server ends while checked out: counted, no crash, not reused', async t => {
    // PostgreSQL stopped or restarted (57P01) between two statements of a transaction: pg's client then emits
    // 'error' with nobody listening while it is checked out, which ended a collector's process in a CI run.
    const errors: string[] = []
    const pool = makePool(config('x').postgres, err => { errors.push((err as { code?: string }).code ?? err.message) })
    t.teardown(async () => { await pool.end() })
    const c = await pool.connect()
    const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    await pg.admin.query('SELECT pg_terminate_backend($1)', [pid])
    for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
    t.equal(errors[0], '57P01', 'the error reached the pool\'s handler (an unhandled one ends the process)')
    await t.rejects(c.query('SELECT 1'), 'the ended connection refuses statements')
    c.release(true)
    t.equal((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one, 1, 'the pool goes on with a new connection')
  })

  await t.test('PostgreSQL not there at start: no leader, the reason kept, no password in it', async t => {
    const { freePort } = await import('../helpers/procs.js')
    const dead = checkCluster('/c.yaml', { node: 'c9', postgres: { url: `postgres://kanshi@127.0.0.1:${await freePort()}/kanshi`, passwordEnv: 'KANSHI_PG_PASSWORD', ssl: 'disable', connectTimeout: 500, statementTimeout: 500, poolSize: 1 }, lease: 1500, heartbeat: 500, receivers: [] }, p => p, env, undefined)!
    const c = new Cluster({ config: dead, version: 'test', address: () => 'x', sessions: () => [], logger: quiet })
    t.teardown(async () => { await c.stop() })
    await c.tick()
    const s = c.status()
    t.same([s.pgUp, s.leader, s.epoch, c.isLeader(), c.hostDown('web01').judge], [false, undefined, undefined, false, false], 'nothing leads, nobody judges')
    t.match(s.pgError, /ECONNREFUSED/)
    t.notMatch(JSON.stringify(s), pg.password)
    t.notOk(await c.claim('job', 1), 'no job can be claimed')
  })
})
