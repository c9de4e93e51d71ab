// A collector dies with three agents on it (real processes, urls [c1, c2]): the agents move to
// c2, the leader mails ONE "collector c1 down" per receiver naming them, nobody gets a host-down
// mail for them, and one "back" mail when c1 returns. Then PostgreSQL stops for a few seconds:
// ingest keeps acking, /readyz warns, and after it returns the nodes re-register and one leads.

import t from 'tap'
import { startPostgres } from '../helpers/postgres.js'
import { withSmtp } from '../helpers/smtp.js'
import { makeCluster } from '../helpers/cluster.js'
import { waitFor } from '../helpers/procs.js'
import { asViewer } from '../helpers/config.js'

const AGENTS = ['web01', 'web02', 'db01']
const LEASE_MS = 4000
const HOST_DOWN_MS = 6 * 1000 // hostDownAfterIntervals 6 × interval 1s

t.test('collector down: one mail, agents moved, no host-down; PostgreSQL down: ingest goes on', async t => {
  const pg = await startPostgres(t)
  const smtp = await withSmtp(t)
  const cl = await makeCluster(t, { pg, smtp, collectors: 2, agents: AGENTS, lease: `${LEASE_MS}ms`, heartbeat: '1s', hostDownAfterIntervals: 6 })
  // c2 first: it leads; c1, first in the agents' urls, gets them.
  const c2 = await cl.startCollector(1)
  await c2.waitForLine(l => l.includes('this collector is the leader'), 15_000)
  const c1 = await cl.startCollector(0)
  for (const id of AGENTS) await cl.startAgent(id)
  const on = async (node: string): Promise<string[]> => (await pg.admin.query('SELECT agent FROM agent_sessions WHERE node = $1 AND connected ORDER BY agent', [node])).rows.map(r => r.agent)
  await waitFor(async () => (await on('c1')).length === AGENTS.length, 20_000)
  t.same(await on('c1'), [...AGENTS].sort(), 'the three agents are on c1')
  await new Promise(resolve => setTimeout(resolve, 1500))
  t.same(smtp.mails.map(m => m.subject), [], 'no mail while all is well')

  c1.kill('SIGKILL')
  const killedAt = Date.now()
  await waitFor(async () => (await on('c2')).length === AGENTS.length, 20_000)
  t.pass(`the agents are on c2 ${Date.now() - killedAt} ms after the kill`)
  const downMails = (): typeof smtp.mails => smtp.mails.filter(m => /c1/.test(m.subject) && !/復帰|is back/.test(m.subject))
  await waitFor(() => downMails().length === 2, LEASE_MS + 10_000, 100)
  const en = downMails().find(m => m.to.includes('ops@example.jp'))!
  const ja = downMails().find(m => m.to.includes('oncall@example.jp'))!
  t.equal(en.subject, `[kanshi] collector c1 down; ${AGENTS.length} agents moved to c2 (${AGENTS.length}); 0 not reconnected`)
  t.equal(ja.subject, `[kanshi] コレクタ c1 停止: エージェント ${AGENTS.length} 台が c2 (${AGENTS.length}) へ移動、0 台が未接続`)
  t.match(en.text, new RegExp(`- c2: ${[...AGENTS].sort().join(', ')}`), 'the moved agents are named')
  t.ok(en.at - killedAt >= LEASE_MS - 1000, `mailed ${en.at - killedAt} ms after the kill, not before the lease time`)
  // Past the host-down time: still only the two collector mails, no per-agent host_down.
  await new Promise(resolve => setTimeout(resolve, HOST_DOWN_MS + 2000))
  t.same(smtp.mails.map(m => m.subject).filter(s => /停止|down/.test(s) && !/c1/.test(s)), [], 'no host-down mail for the moved agents')
  t.equal(downMails().length, 2, 'one collector-down mail per receiver, not repeated')
  const rows = await pg.admin.query("SELECT node, agents, moved, lost, resolved_at FROM node_down WHERE node = 'c1'")
  t.same(rows.rows, [{ node: 'c1', agents: 3, moved: { c2: [...AGENTS].sort() }, lost: [], resolved_at: null }], 'recorded once in node_down')

  // The console's cluster view (viewer): c2 leads, c1 down with no agents left.
  const view = await (await fetch(`http://127.0.0.1:${cl.ports[1]}/api/v1/cluster`, { headers: asViewer })).json() as { status: { leader: string, pgUp: boolean, nodes: Array<{ node: string, live: boolean, agents: number }> } }
  t.equal(view.status.leader, 'c2')
  t.equal(view.status.pgUp, true)
  t.notMatch(JSON.stringify(view), pg.password, 'no password in the view')
  t.same(view.status.nodes.map(n => [n.node, n.live, n.agents]), [['c1', false, 0], ['c2', true, AGENTS.length]])
  t.equal((await fetch(`http://127.0.0.1:${cl.ports[1]}/api/v1/cluster`)).status, 401, 'the view needs a viewer')

  // c1 back: one resolved mail per receiver.
  await cl.startCollector(0)
  await waitFor(() => smtp.mails.filter(m => /c1/.test(m.subject) && /復帰|is back/.test(m.subject)).length === 2, 15_000, 100)
  t.match(smtp.mails.find(m => /is back/.test(m.subject))!.subject, '[kanshi] [RESOLVED] collector c1 is back')

  // PostgreSQL away for a few seconds.
  const acks = async (): Promise<number> => (await cl.metric(1, 'kanshi_frames_sent_total{type="ack"}')) ?? 0
  await pg.stop()
  const stoppedAt = Date.now()
  await waitFor(async () => (await cl.readyz(1)).warnings?.some(w => w.startsWith('cluster: postgres unreachable')), 10_000)
  const r = await cl.readyz(1)
  // WAL-only here, so "not ready" for storage; the cluster is a warning, never a problem.
  t.same(r.problems.filter(p => p.includes('cluster')), [], 'PostgreSQL down is no readiness problem: ingest works')
  t.equal(await cl.metric(1, 'kanshi_cluster_pg_up'), 0)
  const before = await acks()
  await new Promise(resolve => setTimeout(resolve, 2500))
  t.ok(await acks() > before, 'c2 keeps acking the agents while PostgreSQL is down')
  await waitFor(async () => (await cl.metric(1, 'kanshi_cluster_leader')) === 0, LEASE_MS + 3000)
  t.ok(Date.now() - stoppedAt < LEASE_MS + 3000, 'the leader stood down within the lease')
  await pg.start()
  const back = Date.now()
  await waitFor(async () => ((await cl.metric(0, 'kanshi_cluster_leader')) ?? 0) + ((await cl.metric(1, 'kanshi_cluster_leader')) ?? 0) === 1, 15_000)
  t.pass(`one leader again ${Date.now() - back} ms after PostgreSQL returned`)
  const fresh = async (): Promise<string[]> => (await pg.admin.query("SELECT node FROM nodes WHERE last_seen > now() - interval '2 seconds' AND stopped_at IS NULL ORDER BY node")).rows.map(x => x.node)
  await waitFor(async () => (await fresh()).length === 2, 10_000)
  t.same(await fresh(), ['c1', 'c2'], `both nodes re-registered within ${Date.now() - back} ms`)
  // A statement on a connection from before the restart may still fail once (the next heartbeat, 250 ms later, succeeds).
  await waitFor(async () => (await cl.readyz(1)).warnings?.some(w => w.startsWith('cluster:')) !== true, 5000, 100)
  t.pass(`the warning is gone ${Date.now() - back} ms after PostgreSQL returned`)
  t.same(smtp.mails.filter(m => /停止|down/.test(m.subject) && !/c1/.test(m.subject)).map(m => m.subject), [], 'the outage paged nobody')
})
