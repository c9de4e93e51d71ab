// The cluster's shared audit chain on a real PostgreSQL: two nodes' audit.db copied into one
// chain (concurrent copies serialised), each record naming its node; PostgreSQL stopped, the
// records wait in audit.db and are counted, then copied; edits, gaps and a cut tail detected.

import t, { type Test } from 'tap'
import pg from 'pg'
import pino from 'pino'
import { Registry } from 'prom-client'
import { AuditLog } from '../../collector/audit/log.js'
import { AuditShipper, crossCheckAudit, sharedAuditHash, verifySharedAudit } from '../../collector/cluster/audit-pg.js'
import { migrate } from '../../collector/cluster/schema.js'
import { startPostgres } from '../helpers/postgres.js'
import { tmpDir } from '../helpers/tmp.js'
import { writeConfig } from '../helpers/config.js'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

/** database starts a private PostgreSQL with kanshi's schema and a pool on it. */
async function database (t: Test): Promise<{ db: Awaited<ReturnType<typeof startPostgres>>, pool: pg.Pool }> {
  const db = await startPostgres(t)
  const pool = new pg.Pool({ host: '127.0.0.1', port: db.port, user: 'kanshi', database: 'kanshi', password: db.password, max: 4, connectionTimeoutMillis: 1000 })
  pool.on('error', () => {})
  t.teardown(async () => { await pool.end() })
  await migrate(pool)
  return { db, pool }
}

t.test('two nodes, one chain', async t => {
  const { db, pool } = await database(t)
  let clock = 1_700_000_000_000
  const node = async (name: string) => {
    const dir = await tmpDir(t)
    const audit = new AuditLog(dir, () => clock++)
    t.teardown(() => { audit.close() })
    const registry = new Registry()
    const ship = new AuditShipper({ pool, node: name, audit, logger: pino({ level: 'silent' }), registry, intervalMs: 60_000, batch: 7 })
    return { audit, ship, registry, dir }
  }
  const c1 = await node('c1')
  const c2 = await node('c2')
  const N = 40
  for (let i = 0; i < N; i++) {
    c1.audit.append('yamada (operator)', 'silence.create', { i, node: 'c1' })
    c2.audit.append('sato (admin)', 'ack', { i, node: 'c2' })
    // Copies racing each other and the appends: the lock keeps one chain.
    if (i % 5 === 0) await Promise.all([c1.ship.ship(), c2.ship.ship(), c1.ship.ship()])
  }
  await Promise.all([c1.ship.ship(), c2.ship.ship()])
  t.same(await verifySharedAudit(pool), { records: 2 * N }, 'one valid chain of both nodes\' records')
  const rows = (await pool.query('SELECT node, local_id, detail FROM audit_log ORDER BY id')).rows
  for (const n of ['c1', 'c2']) {
    const mine = rows.filter(r => r.node === n)
    t.same(mine.map(r => Number(r.local_id)), Array.from({ length: N }, (_, i) => i + 1), `${n}: every local record once, in order`)
    t.same(mine.map(r => JSON.parse(r.detail)), Array.from({ length: N }, (_, i) => ({ i, node: n })), `${n}: each names its node`)
  }
  t.equal(c1.ship.pending, 0)
  t.equal((await c1.registry.getSingleMetric('kanshi_audit_unshared')!.get()).values[0]!.value, 0)

  // PostgreSQL stopped: appends go on locally, counted as waiting; copied when it is back.
  await db.stop()
  const M = 9
  for (let i = 0; i < M; i++) c1.audit.append('yamada (operator)', 'maintenance.create', { during: 'outage', i })
  await c1.ship.ship()
  t.equal(c1.ship.pending, M, 'the records wait in audit.db, counted')
  t.equal((await c1.registry.getSingleMetric('kanshi_audit_unshared')!.get()).values[0]!.value, M)
  t.same(c1.audit.verify(), { file: c1.audit.file, records: N + M }, 'the local chain has them all')
  await db.start()
  await c1.ship.ship()
  t.equal(c1.ship.pending, 0)
  t.equal(c1.ship.late, M, 'copied late, and counted as such')
  const late = (await c1.registry.getSingleMetric('kanshi_audit_shared_total')!.get()).values.find(v => v.labels['late'] === 'true')
  t.equal(late?.value, M)
  t.same(await verifySharedAudit(pool), { records: 2 * N + M })

  // Append-only by trigger; the owner of the database can still tamper, and verify finds it.
  await t.rejects(pool.query("UPDATE audit_log SET actor = 'x' WHERE id = 3"), /append-only/)
  await t.rejects(pool.query('DELETE FROM audit_log WHERE id = 3'), /append-only/)
  await t.rejects(pool.query('TRUNCATE audit_log'), /append-only/)
  const tamper = async (sql: string): Promise<void> => {
    await db.admin.query(`BEGIN; ALTER TABLE audit_log DISABLE TRIGGER USER; ${sql}; ALTER TABLE audit_log ENABLE TRIGGER USER; COMMIT`)
  }
  const total = 2 * N + M
  const snapshot = (await db.admin.query('SELECT * FROM audit_log ORDER BY id')).rows
  const restore = async (): Promise<void> => {
    await tamper('DELETE FROM audit_log')
    for (const r of snapshot) await db.admin.query('INSERT INTO audit_log (id, node, local_id, at, actor, action, detail, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)', [r.id, r.node, r.local_id, r.at, r.actor, r.action, r.detail, r.prev_hash, r.hash])
    t.same(await verifySharedAudit(pool), { records: total }, 'restored')
  }
  // kanshi-collector audit verify checks the shared chain too when the config has cluster:.
  const cfg = writeConfig(join(c1.dir, 'collector.yaml'), { dataDir: c1.dir, cluster: { node: 'c1', postgres: { url: db.url } } })
  const cli = () => spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'kanshi-collector.js'), 'audit', 'verify', '--config', cfg], { encoding: 'utf8', env: { ...process.env, KANSHI_PG_PASSWORD: db.password } })
  const ok = cli()
  t.equal(ok.status, 0, ok.stderr)
  t.match(ok.stdout, `audit_log (the cluster's shared chain): ${total} records, chain intact`)
  t.match(ok.stdout, `${c1.audit.file}: ${N + M} records, chain intact`, 'and the local audit.db')
  t.match(ok.stdout, `${c1.audit.file} against node c1's records in the shared chain (generation 0): ${N + M} records identical, 0 not copied yet`, 'and one against the other')
  await tamper("UPDATE audit_log SET actor = 'someone else' WHERE id = 17")
  t.same(await verifySharedAudit(pool), { records: 16, broken: { id: 17, reason: 'its content does not match its hash (the record was edited)' } }, 'an edit')
  const bad = cli()
  t.equal(bad.status, 1)
  t.match(bad.stderr, 'audit_log (the cluster\'s shared chain): audit record 17 is broken: its content does not match its hash')
  t.notMatch(bad.stderr + bad.stdout, db.password, 'no password in the output')
  await restore()
  await tamper("UPDATE audit_log SET node = 'c3' WHERE id = 18")
  t.equal((await verifySharedAudit(pool)).broken?.id, 18, 'the node name is inside the hash')
  await restore()
  await tamper('DELETE FROM audit_log WHERE id = 30')
  t.same(await verifySharedAudit(pool), { records: 29, broken: { id: 31, reason: 'records 30..30 are missing' } }, 'a gap')
  await restore()
  await tamper(`DELETE FROM audit_log WHERE id > ${total - 2}`)
  t.same(await verifySharedAudit(pool), { records: total - 2, broken: { id: total - 1, reason: `records ${total - 1}..${total} at the end are missing (node c1 copied up to ${total})` } }, 'a cut tail')
})

// A node whose data directory is lost comes back with a new audit.db (ids from 1 again): its
// records go in as a new generation, none hidden behind the old cursor; `audit verify` compares
// audit.db with the shared chain record by record, so a chain rewritten whole on one side shows.
t.test('a new audit.db on the same node, and the cross-check', async t => {
  const { db, pool } = await database(t)
  let clock = 1_700_000_000_000
  const open = async (dir: string) => {
    const audit = new AuditLog(dir, () => clock++)
    t.teardown(() => { audit.close() })
    const registry = new Registry()
    return { audit, registry, ship: new AuditShipper({ pool, node: 'c1', audit, logger: pino({ level: 'silent' }), registry, intervalMs: 60_000, batch: 4 }) }
  }
  const first = await open(await tmpDir(t))
  const N = 10
  for (let i = 0; i < N; i++) first.audit.append('yamada (operator)', 'ack', { i, life: 1 })
  await first.ship.ship()
  t.same(await crossCheckAudit(pool, 'c1', first.audit), { node: 'c1', generation: 0, matched: N, notCopied: 0, earlier: 0 })

  // The disk is replaced: a fresh data directory, the same node name, fewer records than before at first.
  const dir2 = await tmpDir(t)
  const second = await open(dir2)
  const K = 3
  for (let i = 0; i < K; i++) second.audit.append('sato (admin)', 'silence.create', { i, life: 2 })
  await second.ship.ship()
  const rows = async () => (await pool.query('SELECT gen, local_id, detail FROM audit_log WHERE node = $1 ORDER BY id', ['c1'])).rows.map(r => [r.gen, Number(r.local_id), JSON.parse(r.detail).life])
  t.same(await rows(), [
    ...Array.from({ length: N }, (_, i) => [0, i + 1, 1]),
    ...Array.from({ length: K }, (_, i) => [1, i + 1, 2])
  ], 'the new log\'s records 1..3 are copied as generation 1; the old ones stay')
  t.equal((await second.registry.getSingleMetric('kanshi_audit_generations_total')!.get()).values[0]!.value, 1, 'counted')
  // Past the old log's length too (a stale cursor would have copied only these, as if they followed the old log).
  for (let i = K; i < N + 4; i++) second.audit.append('sato (admin)', 'silence.create', { i, life: 2 })
  await second.ship.ship()
  t.equal((await rows()).filter(r => r[0] === 1).length, N + 4, 'every record of the new log, once')
  t.same(await verifySharedAudit(pool), { records: N + N + 4 }, 'one intact chain across the generations')
  t.same(await crossCheckAudit(pool, 'c1', second.audit), { node: 'c1', generation: 1, matched: N + 4, notCopied: 0, earlier: N })
  second.audit.append('sato (admin)', 'ack', { pending: true })
  t.equal((await crossCheckAudit(pool, 'c1', second.audit)).notCopied, 1, 'a record not copied yet is not a problem')

  // Someone rewrites the shared chain whole (hashes and cursor recomputed): the chain alone looks intact.
  const all = (await db.admin.query('SELECT * FROM audit_log ORDER BY id')).rows
  const victim = all.find(r => r.gen === 1 && Number(r.local_id) === 2)!
  let prev = ''
  const rewritten = all.map(r => {
    const detail = r === victim ? JSON.stringify({ i: 1, life: 2, forged: true }) : r.detail
    const hash = sharedAuditHash(prev, r.node, r.local_id, r.at, r.actor, r.action, detail, r.gen)
    const row = { ...r, detail, prev_hash: prev, hash }
    prev = hash
    return row
  })
  const c = await db.admin.connect()
  await c.query('BEGIN; ALTER TABLE audit_log DISABLE TRIGGER USER; DELETE FROM audit_log')
  for (const r of rewritten) await c.query('INSERT INTO audit_log (id, node, local_id, at, actor, action, detail, prev_hash, hash, gen) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)', [r.id, r.node, r.local_id, r.at, r.actor, r.action, r.detail, r.prev_hash, r.hash, r.gen])
  await c.query('ALTER TABLE audit_log ENABLE TRIGGER USER')
  await c.query('UPDATE audit_cursor SET hash = $1', [prev])
  await c.query('COMMIT')
  c.release()
  t.same(await verifySharedAudit(pool), { records: N + N + 4 }, 'the rewritten chain verifies on its own')
  const x = await crossCheckAudit(pool, 'c1', second.audit)
  t.same(x.problem, { localId: 2, reason: 'differs between audit.db and the shared chain (edited on one side)' }, 'audit.db shows the forged record')
  const cfg = writeConfig(join(dir2, 'collector.yaml'), { dataDir: dir2, cluster: { node: 'c1', postgres: { url: db.url } } })
  second.audit.close()
  const cli = spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'kanshi-collector.js'), 'audit', 'verify', '--config', cfg], { encoding: 'utf8', env: { ...process.env, KANSHI_PG_PASSWORD: db.password } })
  t.equal(cli.status, 1, 'audit verify fails')
  t.match(cli.stderr, 'against node c1\'s records in the shared chain (generation 1): local record 2 differs between audit.db and the shared chain')
})
