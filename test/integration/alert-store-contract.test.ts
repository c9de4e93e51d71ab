// One contract for both alerting stores: the same operations and expectations against
// SQLite (a temp dir) and PostgreSQL (a private server, migrations applied). Expected
// values come from the generated input, never from the store's own output.

import t, { type Test } from 'tap'
import { pino } from 'pino'
import { japanCalendar } from '../../common/holidays.js'
import { Notifier } from '../../collector/alerting/notify/notifier.js'
import { AuditLog } from '../../collector/audit/log.js'
import { SqliteAlertStore } from '../../collector/alerting/store-sqlite.js'
import type { AlertStore, NewIncident } from '../../collector/alerting/store-api.js'
import type { Series } from '../../collector/alerting/evaluator.js'
import { PgAlertStore, type PgStoreOptions } from '../../collector/cluster/alert-store-pg.js'
import { DegradingAlertStore } from '../../collector/cluster/degraded-store.js'
import { makePool } from '../../collector/cluster/pg.js'
import { migrate } from '../../collector/cluster/schema.js'
import { acquire } from '../../collector/cluster/lease.js'
import { checkCluster } from '../../collector/config/cluster.js'
import { startPostgres, type Postgres } from '../helpers/postgres.js'
import { tmpDir } from '../helpers/tmp.js'

const T0 = Date.parse('2026-11-24T10:00:00+09:00')
const MIN = 60_000

type Make = (t: Test) => Promise<AlertStore>

const incidentOf = (host: string, at: number, extra: Partial<NewIncident> = {}): NewIncident => ({
  rule: 'cpu_high', severity: 'critical', host, labels: { host, role: 'server' }, summary: `${host} CPU`, summary_en: `${host} CPU`,
  description: '', description_en: '', value: 95.5, threshold: 90, detected_at: at, suppressed_by: null, series_key: `cpu_high|host=${host}`, ...extra
})

const seriesOf = (key: string, since: number): Series => ({
  key, rule: 'cpu_high', labels: { host: key }, state: 'pending', since, firedAt: 0, value: 93.25, lastSeen: since + 5000, samples: [[since, 93.25], [since + 5000, 94]], lines: []
})

function contract (t: Test, make: Make): void {
  t.test('incidents: open, find, resolve, ack, lists and marks', async t => {
    const s = await make(t)
    const hosts = ['web01', 'web02', 'db01']
    const ids: number[] = []
    for (const [i, h] of hosts.entries()) ids.push(await s.openIncident(incidentOf(h, T0 + i * MIN, { systems: ['基盤'] })))
    t.equal(new Set(ids).size, 3, 'three ids')
    const web01 = await s.openIncidentFor('cpu_high|host=web01')
    t.equal(web01?.id, ids[0])
    t.same(web01?.labels, { host: 'web01', role: 'server' }, 'labels come back as an object')
    t.same(web01?.systems, ['基盤'])
    t.equal(web01?.value, 95.5)
    t.equal(web01?.detected_at, T0, 'times are numbers in ms')
    t.same((await s.firing()).map(i => i.host), hosts, 'firing in detection order')

    await s.resolveIncident(ids[0]!, T0 + 10 * MIN, 'cleared', 40)
    await s.resolveIncident(ids[0]!, T0 + 20 * MIN, 'again', 1)
    const r = await s.incident(ids[0]!)
    t.equal(r?.resolved_at, T0 + 10 * MIN, 'the first resolution stands')
    t.equal(r?.resolve_reason, 'cleared')
    t.equal(await s.openIncidentFor('cpu_high|host=web01'), undefined)
    t.same((await s.firing()).map(i => i.id), ids.slice(1))
    t.same((await s.incidents(T0 + 11 * MIN, T0 + 60 * MIN)).map(i => i.id), ids.slice(1), 'the range leaves out what resolved before it')
    t.same((await s.incidents(T0, T0 + 60 * MIN)).map(i => i.id), ids)

    t.same(await s.dueResolved(), [], 'not mailed while firing: no resolved mail due')
    await s.markQueued([ids[0]!, ids[1]!], T0 + MIN)
    t.same((await s.dueResolved()).map(i => i.id), [ids[0]], 'mailed and resolved: due')
    await s.markResolvedQueued([ids[0]!])
    t.same(await s.dueResolved(), [])
    await s.markEscalated([ids[1]!], T0 + 15 * MIN)
    t.equal((await s.incident(ids[1]!))?.escalated_at, T0 + 15 * MIN)

    const acked = await s.ack(ids[1]!, 'tanaka', T0 + 3 * MIN)
    t.equal(acked?.acked_by, 'tanaka')
    t.equal((await s.ack(ids[1]!, 'suzuki', T0 + 4 * MIN))?.acked_by, 'tanaka', 'the first acknowledgement stands')

    await s.suppress(ids[2]!, 'parent:sw-1')
    await s.suppress(ids[2]!, 'maintenance:9')
    t.equal((await s.incident(ids[2]!))?.suppressed_by, 'parent:sw-1', 'the first reason stands')
    await s.release(ids[2]!)
    t.equal((await s.incident(ids[2]!))?.suppressed_by, null)
    await s.suppress(ids[2]!, 'maintenance:9')
    await s.release(ids[2]!)
    t.equal((await s.incident(ids[2]!))?.suppressed_by, 'maintenance:9', 'release clears only parent suppressions')

    t.equal(await s.lastResolvedAt('web01', ['cpu_high']), T0 + 10 * MIN)
    t.equal(await s.lastResolvedAt('web01', ['other']), undefined)
    t.equal(await s.lastResolvedAt('web01', []), undefined)
    await s.setTexts(ids[1]!, { summary: 'a', summary_en: 'b', description: 'c', description_en: 'd' })
    const tx = await s.incident(ids[1]!)
    t.same([tx?.summary, tx?.summary_en, tx?.description, tx?.description_en], ['a', 'b', 'c', 'd'])
    t.equal(await s.incident(999_999), undefined)
  })

  t.test('障害: merge target, merge, split, write-up, notices', async t => {
    const s = await make(t)
    const a = await s.openIncident(incidentOf('web01', T0, { systems: ['共通基盤'] }))
    const b = await s.openIncident(incidentOf('web02', T0 + 2 * MIN, { systems: ['窓口'] }))
    const target = await s.book.mergeTarget(['共通基盤', 'x'], T0 + 5 * MIN, 10 * MIN, null)
    t.equal(target?.id, a, 'a primary of a shared system within the window')
    t.equal(await s.book.mergeTarget(['共通基盤'], T0 + 11 * MIN, 10 * MIN, null), undefined, 'beyond the window')
    t.equal(await s.book.mergeTarget(['共通基盤'], T0 + 5 * MIN, 10 * MIN, 'maintenance:1'), undefined, 'muted differently')
    const c = await s.openIncident(incidentOf('web03', T0 + 5 * MIN, { systems: ['共通基盤', '予約'], merged_into: a }))
    t.same((await s.book.get(a))?.systems, ['共通基盤', '予約'], 'a member adds its systems to the 障害')

    const n1 = await s.book.addNotice(b, { message: '窓口停止', expected_recovery_at: T0 + 60 * MIN, published_at: T0 + 4 * MIN, published_by: 'op' })
    t.equal((await s.book.get(b))?.user_notice_at, T0 + 4 * MIN)
    t.equal(await s.book.merge(b, c), a, 'merging into a member joins its primary')
    t.same((await s.book.members(a)).map(i => i.id).sort((x, y) => x - y), [b, c].sort((x, y) => x - y))
    t.equal((await s.book.primaryOf(b))?.id, a)
    t.same(((await s.book.get(a))?.systems ?? []).sort(), ['予約', '共通基盤', '窓口'].sort())
    t.same((await s.book.notices(a)).map(n => n.id), [n1], 'the notice moved to the 障害')
    t.equal((await s.book.get(a))?.user_notice_at, T0 + 4 * MIN)
    await t.rejects(s.book.merge(a, b), /already/, 'a 障害 cannot join itself')
    await t.rejects(s.book.merge(b, 999_999), /no incident/)

    const n2 = await s.book.addNotice(a, { message: '続報', expected_recovery_at: null, published_at: T0 + 2 * MIN, published_by: 'op' })
    t.equal((await s.book.get(a))?.user_notice_at, T0 + 2 * MIN, 'user_notice_at is the first published')
    t.same((await s.book.published(T0 + 3 * MIN)).map(n => n.id), [n1, n2], 'open 障害: every notice, newest first')
    for (const id of [a, b, c]) await s.resolveIncident(id, T0 + 30 * MIN, null, 0)
    t.same((await s.book.published(T0 + 3 * MIN)).map(n => n.id), [n1], 'resolved: only those since')

    t.equal(await s.book.split(b), a)
    t.equal(await s.book.split(b), null, 'not merged any more')
    t.same((await s.book.members(a)).map(i => i.id), [c])

    const u = await s.book.update(a, { cause_text: 'メモリ不足', systems: ['共通基盤'], service_affecting: 0, exempt_reason: null })
    t.same(u.after, { cause_text: 'メモリ不足', systems: ['共通基盤'], service_affecting: 0 }, 'only what changed')
    t.same(u.before, { cause_text: '', systems: ['共通基盤', '予約', '窓口'], service_affecting: null }, 'and what it was')
    const w = await s.book.get(a)
    t.same([w?.cause_text, w?.systems, w?.service_affecting], ['メモリ不足', ['共通基盤'], 0])
    await t.rejects(s.book.update(999_999, { impact: 'x' }), /no incident/)
  })

  t.test('障害: parent merges, severity override, matched lines, notices corrected and withdrawn', async t => {
    const s = await make(t)
    const sw = await s.openIncident(incidentOf('sw01', T0))
    const lines = Array.from({ length: 23 }, (_, i) => `line ${i} ` + 'y'.repeat(520))
    const kid = await s.openIncident(incidentOf('kiosk1', T0 + MIN, { suppressed_by: 'parent:sw01', systems: ['発券'], matched_lines: lines }))
    t.same((await s.incident(kid))?.matched_lines, lines.slice(0, 20).map(l => l.slice(0, 500)), 'matched lines: the first 20, 500 characters each')
    t.same((await s.book.get(sw))?.matched_lines, [], 'none for a metric rule')
    t.equal((await s.book.mergeTarget(['発券'], T0 + 40 * MIN, 10 * MIN, 'parent:sw01'))?.id, sw, 'muted by a down parent: the parent\'s 障害, whatever the window and systems')
    t.equal(await s.book.mergeTarget(['発券'], T0 + 40 * MIN, 10 * MIN, 'parent:sw09'), undefined, 'a parent with no open alert: nothing')
    t.equal(await s.book.mergeTarget(['発券'], T0 + 40 * MIN, 0, 'parent:sw01'), undefined, 'merging off (0) is off for parents too')
    await s.resolveIncident(sw, T0 + 50 * MIN, null, 0)
    t.equal(await s.book.mergeTarget(['発券'], T0 + 55 * MIN, 10 * MIN, 'parent:sw01'), undefined, 'the parent is back: nothing to join')

    const u = await s.book.update(sw, { severity_override: 'info' })
    t.same([u.before, u.after], [{ severity_override: null }, { severity_override: 'info' }])
    t.equal((await s.book.get(sw))?.severity_override, 'info')

    const n1 = await s.book.addNotice(sw, { message: '発券機停止', expected_recovery_at: T0 + 60 * MIN, published_at: T0 + 5 * MIN, published_by: 'op' })
    const n2 = await s.book.addNotice(sw, { message: '続報', expected_recovery_at: null, published_at: T0 + 15 * MIN, published_by: 'op' })
    const fix = await s.book.changeNotice(sw, n1, { message: '発券機・窓口停止', expected_recovery_at: T0 + 90 * MIN }, 'op2', T0 + 20 * MIN)
    t.same(fix, { before: { message: '発券機停止', expected_recovery_at: T0 + 60 * MIN }, after: { message: '発券機・窓口停止', expected_recovery_at: T0 + 90 * MIN } })
    t.same(await s.book.changeNotice(sw, n1, { message: '発券機・窓口停止' }, 'op2', T0 + 21 * MIN), { before: {}, after: {} }, 'no change, nothing recorded')
    t.equal(await s.book.changeNotice(kid, n1, { message: 'x' }, 'op', T0), undefined, 'a notice of another 障害')
    const one = (await s.book.notices(sw)).find(n => n.id === n1)!
    t.same([one.message, one.expected_recovery_at, one.published_at, one.corrected_at, one.corrected_by], ['発券機・窓口停止', T0 + 90 * MIN, T0 + 5 * MIN, T0 + 20 * MIN, 'op2'])
    const w = await s.book.withdrawNotice(sw, n1, 'op3', T0 + 25 * MIN)
    t.same([w?.id, w?.withdrawn_at, w?.withdrawn_by], [n1, T0 + 25 * MIN, 'op3'])
    t.equal(await s.book.withdrawNotice(sw, n1, 'op3', T0 + 26 * MIN), undefined, 'withdrawn once')
    t.equal(await s.book.changeNotice(sw, n1, { message: 'x' }, 'op', T0), undefined, 'a withdrawn notice is not corrected')
    t.equal((await s.book.get(sw))?.user_notice_at, T0 + 15 * MIN, 'the 告知 is the first notice not withdrawn')
    t.same((await s.book.published(0)).map(n => n.id), [n2], 'a withdrawn notice is not published')
    t.same((await s.book.notices(sw)).map(n => [n.id, n.withdrawn_at]), [[n1, T0 + 25 * MIN], [n2, null]], 'but kept')
    await s.book.withdrawNotice(sw, n2, 'op3', T0 + 30 * MIN)
    t.equal((await s.book.get(sw))?.user_notice_at, null, 'every notice withdrawn: no 告知')
  })

  t.test('series state: save, overwrite, remove, load', async t => {
    const s = await make(t)
    const list = [seriesOf('a', T0), seriesOf('b', T0 + 1000), seriesOf('c', T0 + 2000)]
    await s.saveSeries(list)
    const moved = { ...list[1]!, state: 'firing' as const, firedAt: T0 + 9000 }
    await s.saveSeries([moved], ['c'])
    const got = (await s.loadSeries()).sort((x, y) => x.key.localeCompare(y.key))
    t.same(got, [list[0], moved], 'pending start times, samples and states come back as saved')
  })

  t.test('outbox: enqueue, due, sent, failed and retried, attachments', async t => {
    const s = await make(t)
    const inc = await s.openIncident(incidentOf('web01', T0))
    const mail = (subject: string, at: number, kind: 'firing' | 'report' = 'firing', attachments?: string[]) =>
      ({ kind, incident_ids: kind === 'firing' ? [inc] : [], receiver: 'oncall', recipients: ['a@example.jp', 'b@example.jp'], subject, text: `${subject} text`, html: `<p>${subject}</p>`, created_at: at, ...(attachments !== undefined ? { attachments } : {}) })
    const m1 = await s.enqueue(mail('first', T0))
    const m2 = await s.enqueue(mail('report', T0 + 1000, 'report', ['/reports/daily.pdf', '/reports/daily.xlsx']))
    const m3 = await s.enqueue(mail('later', T0 + 60_000))
    t.equal(await s.pendingMail(), 3)
    t.equal(await s.lastMailOf('firing'), T0 + 60_000)
    t.equal(await s.lastMailOf('deadman'), 0)
    const due = await s.dueMail(T0 + 1000)
    t.same(due.map(m => m.id), [m1, m2], 'due by its time, oldest first')
    t.same(due[0]?.recipients, ['a@example.jp', 'b@example.jp'])
    t.same(due[0]?.incident_ids, [inc])
    t.same(due[1]?.attachments, ['/reports/daily.pdf', '/reports/daily.xlsx'])
    t.same(due[0]?.attachments, [])
    t.equal(due[0]?.attempts, 0)

    await s.mailFailed(m1, '451 later ' + 'x'.repeat(600), T0 + 5000)
    const [f] = (await s.dueMail(T0 + 5000)).filter(m => m.id === m1)
    t.equal(f?.attempts, 1)
    t.equal(f?.next_attempt_at, T0 + 5000)
    t.equal(f?.last_error?.length, 500, 'the error is kept, cut to 500 characters')
    t.notOk((await s.dueMail(T0 + 4999)).some(m => m.id === m1), 'not before its retry time')

    await s.mailSent(f!, T0 + 6000)
    t.equal((await s.incident(inc))?.notified_at, T0 + 6000, 'a firing mail accepted sets notified_at')
    await s.mailSent({ ...f!, id: m3 }, T0 + 7000)
    t.equal((await s.incident(inc))?.notified_at, T0 + 6000, 'the first acceptance stands')
    t.equal(await s.pendingMail(), 1, 'the report mail is left')
    t.same((await s.dueMail(Infinity)).map(m => m.id), [m2])
  })

  t.test('windows and report marks', async t => {
    const s = await make(t)
    const w1 = await s.addWindow({ kind: 'silence', name: '調査中', matchers: { host: 'web01' }, starts_at: T0, ends_at: T0 + 60 * MIN, recur_days: null, recur_hours: null, created_by: 'op', comment: 'c' }, T0)
    const w2 = await s.addWindow({ kind: 'maintenance', name: '定期保守', matchers: { system: '共通基盤' }, starts_at: T0, ends_at: T0 + 30 * 86_400_000, recur_days: [2, 4], recur_hours: '09:00-11:00', created_by: 'config', comment: '' }, T0)
    t.same((await s.windows()).map(w => w.id), [w1, w2])
    const [m] = await s.windows('maintenance')
    t.same([m?.id, m?.matchers, m?.recur_days, m?.recur_hours, m?.created_at], [w2, { system: '共通基盤' }, [2, 4], '09:00-11:00', T0])
    t.equal((await s.windows('silence'))[0]?.recur_days, null)
    t.ok(await s.deleteWindow(w1, T0 + MIN))
    t.notOk(await s.deleteWindow(w1, T0 + 2 * MIN), 'deleted once')
    t.same((await s.windows()).map(w => w.id), [w2])
    t.same((await s.windows('silence', true)).map(w => [w.id, w.deleted_at]), [[w1, T0 + MIN]])

    t.equal(await s.reportDone('daily'), undefined)
    await s.setReportDone('daily', '2026-11-23', T0)
    await s.setReportDone('daily', '2026-11-24', T0 + 1)
    await s.setReportDone('monthly', '2026-10', T0)
    t.equal(await s.reportDone('daily'), '2026-11-24')
    t.equal(await s.reportDone('monthly'), '2026-10')
  })

  t.test('tx: changes commit together or not at all; calls outside wait for it', async t => {
    const s = await make(t)
    await t.rejects(s.tx(async x => {
      const id = await x.openIncident(incidentOf('web01', T0))
      await x.enqueue({ kind: 'firing', incident_ids: [id], receiver: 'r', recipients: [], subject: 's', text: '', html: '', created_at: T0 })
      throw new Error('boom')
    }), /boom/)
    t.same(await s.firing(), [], 'no incident after the rollback')
    t.equal(await s.pendingMail(), 0, 'and no mail')
    const id = await s.tx(async x => {
      const id = await x.openIncident(incidentOf('web01', T0))
      await x.enqueue({ kind: 'firing', incident_ids: [id], receiver: 'r', recipients: [], subject: 's', text: '', html: '', created_at: T0 })
      await x.tx(async y => { await y.markQueued([id], T0) }) // a tx inside joins it
      return id
    })
    t.equal((await s.incident(id))?.last_notified_at, T0)
    t.equal(await s.pendingMail(), 1)
    // A caller outside an open transaction never sees its rows, even when it rolls back later.
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    let entered!: () => void
    const inside = new Promise<void>(resolve => { entered = resolve })
    const open = s.tx(async x => {
      await x.enqueue({ kind: 'firing', incident_ids: [], receiver: 'r', recipients: [], subject: 'rolled back', text: '', html: '', created_at: T0 })
      entered()
      await gate
      throw new Error('rolled back')
    })
    await inside
    const outside = s.pendingMail()
    await new Promise(resolve => setTimeout(resolve, 20))
    release()
    await t.rejects(open, /rolled back/)
    t.equal(await outside, 1, 'the outside read saw only committed rows')
    t.equal(await s.pendingMail(), 1)
    const sc = await s.scope()
    t.match(sc, /^[0-9a-f]{16}$/, 'a scope for Message-IDs')
    t.equal(await s.scope(), sc, 'stable')
  })
}

t.test('SQLite', async t => {
  contract(t, async t => {
    const s = new SqliteAlertStore(await tmpDir(t))
    t.teardown(async () => await s.close())
    return s
  })
})

type PgMake = (t: Test, node?: string, extra?: Pick<PgStoreOptions, 'epochOf' | 'onFenced'>) => Promise<PgAlertStore>

async function pgStoreFactory (pg: Postgres): Promise<PgMake> {
  const config = checkCluster('/c.yaml', { node: 'n1', postgres: { url: pg.url, passwordEnv: 'KANSHI_PG_PASSWORD', ssl: 'disable', connectTimeout: 2000, statementTimeout: 5000, poolSize: 4 }, lease: 3000, heartbeat: 1000, receivers: [] }, p => p, { KANSHI_PG_PASSWORD: pg.password }, undefined)!
  const migrated = makePool(config.postgres, () => {})
  await migrate(migrated)
  await migrated.end()
  return async (t: Test, node = 'n1', extra: Pick<PgStoreOptions, 'epochOf' | 'onFenced'> = {}) => {
    // A fresh start for each subtest: the contract expects an empty store.
    await pg.admin.query('TRUNCATE alert_series, incidents, incident_notices, outbox, report_runs, alert_windows RESTART IDENTITY')
    const dir = await tmpDir(t)
    const audit = new AuditLog(dir)
    const s = new PgAlertStore({ pool: makePool(config.postgres, () => {}), node, audit, ownsPool: true, ...extra })
    t.teardown(async () => { await s.close(); audit.close() })
    return s
  }
}

t.test('PostgreSQL', async t => {
  const pg = await startPostgres(t)
  const make = await pgStoreFactory(pg)
  contract(t, async t => await make(t))

  t.test('outbox claims: two nodes never get the same mail; an expired claim is taken again', async t => {
    const a = await make(t, 'n1')
    const b = await make(t, 'n2')
    const ids: number[] = []
    for (let i = 0; i < 10; i++) ids.push(await a.enqueue({ kind: 'firing', incident_ids: [], receiver: 'r', recipients: ['x@example.jp'], subject: `m${i}`, text: '', html: '', created_at: T0 + i }))
    const [ga, gb] = await Promise.all([a.dueMail(T0 + 100, 6), b.dueMail(T0 + 100, 6)])
    const got = [...ga, ...gb].map(m => m.id)
    t.equal(new Set(got).size, got.length, `no mail claimed twice (${ga.length} + ${gb.length})`)
    t.same([...got].sort((x, y) => x - y), ids, 'between them, all ten')
    t.same((await b.dueMail(T0 + 100)).map(m => m.id), gb.map(m => m.id), 'n2 gets its own claims again, none of n1\'s')
    t.same((await a.dueMail(T0 + 100)).map(m => m.id), ga.map(m => m.id), 'n1 takes its own claims again (a retry after a refusal)')
    // n1 dies holding its claims: once the leader judges it down (silent, not answering), n2 takes them at once.
    await pg.admin.query("INSERT INTO node_down (node, down_at, leader, epoch, agents, moved, lost, kind) VALUES ('n1', now(), 'n3', 1, 0, '{}', '{}', 'cut_off')")
    t.same((await b.dueMail(T0 + 100)).map(m => m.id), gb.map(m => m.id), 'n1 cut off from PostgreSQL but alive (it may be sending them): its claims stay')
    await pg.admin.query("UPDATE node_down SET kind = 'down' WHERE node = 'n1'")
    t.same((await b.dueMail(T0 + 100)).map(m => m.id), ids, 'n1 judged down: its claims are taken before they expire')
    await pg.admin.query('DELETE FROM node_down')
    await b.mailFailed(gb[1]!.id, 'x', T0 + 100)
    await a.dueMail(T0 + 100)
    t.ok((await pg.admin.query("SELECT count(*)::int AS n FROM outbox WHERE claimed_by = 'n1'")).rows[0].n > 0, 'n1 claims again')
    // Or once they expire by the database clock.
    await pg.admin.query("UPDATE outbox SET claim_until = now() - interval '1 second' WHERE claimed_by = 'n1'")
    t.same((await b.dueMail(T0 + 100)).map(m => m.id), ids, 'expired claims are taken by another node')
    await b.mailSent(gb[0]!, T0 + 200)
    const row = await pg.admin.query('SELECT claimed_by, sent_at FROM outbox WHERE id = $1', [gb[0]!.id])
    t.same(row.rows[0], { claimed_by: null, sent_at: String(T0 + 200) }, 'sent: the claim is cleared')
  })

  t.test('mail planning: nodes planning at once queue each notice once (one planner at a time)', async t => {
    const stores = [await make(t, 'n1'), await make(t, 'n2'), await make(t, 'n3')]
    const notifiers = stores.map(store => new Notifier({
      store, send: async () => ({ kind: 'ok' }), calendar: japanCalendar({ timezone: 'Asia/Tokyo' }),
      receivers: [{ name: 'oncall', email: ['o@example.jp'], locale: 'ja' }], routes: [{ match: {}, receiver: 'oncall' }],
      groupWaitMs: 0, groupIntervalMs: 0, repeatIntervalMs: 3_600_000, timezone: 'Asia/Tokyo', now: () => T0 + MIN, logger: pino({ level: 'silent' })
    }))
    const hosts = ['web01', 'web02', 'web03', 'web04']
    for (const h of hosts) await stores[0]!.openIncident({ ...incidentOf(h, T0), rule: `r-${h}`, series_key: `r|${h}` })
    // Every node plans several times at once, as their ticks may coincide.
    const queued = await Promise.all(notifiers.flatMap(n => [0, 1, 2, 3].map(async () => await n.plan(T0 + MIN))))
    const rows = (await pg.admin.query("SELECT incident_ids FROM outbox WHERE kind = 'firing'")).rows.flatMap(r => r.incident_ids as number[])
    t.equal(rows.length, hosts.length, `one firing mail per incident (${queued.join(',')} queued by the ${queued.length} plans)`)
    t.equal(new Set(rows).size, hosts.length)
  })

  t.test('fencing: a node whose agent lease was taken cannot write', async t => {
    const fenced: string[] = []
    const held = new Map<string, number>()
    const make2 = async (node: string): Promise<PgAlertStore> => await make(t, node, { epochOf: l => held.get(`${node}/${l}`), onFenced: l => { fenced.push(`${node}/${l}`) } })
    const n1 = await make2('n1')
    const n2 = await make2('n2')
    const pool = makePool(checkCluster('/c.yaml', { node: 'x', postgres: { url: pg.url, passwordEnv: 'P', ssl: 'disable', connectTimeout: 2000, statementTimeout: 5000, poolSize: 2 }, lease: 3000, heartbeat: 1000, receivers: [] }, p => p, { P: pg.password }, undefined)!.postgres, () => {})
    t.teardown(async () => await pool.end())
    const lease = 'agent:web01'
    const e1 = await acquire(pool, lease, 'n1', 60_000)
    held.set(`n1/${lease}`, e1!.epoch)
    const write = async (s: PgAlertStore, host: string): Promise<number> => await s.tx(async x => {
      const id = await x.openIncident(incidentOf(host, T0))
      await x.enqueue({ kind: 'firing', incident_ids: [id], receiver: 'r', recipients: [], subject: host, text: '', html: '', created_at: T0 })
      return id
    }, { fence: lease })
    t.ok(await write(n1, 'web01') > 0, 'the holder writes')
    await t.rejects(write(n2, 'web01-b'), { name: 'FencedError' }, 'a node without the lease is refused')

    // While n1's fenced transaction is open, n2 cannot take the lease, even once it expired: the row is locked.
    await pg.admin.query("UPDATE leases SET expires_at = now() + interval '300 milliseconds' WHERE name = $1", [lease])
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    const order: string[] = []
    const inTx = n1.tx(async x => {
      await gate
      await x.openIncident(incidentOf('web01-c', T0))
      order.push('n1 committed')
    }, { fence: lease })
    await new Promise(resolve => setTimeout(resolve, 100))
    await new Promise(resolve => setTimeout(resolve, 400)) // the lease has expired by now
    const taking = (async () => {
      let got: Awaited<ReturnType<typeof acquire>>
      while ((got = await acquire(pool, lease, 'n2', 60_000)) === undefined) await new Promise(resolve => setTimeout(resolve, 50))
      order.push('n2 took the lease')
      return got
    })()
    await new Promise(resolve => setTimeout(resolve, 300))
    release()
    await inTx
    const e2 = await taking
    t.same(order, ['n1 committed', 'n2 took the lease'], 'the taker waits for the open fenced transaction')
    t.equal(e2!.epoch, e1!.epoch + 1, 'a new epoch')
    held.set(`n2/${lease}`, e2!.epoch)

    const before = (await pg.admin.query('SELECT count(*)::int AS i, (SELECT count(*)::int FROM outbox) AS o FROM incidents')).rows[0]
    await t.rejects(write(n1, 'web01-d'), { name: 'FencedError' }, 'n1 still believes it holds epoch 1: refused by the database')
    const after = (await pg.admin.query('SELECT count(*)::int AS i, (SELECT count(*)::int FROM outbox) AS o FROM incidents')).rows[0]
    t.same(after, before, 'nothing written: no incident, no mail')
    t.same(fenced, [`n2/${lease}`, `n1/${lease}`], 'each refusal counted')
    t.ok(await write(n2, 'web01-e') > 0, 'the new holder writes')
  })
})

// The cluster's store as the collector uses it: PostgreSQL behind the degrading wrapper (cluster/degraded-store.ts),
// with PostgreSQL up every call goes there and the contract holds unchanged.
t.test('Degrading store (PostgreSQL up)', async t => {
  const pg = await startPostgres(t)
  const config = checkCluster('/c.yaml', { node: 'n1', postgres: { url: pg.url, passwordEnv: 'KANSHI_PG_PASSWORD', ssl: 'disable', connectTimeout: 2000, statementTimeout: 5000, poolSize: 4 }, lease: 3000, heartbeat: 1000, receivers: [] }, p => p, { KANSHI_PG_PASSWORD: pg.password }, undefined)!
  const pool = makePool(config.postgres, () => {})
  t.teardown(async () => await pool.end())
  await migrate(pool)
  contract(t, async t => {
    await pg.admin.query('TRUNCATE alert_series, incidents, incident_notices, outbox, report_runs, alert_windows, degraded_origins RESTART IDENTITY')
    const dir = await tmpDir(t)
    const audit = new AuditLog(dir)
    const inner = new PgAlertStore({ pool, node: 'n1', audit })
    const s = new DegradingAlertStore({ pg: inner, pool, node: 'n1', dataDir: dir, audit, degradedAfterMs: 60_000, logger: pino({ level: 'silent' }) })
    t.teardown(async () => { await s.close(); audit.close() })
    return s
  })
})
