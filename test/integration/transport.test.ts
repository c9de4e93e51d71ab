// The agent's spool and transport against the real collector app over real
// WebSockets: in-order delivery, resend after reconnect, wss:// with a private CA.

import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { pino } from 'pino'
import { NullSink } from '../../collector/storage/null-sink.js'
import { decodeEntry } from '../../collector/state/entry.js'
import { Wal } from '../../collector/state/wal/index.js'
import { Spool } from '../../agent/spool.js'
import { Transport } from '../../agent/transport.js'
import { startCollector, type TestCollector } from '../helpers/collector.js'
import { tmpDir } from '../helpers/tmp.js'

const TOKEN = 'transport-test-token'

async function collector (t: Test, tls?: { cert: string, key: string }): Promise<TestCollector> {
  return await startCollector(t, {
    backend: new NullSink(),
    agents: [{ id: 'web01', token: TOKEN, role: 'server', site: 'honcho' }],
    ...(tls !== undefined ? { config: { listen: { tls } } } : {})
  })
}

function transport (url: string, spool: Spool, extra: Partial<ConstructorParameters<typeof Transport>[0]> = {}): Transport {
  return new Transport({
    url, token: TOKEN, spool, logger: pino({ level: 'silent' }),
    hello: { id: 'web01', hostname: 'web01', role: 'server', site: 'honcho', version: 'test', os: 'linux', labels: {}, intervalMs: 1000 },
    backoffMinMs: 50, backoffMaxMs: 200, pingIntervalMs: 1000, maxInflight: 4, ...extra
  })
}

async function until (fn: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

async function storedSeqs (walDir: string): Promise<number[]> {
  const seqs: number[] = []
  const wal = await Wal.open({ dir: walDir, readers: [], onRecover: d => { const e = decodeEntry(d); if (e.a === 'web01') seqs.push(e.s) } })
  await wal.close()
  return seqs
}

const point = (i: number) => [{ m: 'test', t: i, tags: {}, f: { n: i } }]

t.test('spooled batches are delivered once each, in order, across a collector outage', async t => {
  const adir = await tmpDir(t)
  let col = await collector(t)
  const url = col.agentUrl
  const spool = await Spool.open(adir, 1 << 24)
  const tr = transport(url, spool)
  tr.start()
  for (let i = 1; i <= 20; i++) { await spool.add(point(i)); tr.notify() }
  await until(() => spool.batches === 0)
  await col.c.shutdown()
  // collector away: the agent keeps spooling
  for (let i = 21; i <= 60; i++) { await spool.add(point(i)); tr.notify() }
  t.equal(spool.batches, 40, 'all batches spooled while the collector is down')
  col = await col.restart()
  await until(() => spool.batches === 0)
  await tr.stop()
  await col.c.shutdown()
  t.same(await storedSeqs(join(col.dataDir, 'wal')), Array.from({ length: 60 }, (_, i) => i + 1), 'seq 1..60 stored exactly once, in order')
})

t.test('wss:// with a private CA; a wrong CA is refused', async t => {
  const dir = await tmpDir(t)
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
  const other = join(dir, 'other.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'other.key'), '-out', other, '-days', '2', '-subj', '/CN=other'], { stdio: 'ignore' })
  const { c, agentUrl: url } = await collector(t, { cert, key })
  t.match(url, /^wss:\/\//)
  const bad = transport(url, await Spool.open(join(dir, 'bad'), 1 << 20), { ca: other })
  bad.start()
  await new Promise(resolve => setTimeout(resolve, 500))
  t.not(bad.state, 'ready', 'a certificate from another CA is not trusted')
  await bad.stop()
  const spool = await Spool.open(join(dir, 'a'), 1 << 20)
  const good = transport(url, spool, { ca: cert })
  good.start()
  await spool.add(point(1))
  good.notify()
  await until(() => spool.batches === 0)
  t.equal(good.state, 'ready')
  await good.stop()
  await c.shutdown()
})

t.test('an agent whose data dir was reset continues above the collector\'s ackedSeq', async t => {
  const { c, agentUrl: url, dataDir } = await collector(t)
  const s1 = await Spool.open(await tmpDir(t), 1 << 20)
  const t1 = transport(url, s1)
  t1.start()
  for (let i = 1; i <= 5; i++) { await s1.add(point(i)); t1.notify() }
  await until(() => s1.batches === 0)
  await t1.stop()
  const s2 = await Spool.open(await tmpDir(t), 1 << 20) // a fresh disk: seq starts at 1 again
  await s2.add(point(100))
  await s2.add(point(101))
  const t2 = transport(url, s2)
  t2.start()
  await until(() => s2.batches === 0)
  await t2.stop()
  await c.shutdown()
  t.same(await storedSeqs(join(dataDir, 'wal')), [1, 2, 3, 4, 5, 6, 7], 'the new batches were stored as 6 and 7, not dropped as duplicates')
})
