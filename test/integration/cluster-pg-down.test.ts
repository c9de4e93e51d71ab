// PostgreSQL stopped for 60 s under two collectors with a real influxd, two real agents (one on
// each collector) and two protocol clients counting every batch. All along: every batch acked
// and stored, /readyz ready with a PostgreSQL warning, the console JSON says PostgreSQL is down,
// nobody leads and nobody is mailed. After start(): both nodes re-register, one leader,
// agent_sessions current, and still no mail (no "collector down" for a peer that was merely
// waiting for the database too). InfluxDB holds exactly the batches that were sent.

import t, { type Test } from 'tap'
import { startPostgres } from '../helpers/postgres.js'
import { withSmtp } from '../helpers/smtp.js'
import { withInfluxd, query } from '../helpers/influxd.js'
import { makeCluster } from '../helpers/cluster.js'
import { connectAgent, type FakeAgent } from '../helpers/fake-agent.js'
import { waitFor } from '../helpers/procs.js'
import { asViewer } from '../helpers/config.js'

const LEASE_MS = 4000
const HEARTBEAT_MS = 1000
const DOWN_MS = 60_000
const SEND_EVERY_MS = 250

/** A protocol-2 client sending one numbered point per batch, keeping what was sent, acked and stored. */
async function counter (t: Test, url: string, id: string, token: string): Promise<{ a: FakeAgent, sent: number[], acked: () => number[], stored: () => number, stop: () => void }> {
  const a = await connectAgent(t, url, { id, token })
  await a.greet({}, 2)
  const sent: number[] = []
  const base = Date.now()
  const timer = setInterval(() => {
    const seq = sent.length + 1
    // A distinct time per batch: InfluxDB keeps each as its own point.
    a.batch(seq, [{ m: 'pgdown_probe', t: base + seq, f: { seq } }])
    sent.push(seq)
  }, SEND_EVERY_MS)
  t.teardown(() => { clearInterval(timer) })
  return {
    a,
    sent,
    acked: () => a.frames.filter(f => f.type === 'ack').map(f => f.seq as number),
    stored: () => Math.max(0, ...a.frames.filter(f => f.type === 'stored').map(f => f.seq as number)),
    stop: () => { clearInterval(timer) }
  }
}

t.test('PostgreSQL stopped 60 s: ingest goes on, nothing lost, the cluster comes back whole and quiet', async t => {
  const pg = await startPostgres(t)
  const smtp = await withSmtp(t)
  const influx = await withInfluxd(t)
  const cl = await makeCluster(t, {
    pg, smtp, collectors: 2, agents: ['web01', 'web02', 'app01', 'app02'], lease: `${LEASE_MS}ms`, heartbeat: `${HEARTBEAT_MS}ms`,
    influxUrl: influx.url, agentOrder: { web02: [1, 0] }
  })
  await cl.startCollector(0)
  await cl.startCollector(1)
  await cl.startAgent('web01')
  await cl.startAgent('web02')
  const url = (i: number): string => `ws://127.0.0.1:${cl.ports[i]}/v1/agent`
  const probes = [await counter(t, url(0), 'app01', cl.tokens.app01!), await counter(t, url(1), 'app02', cl.tokens.app02!)]
  const sessions = async (): Promise<string[]> => (await pg.admin.query("SELECT agent || '@' || node AS s FROM agent_sessions WHERE connected AND last_seen > now() - interval '3 seconds' ORDER BY agent")).rows.map(r => r.s)
  const expected = ['app01@c1', 'app02@c2', 'web01@c1', 'web02@c2']
  await waitFor(async () => (await sessions()).join() === expected.join(), 20_000)
  const leaders = async (): Promise<number[]> => [(await cl.metric(0, 'kanshi_cluster_leader')) ?? -1, (await cl.metric(1, 'kanshi_cluster_leader')) ?? -1]
  await waitFor(async () => (await leaders()).reduce((a, b) => a + b) === 1, 10_000)
  t.same((await cl.readyz(0)).status, 'ready', 'ready with InfluxDB and PostgreSQL up')
  t.same(smtp.mails.map(m => m.subject), [], 'no mail while all is well')

  await pg.stop()
  const stoppedAt = Date.now()
  const ackedAt = probes.map(p => p.acked().length)
  const sentAt = probes.map(p => p.sent.length)
  const storedAt = probes.map(p => p.stored())
  for (const i of [0, 1]) {
    await waitFor(async () => (await cl.readyz(i)).warnings?.some(w => w.startsWith('cluster: postgres unreachable')), 10_000)
    const r = await cl.readyz(i)
    t.equal(r.status, 'ready', `c${i + 1}: still ready for ingest`)
    t.same(r.problems, [], `c${i + 1}: no problem, a warning: ${r.warnings?.join('; ')}`)
  }
  t.comment(`both collectors warned within ${Date.now() - stoppedAt} ms`)
  const view = await (await fetch(`http://127.0.0.1:${cl.ports[0]}/api/v1/cluster`, { headers: asViewer })).json() as { status: { pgUp: boolean, pgError?: string, leader?: string, self: boolean } }
  t.equal(view.status.pgUp, false, 'the console JSON says PostgreSQL is down')
  t.ok(typeof view.status.pgError === 'string' && view.status.pgError.length > 0, `with the reason: ${view.status.pgError}`)
  t.notMatch(JSON.stringify(view), pg.password, 'and no password')
  await waitFor(async () => (await leaders()).join() === '0,0', LEASE_MS + 2000, 100)
  t.ok(Date.now() - stoppedAt <= LEASE_MS + 1000, `nobody leads after the lease (${Date.now() - stoppedAt} ms)`)
  t.equal((await cl.metric(1, 'kanshi_cluster_pg_up')), 0)

  // The rest of the 60 s: the probes go on; look now and then that acks and stores keep coming.
  const half = stoppedAt + DOWN_MS / 2
  await new Promise(resolve => setTimeout(resolve, half - Date.now()))
  probes.forEach((p, i) => {
    const sent = p.sent.length - sentAt[i]!
    const acked = p.acked().length - ackedAt[i]!
    t.ok(sent >= DOWN_MS / 2 / SEND_EVERY_MS / 2, `${p.a.id}: ${sent} batches sent in the first half of the outage`)
    // A batch or two may be in flight at the moment of looking.
    t.ok(acked >= sent - 2, `${p.a.id}: ${acked} of them acked`)
    t.ok(p.stored() > storedAt[i]!, `${p.a.id}: stored up to ${p.stored()}`)
  })
  await new Promise(resolve => setTimeout(resolve, stoppedAt + DOWN_MS - Date.now()))
  t.same(smtp.mails.map(m => m.subject), [], 'nothing mailed during the outage')

  await pg.start()
  const startedAt = Date.now()
  await waitFor(async () => (await leaders()).reduce((a, b) => a + b) === 1, 15_000, 100)
  const leaderMs = Date.now() - startedAt
  const fresh = async (): Promise<string[]> => (await pg.admin.query("SELECT node FROM nodes WHERE last_seen > now() - interval '2 seconds' AND stopped_at IS NULL ORDER BY node")).rows.map(x => x.node)
  await waitFor(async () => (await fresh()).join() === 'c1,c2', 10_000, 100)
  const nodesMs = Date.now() - startedAt
  await waitFor(async () => (await sessions()).join() === expected.join(), 10_000, 100)
  t.comment(`after start(): one leader in ${leaderMs} ms, both nodes re-registered in ${nodesMs} ms, agent_sessions current in ${Date.now() - startedAt} ms`)
  t.same(await sessions(), expected, 'agent_sessions: each agent connected on its node, seen just now')
  const lease = (await pg.admin.query("SELECT holder, expires_at > now() AS live FROM leases WHERE name = 'leader'")).rows[0]
  t.ok(lease.live && ['c1', 'c2'].includes(lease.holder), `one live lease (${lease.holder})`)
  for (const i of [0, 1]) await waitFor(async () => !((await cl.readyz(i)).warnings ?? []).some(w => w.startsWith('cluster:')), 5000)
  t.pass('the warnings are gone')
  // A lease and more: the new leader's sweep and host-down judgement have run.
  await new Promise(resolve => setTimeout(resolve, LEASE_MS + 2 * HEARTBEAT_MS))
  t.same(smtp.mails.map(m => m.subject), [], 'no mail after the outage either: no collector was down, no host was')
  const nd = await pg.admin.query('SELECT node FROM node_down')
  t.same(nd.rows, [], 'node_down is empty')
  t.same(await leaders().then(l => l.reduce((a, b) => a + b)), 1, 'still exactly one leader')
  const down = await query(influx.url, 'kanshi', `SELECT host, up FROM host_up WHERE up = 0 AND time >= ${stoppedAt}ms`)
  t.same(down.results[0].series ?? [], [], 'no host_up = 0 in InfluxDB since the outage began: no agent counted down in the availability')

  // Nothing lost: every batch sent was acked, and InfluxDB holds each exactly once.
  for (const p of probes) p.stop()
  for (const p of probes) {
    await waitFor(() => p.acked().length === p.sent.length && p.stored() === p.sent.length, 15_000, 100)
    t.same(p.acked(), p.sent, `${p.a.id}: all ${p.sent.length} batches acked, in order`)
    const r = await query(influx.url, 'kanshi', `SELECT seq FROM pgdown_probe WHERE host = '${p.a.id}'`)
    const got = (r.results[0].series?.[0]?.values ?? []).map((v: [number, number]) => v[1])
    t.same(got, p.sent, `${p.a.id}: InfluxDB holds the ${p.sent.length} points sent, once each`)
  }
})
