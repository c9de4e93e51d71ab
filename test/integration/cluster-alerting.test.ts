// Exactly once across a failover, with real parts: three collectors on one PostgreSQL, real
// agents (urls [c1, c2, c3]) running a command check whose exit code the test sets, a real SMTP
// server. A rule fires before, during (pending `for`) and after SIGKILL of c1, which holds the
// agents: each gets one firing and one resolved mail and one incident row, and the pending one
// keeps the start time c1 recorded (no miss, no early fire).

import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startPostgres } from '../helpers/postgres.js'
import { withSmtp, type Received } from '../helpers/smtp.js'
import { makeCluster } from '../helpers/cluster.js'
import { waitFor } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'
import Database from 'better-sqlite3'
import { readRecord } from '../../collector/report/incidents.js'

const FOR_MS = 5000
const AGENTS = ['web01', 'web02', 'web03'] // fires before, during, after the kill
const RULES = `- { name: app_down, type: service, severity: critical, for: ${FOR_MS / 1000}s, summary: { ja: '{{host}} アプリ停止', en: '{{host}} app down' } }\n`

t.test('a rule firing before, during and after SIGKILL of the collector holding the agent: one mail each way', async t => {
  const pg = await startPostgres(t)
  const smtp = await withSmtp(t)
  const dir = await tmpDir(t)
  const state = (id: string): string => join(dir, `exit-${id}`)
  const set = (id: string, code: 0 | 2): void => { writeFileSync(state(id), String(code)) }
  for (const id of AGENTS) set(id, 0)
  const cl = await makeCluster(t, {
    pg, smtp, collectors: 3, agents: AGENTS, lease: '3s', heartbeat: '1s', urls: 3, rules: RULES,
    alerting: { routes: [{ receiver: 'oncall' }], publicUrl: 'https://kanshi.example.jp' },
    agentConfig: id => ({ checks: [{ name: 'app', type: 'command', command: ['/bin/sh', '-c', `exit $(cat ${state(id)})`], interval: '1s', timeout: '5s' }] })
  })
  const c1 = await cl.startCollector(0)
  await cl.startCollector(1)
  await cl.startCollector(2)
  for (const id of AGENTS) await cl.startAgent(id)
  const on = async (node: string): Promise<string[]> => (await pg.admin.query('SELECT agent FROM agent_sessions WHERE node = $1 AND connected ORDER BY agent', [node])).rows.map(r => r.agent)
  await waitFor(async () => (await on('c1')).length === AGENTS.length, 20_000)
  const leases = async (): Promise<Record<string, string>> => Object.fromEntries((await pg.admin.query("SELECT name, holder FROM leases WHERE name LIKE 'agent:%' AND expires_at > now()")).rows.map(r => [r.name, r.holder]))
  await waitFor(async () => Object.values(await leases()).filter(h => h === 'c1').length === AGENTS.length, 10_000)

  // A mail names each of its alerts in a "■ <summary>" line: two alerts resolving within a group interval share one
  // mail (resolved mails are grouped per receiver, across rules), which is then one resolved mail for each.
  const mails = (host: string, kind: 'firing' | 'resolved'): Received[] => smtp.mails.filter(m => m.to.includes('oncall@example.jp') && new RegExp(`^■ ${host} アプリ停止\r?$`, 'm').test(m.text) &&
    (kind === 'resolved' ? /RESOLVED/.test(m.subject) : !/RESOLVED|継続中|ESCALATION/.test(m.subject)))
  const pending = async (host: string): Promise<{ state: string, since: number } | undefined> =>
    (await pg.admin.query("SELECT data FROM alert_series WHERE rule = 'app_down' AND data->'labels'->>'host' = $1", [host])).rows[0]?.data

  // before: fires on c1 and is mailed.
  set('web01', 2)
  await waitFor(() => mails('web01', 'firing').length === 1, 30_000, 100)

  // during: pending on c1 (recorded in PostgreSQL), then c1 dies before `for` has passed.
  set('web02', 2)
  await waitFor(async () => (await pending('web02'))?.state === 'pending', 15_000, 50)
  const since = (await pending('web02'))!.since
  c1.kill('SIGKILL')
  const killedAt = Date.now()
  t.ok(killedAt < since + FOR_MS, `killed ${killedAt - since} ms into the ${FOR_MS} ms pending time`)
  await waitFor(async () => (await on('c2')).length === AGENTS.length, 20_000)
  await waitFor(async () => Object.values(await leases()).filter(h => h === 'c2').length === AGENTS.length, 15_000)
  t.pass(`the agents and their leases are on c2 ${Date.now() - killedAt} ms after the kill`)
  await waitFor(() => mails('web02', 'firing').length === 1, 30_000, 100)
  const inc2 = (await pg.admin.query("SELECT detected_at FROM incidents WHERE host = 'web02' AND rule = 'app_down'")).rows[0]
  t.equal(Number(inc2.detected_at), since, 'the pending start c1 recorded is the detection time: the timer carried over')
  t.ok(mails('web02', 'firing')[0]!.at >= since + FOR_MS, `not fired early: mailed ${mails('web02', 'firing')[0]!.at - since} ms after the condition began`)

  // before, resolved after the move: c2 loaded the firing state, so no second firing mail, one resolved.
  set('web01', 0)
  await waitFor(() => mails('web01', 'resolved').length === 1, 20_000, 100)

  // after: fires and resolves on c2.
  set('web03', 2)
  await waitFor(() => mails('web03', 'firing').length === 1, 30_000, 100)
  set('web03', 0)
  set('web02', 0)
  await waitFor(() => mails('web03', 'resolved').length === 1 && mails('web02', 'resolved').length === 1, 20_000, 100)

  // The ack link in a mail verifies on every node (one cluster-wide secret), whichever node composed it.
  const link = /https:\/\/kanshi\.example\.jp(\/v1\/alerts\/\d+\/ack\?exp=\d+&sig=[^\s<>"]+)/.exec(mails('web03', 'firing')[0]!.text)?.[1]
  t.ok(link !== undefined, 'the firing mail has an ack link')
  for (const i of [1, 2]) t.equal((await fetch(`http://127.0.0.1:${cl.ports[i]}${link!}`)).status, 200, `the ack link verifies on c${i + 1}`)
  t.equal((await fetch(`http://127.0.0.1:${cl.ports[1]}${link!.replace('sig=', 'sig=x')}`)).status, 403, 'and a forged one does not')

  // Time for any duplicate (three planners, three senders) to show up.
  await new Promise(resolve => setTimeout(resolve, 4000))
  for (const host of AGENTS) {
    t.equal(mails(host, 'firing').length, 1, `${host}: one firing mail`)
    t.equal(mails(host, 'resolved').length, 1, `${host}: one resolved mail`)
    const rows = (await pg.admin.query("SELECT id, resolved_at FROM incidents WHERE host = $1 AND rule = 'app_down'", [host])).rows
    t.equal(rows.length, 1, `${host}: one incident record in PostgreSQL`)
    t.ok(rows[0]?.resolved_at !== null, `${host}: resolved`)
  }
  // The reports read alerting.db: every node's copy of the shared record catches up (every 6 heartbeats).
  const pgRows = (await pg.admin.query("SELECT id, host, detected_at, resolved_at FROM incidents WHERE rule = 'app_down' ORDER BY id")).rows.map(r => [Number(r.id), r.host, Number(r.detected_at), r.resolved_at === null ? null : Number(r.resolved_at)])
  const copy = (node: string): unknown[] => {
    const db = new Database(join(cl.dir, node, 'alerting.db'), { readonly: true })
    try { return (db.prepare("SELECT id, host, detected_at, resolved_at FROM incidents WHERE rule = 'app_down' ORDER BY id").all() as Array<Record<string, unknown>>).map(r => [r['id'], r['host'], r['detected_at'], r['resolved_at']]) } finally { db.close() }
  }
  await waitFor(() => JSON.stringify(copy('c3')) === JSON.stringify(pgRows), 15_000, 500)
  t.same(copy('c3'), pgRows, `c3's alerting.db holds the ${pgRows.length} incidents of the shared record`)
  const rec = readRecord(join(cl.dir, 'c3'), 0, Date.now() + 1, 'ja', { notifyWithinMin: 15, majorSeverities: ['critical'], majorMinMs: 30 * 60_000 })
  t.same(rec.incidents.filter(i => i.rule === 'app_down').map(i => i.id), pgRows.map(r => r[0]), 'and the SLA report reads them')
  const scope0 = (await pg.admin.query("SELECT value FROM kanshi_meta WHERE key = 'scope'")).rows[0].value as string
  t.ok(smtp.mails.every(m => m.messageId.endsWith(`.${scope0}@kanshi>`)), 'Message-IDs carry the cluster scope')

  // PostgreSQL away while a rule starts firing: alerting waits and retries; once it is back the alert is recorded and mailed once.
  await pg.stop()
  set('web01', 2)
  await new Promise(resolve => setTimeout(resolve, FOR_MS + 2000))
  t.equal(mails('web01', 'firing').length, 1, 'no new mail while PostgreSQL is down')
  await pg.start()
  await waitFor(() => mails('web01', 'firing').length === 2, 40_000, 200)
  set('web01', 0)
  await waitFor(() => mails('web01', 'resolved').length === 2, 30_000, 200)
  await new Promise(resolve => setTimeout(resolve, 3000))
  t.equal(mails('web01', 'firing').length, 2, 'after the outage: one more firing mail, not several')
  t.equal((await pg.admin.query("SELECT count(*)::int AS n FROM incidents WHERE host = 'web01' AND rule = 'app_down'")).rows[0].n, 2, 'and one more incident')

  const scope = (await pg.admin.query("SELECT value FROM kanshi_meta WHERE key = 'scope'")).rows[0].value as string
  const ids = smtp.mails.map(m => m.messageId)
  t.equal(new Set(ids).size, ids.length, 'every mail has its own Message-ID')
  const sent = (await pg.admin.query('SELECT id FROM outbox WHERE sent_at IS NOT NULL ORDER BY id')).rows.map(r => `<outbox-${String(r.id)}.${scope}@kanshi>`)
  t.same([...ids].sort(), [...sent].sort(), 'each one is <outbox-<row id>.<cluster scope>@kanshi> of a sent outbox row')
  t.equal(Number((await pg.admin.query('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL')).rows[0].n), 0, 'nothing left in the outbox')
  const fenced = [await cl.metric(1, 'kanshi_alert_fenced_total'), await cl.metric(2, 'kanshi_alert_fenced_total')]
  t.ok(fenced.every(n => n !== undefined), `kanshi_alert_fenced_total is exposed (c2 ${String(fenced[0])}, c3 ${String(fenced[1])}: writes refused during the handover)`)
})
