// Degraded mode through a real collector process (cluster mode, one node) with a real agent
// and a real SMTP server: PostgreSQL stopped for 60 s. Ingest goes on; once degradedAfter has
// passed the critical alert is mailed, marked 縮退運転, and the warning held; /readyz and
// /metrics say so; when PostgreSQL is back everything is reconciled: one incident per alert,
// the sent mail recorded as sent, the held mail sent once.

import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startPostgres } from '../helpers/postgres.js'
import { withSmtp } from '../helpers/smtp.js'
import { makeCluster } from '../helpers/cluster.js'
import { waitFor } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'
import { asViewer } from '../helpers/config.js'

const DEGRADED_AFTER_MS = 5000
const OUTAGE_MS = 60_000
const RULES = [
  "- { name: app_down, type: service, severity: critical, where: { service: app }, summary: { ja: '{{host}} アプリ停止', en: '{{host}} app down' } }",
  "- { name: batch_down, type: service, severity: warning, where: { service: batch }, summary: { ja: '{{host}} バッチ停止', en: '{{host}} batch down' } }"
].join('\n') + '\n'

t.test('PostgreSQL stopped for 60 s under a collector: ingest goes on, critical mail marked, reconciled after', async t => {
  const pg = await startPostgres(t)
  const smtp = await withSmtp(t)
  const dir = await tmpDir(t)
  const state = (check: string): string => join(dir, `exit-${check}`)
  const set = (check: string, code: 0 | 2): void => { writeFileSync(state(check), String(code)) }
  set('app', 0)
  set('batch', 0)
  const cl = await makeCluster(t, {
    pg, smtp, collectors: 1, agents: ['web01'], lease: '3s', heartbeat: '1s', urls: 1, rules: RULES,
    alerting: { routes: [{ receiver: 'oncall' }] },
    cluster: { degradedAfter: `${DEGRADED_AFTER_MS}ms` },
    agentConfig: () => ({
      checks: ['app', 'batch'].map(name => ({ name, type: 'command', command: ['/bin/sh', '-c', `exit $(cat ${state(name)})`], interval: '1s', timeout: '5s' }))
    })
  })
  const c1 = await cl.startCollector(0)
  // DEBUG_DEGRADED=1 prints the collector's alerting log lines at the end.
  t.teardown(() => { if (process.env['DEBUG_DEGRADED'] === '1') console.error(c1.lines.filter(l => /alerting|degraded|PostgreSQL|error/i.test(l)).slice(-40).join('\n')) })
  await cl.startAgent('web01')
  await waitFor(async () => (await pg.admin.query("SELECT 1 FROM leases WHERE name = 'agent:web01' AND holder = 'c1' AND expires_at > now()")).rowCount === 1, 20_000)
  const points = async (): Promise<number> => (await cl.metric(0, 'kanshi_points_received_total')) ?? NaN
  // The agent's checks arrive before PostgreSQL goes away.
  await waitFor(async () => await points() > 0, 20_000)
  await new Promise(resolve => setTimeout(resolve, 2000))

  await pg.stop()
  const stoppedAt = Date.now()
  set('app', 2)
  set('batch', 2)
  const marked = (): typeof smtp.mails => smtp.mails.filter(m => m.subject.includes('web01 アプリ停止'))
  await waitFor(() => marked().length === 1, 30_000, 100)
  const critical = marked()[0]!
  t.match(critical.subject, /^\[縮退運転\] \[CRITICAL\] web01 アプリ停止/, 'the critical mail, marked')
  t.match(critical.text, /PostgreSQL に接続できないため、収集サーバ c1 が単独で判断して送信しました/)
  t.ok(critical.at >= stoppedAt + DEGRADED_AFTER_MS, `not before degradedAfter: mailed ${critical.at - stoppedAt} ms after the stop`)
  t.equal(smtp.mails.filter(m => m.subject.includes('バッチ停止')).length, 0, 'the warning is held')
  t.equal(await cl.metric(0, 'kanshi_alerting_degraded'), 1, 'kanshi_alerting_degraded 1')
  const ready = await cl.readyz(0)
  t.notOk(ready.problems.some(p => p.includes('alerting')), 'degraded is a warning, not a problem (this WAL-only collector has its storage problem)')
  t.match(ready.warnings?.join('\n') ?? '', /alerting: degraded \(縮退運転\) since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d JST; 1 mails held/)
  const cs = await (await fetch(`http://127.0.0.1:${cl.ports[0]!}/api/v1/cluster`, { headers: asViewer })).json() as { status: { alerting?: { degraded: boolean, held: number } } }
  t.same({ degraded: cs.status.alerting?.degraded, held: cs.status.alerting?.held }, { degraded: true, held: 1 }, 'the console\'s cluster status says so')
  const p1 = await points()
  await new Promise(resolve => setTimeout(resolve, 3000))
  t.ok(await points() > p1, 'ingest goes on while PostgreSQL is down')

  await new Promise(resolve => setTimeout(resolve, Math.max(0, stoppedAt + OUTAGE_MS - Date.now())))
  await pg.start()
  const startedAt = Date.now()
  await waitFor(async () => await cl.metric(0, 'kanshi_alerting_degraded') === 0, 30_000, 200)
  t.comment(`critical mail ${critical.at - stoppedAt} ms after the stop; degraded mode ended ${Date.now() - startedAt} ms after PostgreSQL was up`)
  await waitFor(() => smtp.mails.some(m => m.subject.includes('web01 バッチ停止')), 30_000, 100)
  await new Promise(resolve => setTimeout(resolve, 3000)) // time for any duplicate to show
  t.equal(marked().length, 1, 'the critical alert mailed once in all')
  const warn = smtp.mails.filter(m => m.subject.includes('web01 バッチ停止'))
  t.equal(warn.length, 1, 'the held warning sent once, after reconciliation')
  t.notMatch(warn[0]!.subject, /縮退運転/)
  const inc = (await pg.admin.query("SELECT rule, resolved_at FROM incidents WHERE host = 'web01' ORDER BY rule")).rows
  t.same(inc.map(r => r.rule), ['app_down', 'batch_down'], 'one incident per alert in PostgreSQL')
  const sent = (await pg.admin.query('SELECT message_id FROM outbox WHERE sent_at IS NOT NULL AND message_id IS NOT NULL')).rows.map(r => r.message_id)
  t.ok(sent.includes(critical.messageId), 'the mail sent alone is recorded in PostgreSQL as sent, same Message-ID')
  t.equal(Number((await pg.admin.query('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL')).rows[0].n), 0, 'nothing left in the outbox')
  t.equal((await cl.readyz(0)).warnings?.some(w => w.includes('縮退運転')) ?? false, false, 'the warning is gone')
})
