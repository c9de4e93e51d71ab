// The cluster's shared audit chain on a real PostgreSQL: two nodes' audit.db copied into one
// chain (concurrent copies serialised), each record naming its node; PostgreSQL stopped, the
// records wait in audit.db and are counted, then copied; edits, gaps and a cut tail detected.

import t from 'tap'
import pg from 'pg'
import pino from 'pino'
import { Registry } from 'prom-client'
import { AuditLog } from '../../collector/audit/log.js'
import { AuditShipper, verifySharedAudit } from '../../collector/cluster/audit-pg.js'
import { migrate } from '../../collector/cluster/schema.js'
import { startPostgres } from '../helpers/postgres.js'
import { tmpDir } from '../helpers/tmp.js'
import { writeConfig } from '../helpers/config.js'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

t.test('two nodes, one chain', async t => {
  const db = await startPostgres(t)
  const pool = new pg.Pool({ host: '127.0.0.1', port: db.port, user: 'kanshi', database: 'kanshi', password: db.password, max: 4, connectionTimeoutMillis: 1000 })
  pool.on('error', () => {})
  t.teardown(async () => { await pool.end() })
  await migrate(pool)
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
