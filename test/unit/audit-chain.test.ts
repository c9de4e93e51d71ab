// The one audit log on real SQLite files: every append chained, and verify
// catching an edited record, a gap in the ids and a cut tail (also when the
// tamperer resets sqlite_sequence: the head witness still shows it).

import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AuditLog } from '../../collector/audit/log.js'
import { verifyAudit, verifyChain } from '../../collector/audit/verify.js'
import { SqliteAlertStore } from '../../collector/alerting/store-sqlite.js'
import { auditHash } from '../../collector/audit/chain.js'
import { tmpDir } from '../helpers/tmp.js'

/** fiveRecords writes a log of five records in a new dir, and returns the dir. */
async function fiveRecords (t: Test): Promise<string> {
  const dir = await tmpDir(t)
  let now = 1_000
  const log = new AuditLog(dir, () => now++)
  for (let i = 1; i <= 5; i++) log.append('tester', `act.${i}`, { i })
  log.close()
  return dir
}

/** tamper runs SQL on the closed log with its append-only triggers dropped, as someone with file access could. */
function tamper (dir: string, ...sql: string[]): void {
  const db = new Database(join(dir, 'audit.db'))
  db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;')
  for (const s of sql) db.exec(s)
  db.close()
}

const check = (dir: string): ReturnType<typeof verifyChain> => verifyChain(join(dir, 'audit.db'), join(dir, 'audit.head'))

t.test('an untouched log verifies; the witness names its newest record', async t => {
  const dir = await fiveRecords(t)
  t.same(check(dir), { file: join(dir, 'audit.db'), records: 5 })
  const head = JSON.parse(readFileSync(join(dir, 'audit.head'), 'utf8')) as { id: number, hash: string }
  t.equal(head.id, 5)
  const db = new Database(join(dir, 'audit.db'), { readonly: true })
  t.equal(head.hash, (db.prepare('SELECT hash FROM audit WHERE id = 5').get() as { hash: string }).hash)
  db.close()
  const log = new AuditLog(dir)
  t.throws(() => (log as unknown as { db: Database.Database }).db.prepare('DELETE FROM audit').run(), /append-only/, 'triggers refuse deletes')
  t.equal(log.verify().records, 5, 'AuditLog.verify runs the same check')
  log.close()
})

t.test('an edited record is detected, even with its hash recomputed', async t => {
  const dir = await fiveRecords(t)
  tamper(dir, "UPDATE audit SET actor = 'mallory' WHERE id = 3")
  t.match(check(dir).broken, { id: 3, reason: /does not match its hash/ })
  const again = await fiveRecords(t)
  const db = new Database(join(again, 'audit.db'), { readonly: true })
  const r3 = db.prepare('SELECT * FROM audit WHERE id = 3').get() as { at: number, action: string, detail: string, prev_hash: string }
  db.close()
  tamper(again, `UPDATE audit SET actor = 'mallory', hash = '${auditHash(r3.prev_hash, r3.at, 'mallory', r3.action, r3.detail)}' WHERE id = 3`)
  t.match(check(again).broken, { id: 4, reason: /prev_hash does not match/ }, 'a rehashed record breaks its successor')
})

t.test('a gap in the ids is detected', async t => {
  const dir = await fiveRecords(t)
  tamper(dir, 'DELETE FROM audit WHERE id = 2')
  t.match(check(dir).broken, { id: 3, reason: /records 2\.\.2 are missing/ })
})

t.test('a cut tail is detected, also when sqlite_sequence is reset to hide it', async t => {
  const dir = await fiveRecords(t)
  tamper(dir, 'DELETE FROM audit WHERE id >= 4')
  t.match(check(dir).broken, { id: 4, reason: /records 4\.\.5 at the end are missing/ })
  const hidden = await fiveRecords(t)
  tamper(hidden, 'DELETE FROM audit WHERE id >= 4', "UPDATE sqlite_sequence SET seq = 3 WHERE name = 'audit'")
  t.match(check(hidden).broken, { id: 4, reason: /records 4\.\.5 at the end are missing/ }, 'the head witness still names record 5')
  // Cut, then the chain regrown from record 3 to five records: the new record 5 does not carry the witnessed hash.
  const regrown = await fiveRecords(t)
  const witness = readFileSync(join(regrown, 'audit.head'))
  tamper(regrown, 'DELETE FROM audit WHERE id >= 4', "UPDATE sqlite_sequence SET seq = 3 WHERE name = 'audit'")
  const log = new AuditLog(regrown, () => 9_999)
  log.append('mallory', 'x', {})
  log.append('mallory', 'y', {})
  log.close()
  writeFileSync(join(regrown, 'audit.head'), witness)
  t.match(check(regrown).broken, { id: 5, reason: /differs from the head witness/ })
  const removed = await fiveRecords(t)
  tamper(removed, 'DELETE FROM audit WHERE id >= 4', "UPDATE sqlite_sequence SET seq = 3 WHERE name = 'audit'")
  rmSync(join(removed, 'audit.head'))
  t.match(check(removed).broken, { id: 3, reason: /audit\.head is missing/ }, 'a deleted witness is reported, not trusted')
  writeFileSync(join(removed, 'audit.head'), 'garbage')
  t.match(check(removed).broken, { reason: /audit\.head: the head witness is not/ })
})

t.test('a witness one record behind (a crash after the commit) still verifies', async t => {
  const dir = await fiveRecords(t)
  const before = readFileSync(join(dir, 'audit.head'))
  const log = new AuditLog(dir)
  log.append('tester', 'act.6', {})
  log.close()
  writeFileSync(join(dir, 'audit.head'), before)
  t.same(check(dir), { file: join(dir, 'audit.db'), records: 6 })
  // A rewritten record at the witnessed id is not "behind": it is caught.
  const other = await fiveRecords(t)
  writeFileSync(join(other, 'audit.head'), JSON.stringify({ id: 5, hash: 'f'.repeat(64) }))
  t.match(check(other).broken, { id: 5, reason: /differs from the head witness/ })
})

t.test('one audit database: the alerting store delegates to it; the legacy alerting.db chain is still verified', async t => {
  const dir = await tmpDir(t)
  const log = new AuditLog(dir)
  const store = new SqliteAlertStore(dir, log)
  await store.audit('op (operator)', 'alert.ack', { incident: 1 }, 5)
  log.append('agent', 'agent.auth_failed', { remote: '10.0.0.1' })
  t.same((await store.auditLog(10)).map(e => e.action), ['agent.auth_failed', 'alert.ack'], 'both in one log')
  const hasAudit = (store.db.db.prepare("SELECT name FROM sqlite_master WHERE name = 'audit'").get()) !== undefined
  t.notOk(hasAudit, 'alerting.db gets no audit table')
  await store.close()
  t.equal(log.entries().length, 2, 'the shared log stays open after the store closes')
  log.close()
  t.same(verifyAudit(dir), [{ file: join(dir, 'audit.db'), records: 2 }], 'no legacy report without legacy rows')

  // A 0.1.0 alerting.db with its own chain: verified as legacy, and an edit there is caught.
  const legacy = new Database(join(dir, 'alerting.db'))
  legacy.exec('CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)')
  let prev = ''
  for (let i = 1; i <= 3; i++) {
    const h = auditHash(prev, i, 'old', 'silence.create', '{}')
    legacy.prepare('INSERT INTO audit (at, actor, action, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)').run(i, 'old', 'silence.create', '{}', prev, h)
    prev = h
  }
  t.same(verifyAudit(dir)[1], { file: join(dir, 'alerting.db'), records: 3, legacy: true })
  legacy.exec("UPDATE audit SET actor = 'mallory' WHERE id = 2")
  legacy.close()
  t.match(verifyAudit(dir)[1], { legacy: true, broken: { id: 2 } })
})

t.test('a log from before the witness gets one at first open', async t => {
  const dir = await fiveRecords(t)
  rmSync(join(dir, 'audit.head'))
  new AuditLog(dir).close()
  t.ok(existsSync(join(dir, 'audit.head')))
  t.equal(check(dir).records, 5)
})
