// The leader's probe of a silent peer against real HTTP servers on loopback: an answer as
// itself, a peer behind a blackhole (bounded by peerTimeout, the caller never waits longer), over https with a CA,
// a peer with another secret (refused), a forged reply, a wildcard address; and the peer secret
// shared through a real PostgreSQL, kept on disk (0600) so a node started without the database
// still verifies its peers' calls.

import t, { type Test } from 'tap'
import Fastify from 'fastify'
import { createServer } from 'node:http'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, stat } from 'node:fs/promises'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { PEER_HEADERS, PeerKey } from '../../collector/cluster/peer-auth.js'
import { PeerWatch, type PeerReport, type ProbeTarget } from '../../collector/cluster/peer-probe.js'
import { peerRoute } from '../../collector/cluster/peer-route.js'
import { Cluster } from '../../collector/cluster/index.js'
import { checkCluster } from '../../collector/config/cluster.js'
import { startBlackhole } from '../helpers/blackhole.js'
import { startPostgres } from '../helpers/postgres.js'
import { freePort, waitFor } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

const quiet = pino({ level: 'silent' })

async function peerServer (t: Test, node: string, key: PeerKey, report: () => PeerReport): Promise<string> {
  const app = Fastify()
  await app.register(peerRoute, { peer: { node, key, report }, registry: new Registry(), now: Date.now })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await app.close() })
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
}
t.test('probes: answered, timeout, refused, forged reply, no address', async t => {
  const secret = randomBytes(32)
  const leaderKey = new PeerKey(secret)
  const registry = new Registry()
  const watch = new PeerWatch({ self: 'c1', key: leaderKey, timeoutMs: 800, heartbeatMs: 200, leaseMs: 5000, logger: quiet, registry })
  t.teardown(() => { watch.stop() })
  const agents = [{ agent: 'web01', ageMs: 400 }, { agent: 'web02', ageMs: 1200 }]
  const c2 = await peerServer(t, 'c2', new PeerKey(secret), () => ({ node: 'c2', pgUp: false, pgError: 'Query read timeout', sinceBeatMs: 9000, degraded: { degraded: true, since: 1, held: 2 }, agents }))
  const c3 = await peerServer(t, 'c3', new PeerKey(randomBytes(32)), () => ({ node: 'c3', pgUp: false, pgError: null, sinceBeatMs: null, degraded: null, agents: [] }))
  const hole = await startBlackhole({ host: '127.0.0.1', port: Number(new URL(c2).port) }, t)
  hole.set('blackhole')
  // A server that answers 200 with a body but signs nothing.
  const forger = createServer((_req, res) => { res.setHeader(PEER_HEADERS.sig, '0'.repeat(64)); res.end(JSON.stringify({ node: 'c5', pgUp: false, agents: [] })) })
  await new Promise<void>(resolve => forger.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { forger.close() })
  const silent = (node: string, address: string): ProbeTarget => ({ node, address, ageMs: 10_000, stopped: false, cutOff: false })
  const targets = [silent('c2', c2), silent('c3', c3), silent('c4', `http://127.0.0.1:${hole.port}`), silent('c5', `http://127.0.0.1:${(forger.address() as { port: number }).port}`), silent('c6', '0.0.0.0:8080'), silent('c7', `127.0.0.1:${await freePort()}`)]
  const t0 = performance.now()
  watch.kick(targets)
  const kickMs = performance.now() - t0
  // Far under the 800 ms probe timeout it must not wait for; a loaded machine may take a few scheduler slices.
  t.ok(kickMs < 300, `kick returns at once (${kickMs.toFixed(1)} ms): the probes run beside the heartbeat`)
  await waitFor(() => targets.every(x => watch.probeState(x.node) !== undefined), 3000, 20)
  const doneMs = performance.now() - t0
  t.ok(doneMs < 800 + 700, `every probe concluded within peerTimeout (800 ms) + slack: ${doneMs.toFixed(0)} ms`)
  t.match(watch.probeState('c2'), { kind: 'answered', node: 'c2', pgUp: false }, 'c2 answers as itself without PostgreSQL')
  t.same(watch.report('c2')?.agents, agents, 'with its agents and their ages')
  const heard = watch.lastHeard('web01')!
  t.ok(Math.abs(heard - (Date.now() - 400)) < 1500, 'web01 last heard about 400 ms before the answer')
  for (const n of ['c3', 'c4', 'c5', 'c6', 'c7']) t.match(watch.probeState(n), { kind: 'failed', failures: 1 }, `${n}: failed`)
  const byResult = Object.fromEntries((await registry.getSingleMetric('kanshi_cluster_peer_probe_total')!.get()).values.map(v => [v.labels['result'], v.value]))
  t.same(byResult, { answered: 1, refused: 1, timeout: 1, bad_reply: 1, no_address: 1, unreachable: 1 }, 'each result counted: c3 refused (another secret), c4 timeout (blackhole), c5 bad_reply (forged), c6 no_address (wildcard), c7 unreachable (nothing listens)')
  t.equal(watch.report('c5'), undefined, 'a forged answer is not believed')

  // A second round: failures accumulate; a peer that beats again is forgotten.
  watch.kick(targets.map(x => x.node === 'c2' ? { ...x, ageMs: 0 } : x.node === 'c3' ? { ...x, down: true } : x))
  t.equal(watch.probeState('c2'), undefined, 'c2 beats again: forgotten')
  t.equal(watch.probeState('c3'), undefined, 'c3 judged down: not asked any more')
  await waitFor(() => (watch.probeState('c7') as { failures?: number } | undefined)?.failures === 2, 3000, 20)
  t.match(watch.probeState('c7'), { kind: 'failed', failures: 2 }, 'c7: two failures in a row')
})

t.test('https peers: the certificate is checked against listen.tls.ca', async t => {
  const dir = await tmpDir(t)
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
  const secret = randomBytes(32)
  const app = Fastify({ https: { key: await readFile(key), cert: await readFile(cert) } })
  await app.register(peerRoute, { peer: { node: 'c2', key: new PeerKey(secret), report: () => ({ node: 'c2', pgUp: false, pgError: null, sinceBeatMs: null, degraded: null, agents: [] }) }, registry: new Registry(), now: Date.now })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await app.close() })
  const target: ProbeTarget = { node: 'c2', address: `https://127.0.0.1:${(app.server.address() as { port: number }).port}`, ageMs: 10_000, stopped: false, cutOff: false }
  const trusting = new PeerWatch({ self: 'c1', key: new PeerKey(secret), timeoutMs: 2000, heartbeatMs: 200, leaseMs: 5000, ca: await readFile(cert), logger: quiet })
  const system = new PeerWatch({ self: 'c1', key: new PeerKey(secret), timeoutMs: 2000, heartbeatMs: 200, leaseMs: 5000, logger: quiet })
  t.teardown(() => { trusting.stop(); system.stop() })
  trusting.kick([target])
  system.kick([target])
  await waitFor(() => trusting.probeState('c2') !== undefined && system.probeState('c2') !== undefined, 4000, 20)
  t.match(trusting.probeState('c2'), { kind: 'answered', node: 'c2' }, 'with the CA: answered over https')
  t.match(system.probeState('c2'), { kind: 'failed' }, 'a self-signed peer is not trusted on the system CAs alone')
})

t.test('the peer secret: one per cluster in PostgreSQL, kept on disk, used without the database', async t => {
  const pg = await startPostgres(t)
  const dir = await tmpDir(t)
  const env = { KANSHI_PG_PASSWORD: pg.password }
  const config = (node: string, url = pg.url) => checkCluster('/c.yaml', { node, postgres: { url, passwordEnv: 'KANSHI_PG_PASSWORD', ssl: 'disable', connectTimeout: 500, statementTimeout: 1000, poolSize: 1 }, lease: 1500, heartbeat: 500, receivers: [] }, p => p, env, undefined)!
  const file = join(dir, 'c1', 'cluster-peer.key')
  await mkdir(join(dir, 'c1'))
  const c1 = new Cluster({ config: config('c1'), version: 'test', address: () => 'http://127.0.0.1:1', sessions: () => [], logger: quiet, peerSecretFile: file })
  const c2 = new Cluster({ config: config('c2'), version: 'test', address: () => 'http://127.0.0.1:2', sessions: () => [], logger: quiet })
  await c1.tick()
  await c2.tick()
  await c1.stop()
  await c2.stop()
  const inDb = (await pg.admin.query("SELECT value FROM kanshi_meta WHERE key = 'peer_secret'")).rows.map(r => r.value as string)
  t.equal(inDb.length, 1, 'one secret in kanshi_meta')
  const fromDb = new PeerKey(Buffer.from(inDb[0]!, 'hex'))
  t.equal(c2.peerKey.verify(fromDb.sign('c1', 'c2', Date.now()), 'c2', Date.now()), undefined, 'both nodes use it')
  await waitFor(async () => await stat(file).then(() => true, () => false), 2000, 20)
  t.equal((await stat(file)).mode & 0o777, 0o600, 'kept on disk, mode 0600')

  // c1 again, its PostgreSQL unreachable: it reads the key from disk and still verifies.
  const dead = `postgres://kanshi@127.0.0.1:${await freePort()}/kanshi`
  const again = new Cluster({ config: config('c1', dead), version: 'test', address: () => 'x', sessions: () => [], logger: quiet, peerSecretFile: file })
  t.teardown(async () => { await again.stop() })
  again.start()
  await waitFor(() => again.peerKey.ready, 3000, 20)
  t.equal(again.peerKey.verify(fromDb.sign('c2', 'c1', Date.now()), 'c1', Date.now()), undefined, 'a node started without PostgreSQL verifies with the kept secret')
  t.equal(again.status().pgUp, false, 'and PostgreSQL is indeed unreachable for it')
})
