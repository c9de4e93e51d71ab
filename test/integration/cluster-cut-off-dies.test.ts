// A collector cut off from PostgreSQL (blackhole proxy) that then dies: first the one "cut off"
// mail per receiver (it answers the leader's signed probe), then, once it answers no more, the
// cut-off notice ends and the usual "collector down … moved" mail follows, once; its agent moves
// to the leader and is never judged down. Real PostgreSQL, collectors, agent and SMTP server.

import t from 'tap'
import { walEntries } from '../helpers/wal.js'
import { join } from 'node:path'
import { startPostgres } from '../helpers/postgres.js'
import { withSmtp } from '../helpers/smtp.js'
import { makeCluster } from '../helpers/cluster.js'
import { startBlackhole } from '../helpers/blackhole.js'
import { waitFor } from '../helpers/procs.js'

const LEASE_MS = 3000

t.test('cut off, then killed: the cut-off notice turns into one "collector down" mail', async t => {
  const pg = await startPostgres(t)
  const smtp = await withSmtp(t)
  const proxy = await startBlackhole({ host: '127.0.0.1', port: pg.port }, t)
  // c2 leads; web01 is on c1 (first in its urls), whose PostgreSQL goes through the proxy.
  const cl = await makeCluster(t, { pg, smtp, collectors: 2, agents: ['web01'], lease: `${LEASE_MS}ms`, heartbeat: '500ms', hostDownAfterIntervals: 6, pgUrls: [proxy.url(pg.url)] })
  const c2 = await cl.startCollector(1)
  await c2.waitForLine(l => l.includes('this collector is the leader'), 15_000)
  const c1 = await cl.startCollector(0)
  await cl.startAgent('web01')
  const on = async (node: string): Promise<boolean> => (await pg.admin.query("SELECT 1 FROM agent_sessions WHERE agent = 'web01' AND node = $1 AND connected", [node])).rowCount === 1
  await waitFor(async () => await on('c1'), 20_000)
  // Before its first connection web01 was silent in earnest (c2 started seconds before it): host-down then is right.
  const heardAt = Date.now()

  proxy.set('blackhole')
  const cutAt = Date.now()
  const mails = (re: RegExp): typeof smtp.mails => smtp.mails.filter(m => re.test(m.subject))
  const cutOff = /collector c1 cannot reach PostgreSQL|コレクタ c1 が PostgreSQL に接続不可/
  await waitFor(() => mails(cutOff).length === 2, LEASE_MS + 10_000, 100)
  t.comment(`cut-off mails ${Date.now() - cutAt} ms after the cut`)
  t.same(mails(/collector c1 down|コレクタ c1 停止/), [], 'no "collector down" while c1 answers')

  c1.kill('SIGKILL')
  const killedAt = Date.now()
  await c1.waitExit()
  const down = /collector c1 down|コレクタ c1 停止/
  await waitFor(() => mails(down).length === 2, 15_000, 100)
  const downMs = Date.now() - killedAt
  t.comment(`"collector down" mails ${downMs} ms after the kill (failed probes for a lease, heartbeat 500 ms)`)
  t.ok(downMs >= LEASE_MS - 500 && downMs < LEASE_MS + 5000, `about a lease after the kill (${downMs} ms)`)
  const en = mails(down).find(m => m.to.includes('ops@example.jp'))!
  t.equal(en.subject, '[kanshi] collector c1 down; 1 agents moved to c2 (1); 0 not reconnected', 'the usual mail: web01 moved')
  const rows = await pg.admin.query("SELECT kind, resolved_at IS NOT NULL AS resolved FROM node_down WHERE node = 'c1' ORDER BY down_at")
  t.same(rows.rows, [{ kind: 'cut_off', resolved: true }, { kind: 'down', resolved: false }], 'node_down: the cut-off notice ended where the down notice began')
  await waitFor(async () => await on('c2'), 20_000)
  t.pass(`web01 on c2 ${Date.now() - killedAt} ms after the kill`)
  await new Promise(resolve => setTimeout(resolve, 3000))
  t.equal(mails(down).length, 2, 'not repeated')
  t.same(mails(/is back in PostgreSQL|PostgreSQL に復帰/), [], 'no "back in PostgreSQL" mail: it did not come back')
  t.same(smtp.mails.filter(m => m.at >= heardAt).map(m => m.subject).filter(x => /web01/.test(x) && !/RESOLVED/.test(x)), [], 'no host-down mail for web01 once it connected')
  c2.kill('SIGTERM')
  t.equal(await c2.waitExit(), 0)
  const zeros = (await walEntries(join(cl.dir, 'c2'), '')).flatMap(e => e.p).filter(p => p.m === 'host_up' && p.tags?.['host'] === 'web01' && p.f['up'] === 0 && p.t >= heardAt)
  t.same(zeros.map(p => p.t), [], 'c2 wrote no host_up=0 for web01 once it connected')
})
