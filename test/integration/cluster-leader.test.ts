// One leader among collector processes on a real PostgreSQL: the leader paused (SIGSTOP) loses
// the lease to the other, which leads at a higher epoch; resumed (SIGCONT) it runs no job, so
// every leader job's due time has exactly one run. The leader SIGKILLed: the other leads within
// the lease time. kanshi_cluster_* on /metrics say who leads.

import t from 'tap'
import { startPostgres } from '../helpers/postgres.js'
import { withSmtp } from '../helpers/smtp.js'
import { makeCluster } from '../helpers/cluster.js'
import { waitFor } from '../helpers/procs.js'

const LEASE_MS = 3000

t.test('leader lease across processes: pause, fencing, kill', async t => {
  const pg = await startPostgres(t)
  const smtp = await withSmtp(t)
  const cl = await makeCluster(t, { pg, smtp, collectors: 2, agents: [], lease: `${LEASE_MS}ms`, heartbeat: '500ms' })
  const c1 = await cl.startCollector(0)
  await c1.waitForLine(l => l.includes('this collector is the leader'), 15_000)
  const c2 = await cl.startCollector(1)
  await waitFor(async () => (await cl.metric(1, 'kanshi_cluster_nodes')) === 2, 10_000)
  t.equal(await cl.metric(0, 'kanshi_cluster_leader'), 1, 'c1 leads')
  t.equal(await cl.metric(1, 'kanshi_cluster_leader'), 0, 'c2 does not')
  t.equal(await cl.metric(1, 'kanshi_cluster_pg_up'), 1)
  const lease = async (): Promise<{ holder: string, epoch: number }> => (await pg.admin.query("SELECT holder, epoch::int FROM leases WHERE name = 'leader'")).rows[0]
  const first = await lease()
  t.same(first.holder, 'c1')

  // Pause c1: it cannot renew, and c2 takes the lease once it expired by the database clock.
  c1.kill('SIGSTOP')
  const pausedAt = Date.now()
  await waitFor(async () => (await lease()).holder === 'c2', LEASE_MS + 5000, 100)
  const tookMs = Date.now() - pausedAt
  const second = await lease()
  t.ok(second.epoch > first.epoch, `epoch ${first.epoch} → ${second.epoch}`)
  t.ok(tookMs >= LEASE_MS - 1000 && tookMs < LEASE_MS + 3000, `c2 took over ${tookMs} ms after the pause (lease ${LEASE_MS} ms)`)
  c1.kill('SIGCONT')
  // c1 runs its timers late, finds its lease gone and stands down.
  await c1.waitForLine(l => l.includes('another collector took the leader lease'), 10_000)
  await new Promise(resolve => setTimeout(resolve, 1500))
  t.equal(await cl.metric(0, 'kanshi_cluster_leader'), 0, 'c1 no longer leads')
  t.equal(await cl.metric(1, 'kanshi_cluster_leader'), 1, 'c2 does')
  const dup = await pg.admin.query('SELECT job, due_at, count(*)::int AS n FROM cluster_jobs GROUP BY job, due_at HAVING count(*) > 1')
  t.same(dup.rows, [], 'no leader job ran twice for one due time')
  const late = await pg.admin.query("SELECT count(*)::int AS n FROM cluster_jobs WHERE node = 'c1' AND epoch = $1 AND ran_at > (SELECT min(ran_at) FROM cluster_jobs WHERE epoch = $2)", [first.epoch, second.epoch])
  t.equal(late.rows[0].n, 0, 'c1 ran nothing after c2 began leading')
  const byEpoch = await pg.admin.query('SELECT DISTINCT node, epoch::int FROM cluster_jobs ORDER BY epoch')
  t.same(byEpoch.rows, [{ node: 'c1', epoch: first.epoch }, { node: 'c2', epoch: second.epoch }], 'each epoch\'s runs are its holder\'s')

  // SIGKILL the leader: c1 leads again within the lease time.
  c2.kill('SIGKILL')
  const killedAt = Date.now()
  await waitFor(async () => (await cl.metric(0, 'kanshi_cluster_leader')) === 1, LEASE_MS + 5000, 100)
  const again = Date.now() - killedAt
  t.ok(again < LEASE_MS + 2000, `c1 leads ${again} ms after the kill`)
  t.ok((await lease()).epoch > second.epoch, 'at a new epoch')
  await waitFor(async () => (await cl.metric(0, 'kanshi_cluster_nodes')) === 1, 5000)
  t.equal(smtp.mails.filter(m => /c2/.test(m.subject)).length, 0, 'no "down" mail before the lease time passed')
  await waitFor(() => smtp.mails.filter(m => /collector c2 down/.test(m.subject)).length === 1, 10_000)
  t.pass('one mail says c2 is down (en receiver)')
  c1.kill('SIGTERM')
  t.equal(await c1.waitExit(), 0)
  const after = await pg.admin.query("SELECT n.stopped_at IS NOT NULL AS stopped, l.expires_at <= now() AS released FROM nodes n, leases l WHERE n.node = 'c1' AND l.name = 'leader'")
  t.same(after.rows, [{ stopped: true, released: true }], 'a graceful stop marks the node stopped and gives the lease up at once')
})
