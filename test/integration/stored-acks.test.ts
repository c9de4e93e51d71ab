// Protocol 2 against the real collector app over real WebSockets: stored frames follow the storage
// cursor, protocol-1 agents see nothing new, acked batches stay spooled until stored and go to
// another collector marked resend, and an agent falls back to protocol 1 where it must; protocol 3's
// columns from the real transport land in a real influxd exactly as spooled.

import t, { type Test } from 'tap'
import { pino } from 'pino'
import { NullSink } from '../../collector/storage/null-sink.js'
import type { Point } from '../../protocol/messages.js'
import { Spool } from '../../agent/spool.js'
import { Transport } from '../../agent/transport.js'
import { startCollector, type TestCollector } from '../helpers/collector.js'
import { walEntries } from '../helpers/wal.js'
import { connectAgent } from '../helpers/fake-agent.js'
import { freePort } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'
import { withInfluxd, query } from '../helpers/influxd.js'

const TOKEN = 'stored-acks-test-token'
const agents = [{ id: 'web01', token: TOKEN, role: 'server', site: 'honcho' }]
const point = (i: number): Point[] => [{ m: 'test', t: 1_700_000_000_000 + i, tags: {}, f: { n: i } }]

/** a collector writing to NullSink (stored soon after acked) */
async function storing (t: Test, config: Record<string, unknown> = {}): Promise<TestCollector> {
  return await startCollector(t, { backend: new NullSink(), agents, config: { influx: { flushInterval: '50ms' }, ...config } })
}

/** a collector whose InfluxDB refuses connections: it acks, and stores nothing */
async function notStoring (t: Test): Promise<TestCollector> {
  return await startCollector(t, { agents, config: { influx: { version: 1, url: `http://127.0.0.1:${await freePort()}`, db: 'kanshi', flushInterval: '50ms' } } })
}

function transport (urls: string[], spool: Spool, preferFirstAfterMs = 0): Transport {
  return new Transport({
    urls, preferFirstAfterMs, token: TOKEN, spool, logger: pino({ level: 'silent' }),
    hello: { id: 'web01', hostname: 'web01', role: 'server', site: 'honcho', version: 'test', os: 'linux', labels: {}, intervalMs: 1000 },
    backoffMinMs: 50, backoffMaxMs: 200, pingIntervalMs: 1000, maxInflight: 4
  })
}

async function until (fn: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

t.test('a protocol-2 hello gets welcome.storedSeq and stored frames; a protocol-1 hello gets neither', async t => {
  const c = await storing(t)
  const a = await connectAgent(t, c.agentUrl, { token: TOKEN })
  const w = await a.greet({}, 2)
  t.match(w, { type: 'welcome', protocol: 2, ackedSeq: 0, storedSeq: 0 })
  t.equal(c.c.ingest.status.get('web01')?.protocol, 2, '/api/v1/agents shows the protocol')
  for (let s = 1; s <= 3; s++) a.batch(s, point(s))
  for (let s = 1; s <= 3; s++) t.same(await a.expect('ack'), { type: 'ack', seq: s })
  const stored = await a.waitFrame(m => m.type === 'stored' && m.seq === 3, 'stored through 3')
  t.same(stored, { type: 'stored', seq: 3 })
  await a.close()
  const again = await connectAgent(t, c.agentUrl, { token: TOKEN })
  t.match(await again.greet({}, 2), { protocol: 2, ackedSeq: 3, storedSeq: 3 }, 'the next welcome says what is stored')
  await again.close()

  const old = await connectAgent(t, c.agentUrl, { token: TOKEN })
  const w1 = await old.greet({}, 1)
  t.equal(w1.protocol, 1)
  t.equal(c.c.ingest.status.get('web01')?.protocol, 1)
  t.notOk('storedSeq' in w1, 'no storedSeq for protocol 1')
  old.batch(4, point(4))
  t.same(await old.expect('ack'), { type: 'ack', seq: 4 })
  await new Promise(resolve => setTimeout(resolve, 1500))
  t.same(old.frames.map(f => f.type), ['welcome', 'ack'], 'no stored frame for a protocol-1 agent')
})

t.test('WAL-only and maxProtocol 1 collectors answer protocol 1; the agent falls back to ack = delete', async t => {
  const walOnly = await startCollector(t, { agents })
  const a = await connectAgent(t, walOnly.agentUrl, { token: TOKEN })
  t.match(await a.greet({}, 2), { protocol: 1 }, 'no storage position to report: protocol 1')
  t.notOk('storedSeq' in a.frames[0])
  await a.close()

  const old = await storing(t, { ingest: { maxProtocol: 1 } })
  const spool = await Spool.open(await tmpDir(t), 1 << 24)
  const tr = transport([old.agentUrl], spool)
  tr.start()
  for (let i = 1; i <= 10; i++) { await spool.add(point(i)); tr.notify() }
  await until(() => spool.batches === 0, 'spool empty on acks')
  t.equal(tr.protocol, 1, 'the agent speaks protocol 1 after E_PROTOCOL')
  await tr.stop()
  await old.c.shutdown()
  t.same((await walEntries(old.dataDir, 'web01')).map(e => e.s), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'each batch stored once, in order')
})

t.test('acked batches stay spooled until stored, and go to the next collector marked resend', async t => {
  const c1 = await notStoring(t)
  const c2 = await storing(t)
  const spool = await Spool.open(await tmpDir(t), 1 << 24)
  const tr = transport([c1.agentUrl, c2.agentUrl], spool)
  tr.start()
  for (let i = 1; i <= 10; i++) { await spool.add(point(i)); tr.notify() }
  await until(() => spool.ackedBatches === 10, 'ten batches acked by c1')
  t.equal(tr.protocol, 3, 'protocol 3 (the default): stored acks, and columns')
  t.equal(spool.batches, 10, 'kept after the ack: c1 has not stored them')
  t.equal(tr.collectorIndex, 0)
  await c1.c.shutdown()
  await until(() => tr.collectorIndex === 1 && tr.state === 'ready', 'on c2')
  await until(() => spool.batches === 0, 'stored by c2: spool empty')
  for (let i = 11; i <= 12; i++) { await spool.add(point(i)); tr.notify() }
  await until(() => spool.batches === 0, 'new batches stored')
  await tr.stop()
  await c2.c.shutdown()
  const got = (await walEntries(c2.dataDir, 'web01')).map(e => [e.s, e.resend === true])
  t.same(got, [...Array.from({ length: 10 }, (_, i) => [i + 1, true]), [11, false], [12, false]], 'c2 got 1..10 marked resend, then 11 and 12 as new')
})

t.test('after a restart the collector still knows what it acked and has not stored', async t => {
  let c = await notStoring(t)
  const a = await connectAgent(t, c.agentUrl, { token: TOKEN })
  await a.greet({}, 2)
  for (let s = 1; s <= 5; s++) a.batch(s, point(s))
  for (let s = 1; s <= 5; s++) await a.expect('ack')
  await a.close()
  c = await c.restart()
  const b = await connectAgent(t, c.agentUrl, { token: TOKEN })
  t.match(await b.greet({}, 2), { protocol: 2, ackedSeq: 5, storedSeq: 0 }, 'acked 5, stored none: the agent keeps 1..5')
})

t.test('the agent returns to the first collector once it takes connections again (preferFirstAfter)', async t => {
  const port = await freePort()
  const c2 = await storing(t)
  const spool = await Spool.open(await tmpDir(t), 1 << 24)
  const tr = transport([`ws://127.0.0.1:${port}/v1/agent`, c2.agentUrl], spool, 300)
  tr.start()
  await until(() => tr.state === 'ready', 'connected')
  t.equal(tr.collectorIndex, 1, 'c1 is down: on c2')
  await spool.add(point(1)); tr.notify()
  await until(() => spool.batches === 0, 'stored by c2')
  await new Promise(resolve => setTimeout(resolve, 700))
  t.equal(tr.collectorIndex, 1, 'still on c2 while c1 refuses connections')
  const c1 = await startCollector(t, { backend: new NullSink(), agents, port, config: { influx: { flushInterval: '50ms' } } })
  await until(() => tr.collectorIndex === 0 && tr.state === 'ready', 'back on c1')
  await spool.add(point(2)); tr.notify()
  await until(() => spool.batches === 0, 'stored by c1')
  await tr.stop()
  await c1.c.shutdown()
  t.same((await walEntries(c1.dataDir, 'web01')).map(e => e.s), [2], 'c1 got the batch after the return, and only that')
})

t.test('protocol 3 end to end: the agent\'s columns land in influxd exactly as spooled', async t => {
  const influxd = await withInfluxd(t)
  const c = await startCollector(t, { agents, config: { influx: { version: 1, url: influxd.url, db: 'kanshi', flushInterval: '50ms' } } })
  const spool = await Spool.open(await tmpDir(t), 1 << 24)
  const tr = transport([c.agentUrl], spool)
  tr.start()
  // three intervals of two numeric series (one without tags) and one string point, in the last minute
  const base = Date.now() - 60_000
  const sent: Point[] = []
  for (let b = 0; b < 3; b++) {
    const t0 = base + b * 10_000
    const batch: Point[] = [
      { m: 'p3cpu', t: t0, tags: { cpu: 'total', 棟: '本庁舎' }, f: { usr: 0.1 + 0.2 * b, sys: -1e-7 * (b + 1), big: 2 ** 53 - 1 - b } },
      { m: 'p3cpu', t: t0 + 1, tags: { cpu: 'cpu0', 棟: '本庁舎' }, f: { usr: 1 / 3 + b, sys: 0, big: 1e300 } },
      { m: 'p3mem', t: t0, f: { used: 8_123_456_789 + b } },
      { m: 'p3svc', t: t0, tags: { name: 'sshd' }, f: { state: b === 1 ? 'stopped' : 'running', pid: 100 + b } }
    ]
    sent.push(...batch)
    await spool.add(batch); tr.notify()
  }
  await until(() => spool.batches === 0, 'stored in influxd: the spool is empty')
  t.equal(tr.protocol, 3, 'the connection spoke protocol 3: the numeric points went as columns')
  await tr.stop()
  // what influxd holds, one line per point (keys sorted, nulls of other points' fields left out), against what was spooled
  const held: string[] = []
  for (const m of ['p3cpu', 'p3mem', 'p3svc']) {
    const r = await query(influxd.url, 'kanshi', `SELECT * FROM "${m}"`)
    const s = r.results[0].series[0] as { columns: string[], values: unknown[][] }
    for (const row of s.values) held.push(JSON.stringify([m, ...s.columns.map((k, i) => [k, row[i]] as const).filter(([, v]) => v !== null).sort(([a], [b]) => a < b ? -1 : 1)]))
  }
  const want = sent.map(p => {
    const cols: Record<string, unknown> = { time: p.t, ...p.tags, host: 'web01', role: 'server', site: 'honcho', ...p.f }
    return JSON.stringify([p.m, ...Object.keys(cols).sort().map(k => [k, cols[k]])])
  })
  t.same(held.sort(), want.sort(), `${sent.length} points: every value, tag and time exactly as spooled`)
  await c.c.shutdown()
  const wal = await walEntries(c.dataDir, 'web01')
  t.same(wal.map(e => [e.p.map(p => p.m).filter(m => m !== 'host_up'), (e.c ?? []).map(x => x.m)]), [1, 2, 3].map(() => [['p3svc'], ['p3cpu', 'p3cpu', 'p3mem']]), 'on the wire: the numeric points as columns, the string point as a point (host_up is the collector\'s)')
})
