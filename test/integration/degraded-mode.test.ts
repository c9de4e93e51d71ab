// Degraded mode (縮退運転) against a real PostgreSQL stopped (12 s real time, the store on an injected clock) and a real SMTP server:
// calls fail (and nothing is mailed) until cluster.degradedAfter has passed by the store's
// clock; then a critical alert is mailed once, marked, a warning is held; when PostgreSQL is
// back the journal is reconciled (one incident per series, sent mails recorded with their
// Message-ID, the held mail sent once) and a second reconciliation changes nothing.

import t from 'tap'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { AuditLog } from '../../collector/audit/log.js'
import type { Series } from '../../collector/alerting/evaluator.js'
import { OutboxStage } from '../../collector/alerting/notify/outbox.js'
import { SendStage } from '../../collector/alerting/notify/send.js'
import type { Notice } from '../../collector/alerting/notify/stage.js'
import { SmtpSender } from '../../collector/alerting/smtp.js'
import type { NewIncident } from '../../collector/alerting/store-api.js'
import { PgAlertStore } from '../../collector/cluster/alert-store-pg.js'
import { LocalAlerting, LOCAL_ID_MIN } from '../../collector/cluster/degraded-local.js'
import { reconcile } from '../../collector/cluster/degraded-reconcile.js'
import { DegradingAlertStore } from '../../collector/cluster/degraded-store.js'
import { readyzWarning } from '../../collector/cluster/degraded-status.js'
import { acquire } from '../../collector/cluster/lease.js'
import { withSmtp } from '../helpers/smtp.js'
import { tmpDir } from '../helpers/tmp.js'
import { degradedFixture, until } from '../helpers/degraded.js'

const T0 = Date.parse('2026-12-07T09:00:00+09:00')
const SEC = 1000
const DEGRADED_AFTER = 10 * SEC
// Real time PostgreSQL stays stopped. The store runs on the injected clock, so this length changes
// nothing it decides; the 60 s outage of issue 17 is degraded-collector.test.ts and cluster-pg-down.test.ts.
const OUTAGE_MS = 12 * SEC
const silent = pino({ level: 'silent' })

const incidentOf = (host: string, rule: string, severity: string, at: number): NewIncident => ({
  rule, severity, host, labels: { host, role: 'server' }, summary: `${host} ${rule}`, summary_en: `${host} ${rule}`,
  description: '', description_en: '', value: 95, threshold: 90, detected_at: at, suppressed_by: null, series_key: `${rule}|host=${host}`
})

const seriesOf = (rule: string, host: string, state: Series['state'], since: number): Series => ({
  key: `${rule}|host=${host}`, rule, labels: { host }, state, since, firedAt: state === 'firing' ? since : 0, value: 95, lastSeen: since, samples: [[since, 95]], lines: [], agent: host
})

t.test('PostgreSQL stopped for 60 s: critical mail marked and sent once, a warning held, state reconciled after', async t => {
  const { pg, pool } = await degradedFixture(t)
  const smtp = await withSmtp(t)
  // web01 is this node's agent for the whole test; web02 is held by another node (n2) before the outage.
  const e1 = await acquire(pool, 'agent:web01', 'n1', 600_000)
  await acquire(pool, 'agent:web02', 'n2', 600_000)

  const dir = await tmpDir(t)
  const audit = new AuditLog(dir)
  let clock = T0
  const inner = new PgAlertStore({ pool, node: 'n1', audit, epochOf: l => l === 'agent:web01' ? e1!.epoch : undefined })
  const store = new DegradingAlertStore({ pg: inner, pool, node: 'n1', dataDir: dir, audit, degradedAfterMs: DEGRADED_AFTER, probeMs: 200, refreshMs: 500, now: () => clock, logger: silent, localeOf: () => 'ja' })
  t.teardown(async () => { await store.close(); audit.close() })
  const receiver = { name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' as const }
  const outbox = new OutboxStage({ store, timezone: 'Asia/Tokyo' })
  const sender = new SmtpSender({ host: '127.0.0.1', port: smtp.port, secure: false, from: 'kanshi@example.jp', timeoutMs: 2000 })
  const send = new SendStage({ store, send: async (to, s, text, html, att, id) => await sender.send(to, s, text, html, att, id), now: () => clock, logger: silent })
  const open = async (host: string, rule: string, severity: string): Promise<number> =>
    await store.tx(async s => await s.openIncident(incidentOf(host, rule, severity, clock)), { fence: `agent:${host}` })
  const notice = async (kind: Notice['kind'], id: number): Promise<Notice> => ({ kind, incidents: [(await store.incident(id))!], receiver })

  // Before: a critical alert fired and was mailed through PostgreSQL; the warm copy has it.
  const a = await open('web01', 'cpu_high', 'critical')
  await outbox.exec([await notice('firing', a)], clock)
  t.equal(await send.exec(clock), 1, 'mailed while PostgreSQL answers')
  await store.tx(async s => { await s.saveSeries([seriesOf('cpu_high', 'web01', 'firing', T0)], [], 'web01') }, { fence: 'agent:web01' })
  await until(async () => (await store.local.store.firing()).some(i => i.id === a))

  // The clock moves before the stop: any failure (a call, the probe, the warm copy's refresh) is stamped with it.
  clock = T0 + 60 * SEC
  await pg.stop()
  const stoppedAt = Date.now()
  await t.rejects(open('web01', 'mem_high', 'critical'), 'PostgreSQL down: the call throws (the stage retries its WAL record)')
  t.equal(store.status().degraded, false, 'not degraded yet')
  t.equal(store.status().unreachableSince, clock, 'unreachable since the first failure')
  const firstFailure = clock
  clock = firstFailure + DEGRADED_AFTER - 1
  await t.rejects(open('web01', 'mem_high', 'critical'))
  await new Promise(resolve => setTimeout(resolve, 500)) // the probe runs too: still not degraded
  t.equal(store.status().degraded, false, 'not before degradedAfter')
  t.equal(smtp.mails.length, 1, 'nothing mailed meanwhile')

  clock = firstFailure + DEGRADED_AFTER
  await until(() => store.status().degraded)
  t.equal(store.status().since, clock, 'degraded once degradedAfter has passed')
  t.match(readyzWarning(store.status()), /^alerting: degraded \(縮退運転\) since 2026-12-07 09:01:10 JST; 0 mails held/, 'the /readyz warning')

  const b = await open('web01', 'mem_high', 'critical')
  const w = await open('web01', 'disk_warn', 'warning')
  const c = await open('web02', 'cpu_high', 'critical')
  t.ok(b >= LOCAL_ID_MIN && w > b && c > w, 'incidents opened alone take ids from this node\'s range')
  t.equal(await store.tx(async s => (await s.openIncidentFor('cpu_high|host=web01'))?.id, { fence: 'agent:web01' }), a, 'the warm copy knows what was firing: not opened again')
  const resolvedAt = clock + 5 * SEC
  clock = resolvedAt
  await store.tx(async s => { await s.resolveIncident(a, resolvedAt, 'cleared', 40) }, { fence: 'agent:web01' })
  await store.tx(async s => { await s.saveSeries([seriesOf('mem_high', 'web01', 'firing', clock)], ['cpu_high|host=web01'], 'web01') }, { fence: 'agent:web01' })
  await outbox.exec([await notice('firing', b), await notice('firing', w), await notice('resolved', a), await notice('firing', c)], clock)
  t.equal(store.status().held, 1, 'the warning is held')
  t.equal(await send.exec(clock), 3, 'the critical mails go out alone: B firing, A resolved, C firing')
  t.equal(await send.exec(clock + SEC), 0, 'once')
  const degradedMails = smtp.mails.slice(1)
  t.equal(degradedMails.length, 3)
  for (const m of degradedMails) {
    t.match(m.subject, /^\[縮退運転\] /, `marked: ${m.subject}`)
    t.match(m.text, /PostgreSQL に接続できないため、収集サーバ n1 が単独で判断して送信しました/)
    t.match(m.messageId, /^<outbox-\d+\.[0-9a-f]{16}@kanshi>$/)
  }
  t.notOk(smtp.mails.some(m => m.subject.includes('disk_warn')), 'the warning is not mailed while degraded')

  // A copy of the journal as it stands, to run reconciliation a second time (a crash after PostgreSQL's commit).
  const copyDir = await tmpDir(t)
  await mkdir(join(copyDir, 'alerting-local'))
  store.local.db.exec(`VACUUM INTO '${join(copyDir, 'alerting-local', 'alerting.db')}'`)

  // The collector restarts while degraded: the journal is on disk, the new store starts degraded and reconciles it.
  const since = store.status().since
  await store.close()
  const store2 = new DegradingAlertStore({ pg: new PgAlertStore({ pool, node: 'n1', audit, epochOf: l => l === 'agent:web01' ? e1!.epoch : undefined }), pool, node: 'n1', dataDir: dir, audit, degradedAfterMs: DEGRADED_AFTER, probeMs: 200, refreshMs: 500, now: () => clock, logger: silent })
  t.teardown(async () => await store2.close())
  t.same({ degraded: store2.status().degraded, since: store2.status().since, held: store2.status().held }, { degraded: true, since, held: 1 }, 'restarted: still degraded, since the same time, the held mail kept')
  const send2 = new SendStage({ store: store2, send: async (to, s, text, html, att, id) => await sender.send(to, s, text, html, att, id), now: () => clock, logger: silent })
  t.equal(await send2.exec(clock), 0, 'nothing sent again after the restart')

  await new Promise(resolve => setTimeout(resolve, Math.max(0, stoppedAt + OUTAGE_MS - Date.now())))
  await pg.start()
  await until(() => !store2.status().degraded, 30_000)
  const r = store2.status().lastReconcile!
  t.same({ incidents: r.incidents, sent: r.sent, held: r.held, dropped: r.dropped }, { incidents: 3, sent: 3, held: 1, dropped: 1 }, 'reconciled: A, B and W written; web02\'s incident dropped')

  const q = async (sql: string, v: unknown[] = []): Promise<Array<Record<string, unknown>>> => (await pg.admin.query(sql, v)).rows
  const rows = await q('SELECT id::float8 AS id, series_key, resolved_at::float8 AS resolved_at, notified_at::float8 AS notified_at FROM incidents ORDER BY id')
  t.same(rows.map(x => x['series_key']), ['cpu_high|host=web01', 'mem_high|host=web01', 'disk_warn|host=web01'], 'one incident per series, none for the agent another node holds')
  t.same(rows.map(x => x['id']), [a, b, w], 'the ids mails linked to are kept')
  t.equal(rows[0]!['resolved_at'], resolvedAt, 'A resolved as this node saw it alone')
  t.equal(rows[0]!['notified_at'], T0, 'A keeps its first mail time')
  t.equal(rows[1]!['notified_at'], firstFailure + DEGRADED_AFTER + 5 * SEC, 'B mailed while degraded')
  const sent = await q('SELECT message_id FROM outbox WHERE sent_at IS NOT NULL AND message_id IS NOT NULL ORDER BY id')
  t.same(sent.map(x => x['message_id']).sort(), degradedMails.map(m => m.messageId).sort(), 'the mails sent alone are recorded as sent, same Message-ID')
  const series = await q('SELECT key, agent FROM alert_series ORDER BY key')
  t.same(series, [{ key: 'mem_high|host=web01', agent: 'web01' }], 'series state pushed (a removal too)')

  t.equal(await send2.exec(clock + 2 * SEC), 1, 'the held warning is sent from PostgreSQL')
  t.equal(await send2.exec(clock + 3 * SEC), 0, 'once')
  const held = smtp.mails.at(-1)!
  t.match(held.subject, /disk_warn/)
  t.notMatch(held.subject, /縮退運転/, 'a held mail is not marked: it went through the database')
  t.match(held.messageId, /^<held-1\.[0-9a-f]{16}@kanshi>$/, 'with the Message-ID it was held with')
  t.equal(smtp.mails.length, 5, 'five mails in all, none twice')

  // A second reconciliation of the same journal changes nothing.
  const dump = async (): Promise<unknown> => ({
    incidents: await q('SELECT * FROM incidents ORDER BY id'),
    outbox: await q('SELECT id, kind, incident_ids, subject, sent_at, message_id FROM outbox ORDER BY id'),
    series: await q('SELECT key, agent, data FROM alert_series ORDER BY key'),
    origins: await q('SELECT origin, incident_id FROM degraded_origins ORDER BY origin')
  })
  const before = await dump()
  const copy = new LocalAlerting(copyDir, 'n1')
  t.teardown(async () => await copy.close())
  const again = await reconcile({ pool, node: 'n1', local: copy, scope: await copy.store.scope(), now: clock })
  t.same(await dump(), before, 'the same PostgreSQL state after a second run')
  t.same({ sent: again.sent, held: again.held }, { sent: 0, held: 0 }, 'no mail recorded twice')
  t.equal(store2.status().degraded, false)
})
