// Degraded mode from the start (issue 17), the store on its own against a real PostgreSQL and a
// real SMTP server, on an injected clock: a store created while PostgreSQL is unreachable is
// degraded at once (no warm copy), mails a critical alert marked 縮退運転, keeps the config's
// maintenance windows locally and refuses other window changes; when PostgreSQL answers, its
// preparation (schema, leases, the shared ack secret) runs first and a failure there keeps the
// journal; then it reconciles, records the config windows in PostgreSQL, and fencing resumes.

import t from 'tap'
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { AuditLog } from '../../collector/audit/log.js'
import { OutboxStage } from '../../collector/alerting/notify/outbox.js'
import { SendStage } from '../../collector/alerting/notify/send.js'
import { SmtpSender } from '../../collector/alerting/smtp.js'
import { FencedError, type NewIncident, type Window } from '../../collector/alerting/store-api.js'
import { sharedSecret } from '../../collector/cluster/ack-secret.js'
import { PgAlertStore } from '../../collector/cluster/alert-store-pg.js'
import { DegradingAlertStore } from '../../collector/cluster/degraded-store.js'
import { readyzWarning } from '../../collector/cluster/degraded-status.js'
import { acquire } from '../../collector/cluster/lease.js'
import { withSmtp } from '../helpers/smtp.js'
import { tmpDir } from '../helpers/tmp.js'
import { degradedFixture, until } from '../helpers/degraded.js'

const T0 = Date.parse('2026-12-07T09:00:00+09:00')
const silent = pino({ level: 'silent' })

t.test('a store created while PostgreSQL is unreachable is degraded at once and reconciles when it answers', async t => {
  const { pg, pool } = await degradedFixture(t)
  const smtp = await withSmtp(t)
  // A peer's secret is the cluster's already.
  const clusterSecret = randomBytes(32)
  await pg.admin.query("INSERT INTO kanshi_meta (key, value) VALUES ('ack_secret', $1)", [clusterSecret.toString('hex')])
  await pg.admin.end().catch(() => {})
  await pg.stop()

  const local = randomBytes(32)
  const secret = sharedSecret(pool)
  let settled: Buffer | undefined
  secret.onSettled(s => { settled = s })
  t.same(await secret.read(local), local, 'PostgreSQL unreachable: this node signs with its own secret meanwhile')

  const dir = await tmpDir(t)
  const audit = new AuditLog(dir)
  const clock = T0
  let epoch: number | undefined
  let prepared = 0
  let failPreparation = true
  const store = new DegradingAlertStore({
    pg: new PgAlertStore({ pool, node: 'n1', audit, epochOf: l => l === 'agent:web01' ? epoch : undefined }),
    pool, node: 'n1', dataDir: dir, audit, degradedAfterMs: 60_000, probeMs: 200, refreshMs: 500, now: () => clock, logger: silent, localeOf: () => 'ja',
    startDegraded: 'connect ECONNREFUSED (ECONNREFUSED)',
    beforeReconcile: async () => {
      prepared++
      if (failPreparation) throw new Error('schema not ready yet')
      epoch = (await acquire(pool, 'agent:web01', 'n1', 600_000))!.epoch
      await secret.settle()
    }
  })
  t.teardown(async () => { await store.close(); audit.close() })
  t.same({ degraded: store.status().degraded, since: store.status().since }, { degraded: true, since: T0 }, 'degraded from the start, not after degradedAfter (60 s here)')
  t.equal(store.local.hasCopy(), false, 'no warm copy: it never saw PostgreSQL')
  t.match(readyzWarning(store.status()), /^alerting: degraded \(縮退運転\) since 2026-12-07 09:00:00 JST/, 'the /readyz warning')

  // The config's maintenance windows as createAlerting records them: locally now, in PostgreSQL after.
  const win = (name: string, by: string): Omit<Window, 'id' | 'created_at' | 'deleted_at'> => ({ kind: 'maintenance', name, matchers: { host: 'db01' }, starts_at: T0, ends_at: T0 + 3_600_000, recur_days: null, recur_hours: null, created_by: by, comment: '' })
  const record = async (): Promise<void> => {
    await store.tx(async s => {
      if (!(await s.windows('maintenance')).some(w => w.name === 'nightly')) await s.addWindow(win('nightly', 'config'), clock)
    }, { exclusive: 'config-maintenance' })
  }
  await record()
  store.whenShared(record)
  t.same((await store.windows('maintenance')).map(w => w.name), ['nightly'], 'the config window mutes here while degraded')
  await t.rejects(store.addWindow(win('adhoc', 'operator'), clock), /not possible while alerting runs degraded/, 'an operator\'s window waits for the database')

  const inc: NewIncident = {
    rule: 'app_down', severity: 'critical', host: 'web01', labels: { host: 'web01' }, summary: 'web01 アプリ停止', summary_en: 'web01 app down',
    description: '', description_en: '', value: 2, threshold: null, detected_at: clock, suppressed_by: null, series_key: 'app_down|host=web01'
  }
  const id = await store.tx(async s => await s.openIncident(inc), { fence: 'agent:web01' })
  const receiver = { name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' as const }
  const sender = new SmtpSender({ host: '127.0.0.1', port: smtp.port, secure: false, from: 'kanshi@example.jp', timeoutMs: 2000 })
  await new OutboxStage({ store, timezone: 'Asia/Tokyo' }).exec([{ kind: 'firing', incidents: [(await store.incident(id))!], receiver }], clock)
  const send = new SendStage({ store, send: async (to, s, text, html, att, mid) => await sender.send(to, s, text, html, att, mid), now: () => clock, logger: silent })
  t.equal(await send.exec(clock), 1, 'the critical alert is mailed alone')
  t.match(smtp.mails[0]!.subject, /^\[縮退運転\] /, 'marked 縮退運転')

  await pg.start()
  await until(() => prepared >= 2)
  t.equal(store.status().degraded, true, 'preparation failed: still degraded, the journal kept')
  failPreparation = false
  await until(() => !store.status().degraded)
  const r = store.status().lastReconcile!
  t.same({ incidents: r.incidents, sent: r.sent, dropped: r.dropped }, { incidents: 1, sent: 1, dropped: 0 }, 'reconciled: the incident and its mail')
  const q = async (sql: string): Promise<Array<Record<string, unknown>>> => {
    const c = await pool.connect()
    try { return (await c.query(sql)).rows } finally { c.release() }
  }
  t.same((await q("SELECT series_key FROM incidents WHERE host = 'web01'")).map(x => x['series_key']), ['app_down|host=web01'], 'one incident in PostgreSQL')
  t.same((await q('SELECT message_id FROM outbox WHERE sent_at IS NOT NULL')).map(x => x['message_id']), [smtp.mails[0]!.messageId], 'its mail recorded as sent, same Message-ID')
  await until(async () => (await q("SELECT name FROM alert_windows WHERE created_by = 'config'")).length === 1)
  t.pass('the config window is recorded in PostgreSQL after reconciliation')
  t.ok(settled?.equals(clusterSecret), 'the cluster\'s ack secret replaces this node\'s own once read')

  // Fencing resumes: the lease taken before reconciliation fences web01's writes; an agent not held is refused.
  await store.tx(async s => { await s.resolveIncident((await s.openIncidentFor('app_down|host=web01'))!.id, clock + 1000, 'cleared', 0) }, { fence: 'agent:web01' })
  t.equal((await q("SELECT count(*)::int AS n FROM incidents WHERE resolved_at IS NOT NULL")).at(0)!['n'], 1, 'a fenced write of a held agent goes to PostgreSQL')
  await t.rejects(store.tx(async s => { await s.openIncident({ ...inc, host: 'web02', series_key: 'app_down|host=web02' }) }, { fence: 'agent:web02' }), FencedError, 'an agent this node does not hold is refused again')
  t.equal(smtp.mails.length, 1, 'one mail in all')
})
