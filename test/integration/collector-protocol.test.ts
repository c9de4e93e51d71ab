// The collector's WebSocket boundary, through the real app on a real port:
// every refusal code, identity stamping, dedup of resent batches.

import t, { type Test } from 'tap'
import { sha256Hex } from '../../collector/ingest/auth.js'
import { NullSink } from '../../collector/storage/null-sink.js'
import { decodeEntry } from '../../collector/state/entry.js'
import { Wal } from '../../collector/state/wal/index.js'
import { startCollector } from '../helpers/collector.js'
import { asViewer, viewerApi } from '../helpers/config.js'
import { connectAgent, refusedStatus, type FakeAgent } from '../helpers/fake-agent.js'

const TOKENS = { web01: 'token-web01-secret', kiosk1: 'token-kiosk1-secret' }

async function start (t: Test, extra: Record<string, unknown> = {}) {
  const sink = new NullSink()
  const { c, agentUrl } = await startCollector(t, {
    agents: [
      { id: 'web01', token: TOKENS.web01, role: 'server', site: 'honcho' },
      { id: 'kiosk1', token: TOKENS.kiosk1, role: 'kiosk', site: '本庁舎' }
    ],
    backend: sink,
    config: { influx: { flushInterval: '20ms' }, ...extra }
  })
  return { c, url: agentUrl, sink }
}

const hello = (id = 'web01', protocol = 1) => JSON.stringify({ type: 'hello', protocol, agent: { id, hostname: id, role: 'server', site: 'x', version: '0.1.0', os: 'linux', labels: {} } })
const batch = (seq: number, points: unknown[] = [{ m: 'cpu', t: 1763800000000, tags: {}, f: { usage_percent: 12.5 } }]) => JSON.stringify({ type: 'batch', seq, points })

async function greeted (t: Test, url: string, id: keyof typeof TOKENS = 'web01'): Promise<FakeAgent> {
  const a = await connectAgent(t, url, { token: TOKENS[id], id })
  await a.greet()
  return a
}

t.test('upgrade without a token or with a wrong one is refused with 401', async t => {
  const { url } = await start(t)
  for (const headers of [{} as Record<string, string>, { authorization: 'Bearer nope' }, { authorization: `Basic ${TOKENS.web01}` }]) {
    t.equal(await refusedStatus(url, { headers }), 401, JSON.stringify(headers))
  }
})

t.test('brute force from one address is rate limited with 429', async t => {
  const { url } = await start(t, { ingest: { maxErrorsPerMinute: 5 } })
  const statuses: number[] = []
  for (let i = 0; i < 8; i++) {
    statuses.push(await refusedStatus(url, { token: `guess-${i}` }))
  }
  t.same(statuses.slice(0, 5), [401, 401, 401, 401, 401])
  t.same(statuses.slice(5), [429, 429, 429])
  t.equal(await refusedStatus(url, { token: TOKENS.web01 }), 429, 'even a good token waits out the block from that address')
})

t.test('welcome reports ackedSeq; acks follow durable batches; resent batches are acked and not stored twice', async t => {
  const { c, url, sink } = await start(t)
  const a = await greeted(t, url)
  for (let s = 1; s <= 3; s++) a.ws.send(batch(s))
  t.same([await a.next(), await a.next(), await a.next()], [{ type: 'ack', seq: 1 }, { type: 'ack', seq: 2 }, { type: 'ack', seq: 3 }])
  a.ws.send(batch(2))
  t.same(await a.next(), { type: 'ack', seq: 2 }, 'duplicate acked again')
  a.ws.close()
  await a.closed
  const b = await connectAgent(t, url, { token: TOKENS.web01 })
  b.ws.send(hello())
  const w = await b.next()
  t.equal(w.type, 'welcome')
  t.equal(w.ackedSeq, 3)
  t.equal(w.protocol, 1)
  t.ok(Math.abs(w.serverTime - Date.now()) < 5000)
  await c.wal.flushed()
  // WAL: exactly three batch records for web01
  const seqs: number[] = []
  await c.shutdown()
  const wal = await Wal.open({ dir: `${c.wal.dir}`, readers: [], onRecover: d => { const e = decodeEntry(d); if (e.a === 'web01') seqs.push(e.s) } })
  await wal.close()
  t.same(seqs, [1, 2, 3], 'each seq stored once')
  t.ok(sink.lines >= 0)
})

t.test('the collector stamps host/role/site from the token, whatever the agent says', async t => {
  const { c, url } = await start(t)
  const a = await greeted(t, url, 'kiosk1')
  a.ws.send(batch(1, [{ m: 'cpu', t: 1, tags: { host: 'web01', site: 'evil', core: '0' }, f: { usage_percent: 1 } }]))
  t.same(await a.next(), { type: 'ack', seq: 1 })
  const entries: any[] = []
  await c.shutdown()
  const wal = await Wal.open({ dir: c.wal.dir, readers: [], onRecover: d => entries.push(decodeEntry(d)) })
  await wal.close()
  const e = entries.find(x => x.a === 'kiosk1')
  t.same(e.p[0].tags, { host: 'kiosk1', role: 'kiosk', site: '本庁舎', core: '0' })
  t.same(e.p[1], { m: 'host_up', t: e.r, tags: { host: 'kiosk1', role: 'kiosk', site: '本庁舎' }, f: { up: 1 } })
})

t.test('protocol 3: columns are stamped per series and stored as received; a bad one is refused alone', async t => {
  const { c, url } = await start(t)
  const a = await connectAgent(t, url, { token: TOKENS.kiosk1, id: 'kiosk1' })
  t.match(await a.greet({}, 3), { type: 'welcome', protocol: 3 })
  t.equal(c.ingest.status.get('kiosk1')?.protocol, 3, '/api/v1/agents shows protocol 3')
  const cols = [{ m: 'cpu', tags: { host: 'web01', site: 'evil', core: '0' }, f: ['usr', 'sys'], v: [1000, 1.5, 2, 2000, 3, 4] }, { m: 'agent', f: ['spool_batches'], v: [2000, 7] }]
  a.batch(1, [], { cols })
  t.same(await a.next(), { type: 'ack', seq: 1 })
  t.equal(c.ingest.status.get('kiosk1')?.spoolBatches, 7, 'the agent\'s own point read from its columns')
  a.batch(2, [], { cols: [{ m: 'cpu', f: ['usr', 'sys'], v: [3000, 1] }] })
  t.match(await a.next(), { type: 'error', seq: 2, code: 'E_BAD_BATCH', message: /cols\.0\.v: 2 numbers are not whole rows of 3/ })
  const other = await greeted(t, url, 'web01')
  other.ws.send(batch(1))
  t.same(await other.next(), { type: 'ack', seq: 1 }, 'another agent is not touched')
  await c.shutdown()
  const entries: any[] = []
  const wal = await Wal.open({ dir: c.wal.dir, readers: [], onRecover: d => entries.push(decodeEntry(d)) })
  await wal.close()
  const e = entries.find(x => x.a === 'kiosk1')
  t.same(e.c[0], { m: 'cpu', tags: { host: 'kiosk1', site: '本庁舎', core: '0', role: 'kiosk' }, f: ['usr', 'sys'], v: [1000, 1.5, 2, 2000, 3, 4] }, 'identity stamped over the agent\'s tags')
  t.same(e.p, [{ m: 'host_up', t: e.r, tags: { host: 'kiosk1', role: 'kiosk', site: '本庁舎' }, f: { up: 1 } }])
  t.equal(entries.filter(x => x.a === 'kiosk1').length, 1, 'the refused batch was not stored')
})

t.test('every refusal code, each on a live connection that keeps working', async t => {
  const { url } = await start(t)
  const a = await connectAgent(t, url, { token: TOKENS.web01 })
  const expect = async (send: string | Buffer, code: string, seq?: number, binary = false) => {
    a.ws.send(send, { binary })
    const m = await a.next()
    t.equal(m.type, 'error', `${code}: error frame`)
    t.equal(m.code, code)
    if (seq !== undefined) t.equal(m.seq, seq)
  }
  await expect(batch(1), 'E_NO_HELLO', 1)
  await expect('not json', 'E_BAD_FRAME')
  await expect('{"type":', 'E_BAD_FRAME')
  await expect('[1,2]', 'E_BAD_FRAME')
  await expect('{"no":"type"}', 'E_BAD_FRAME')
  await expect(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'E_BAD_UTF8')
  await expect(Buffer.from('{"type":"hello"}'), 'E_BAD_FRAME', undefined, true)
  await expect('{"type":"bogus"}', 'E_UNKNOWN_TYPE')
  await expect('{"type":"hello","protocol":1}', 'E_BAD_HELLO')
  a.ws.send(hello())
  t.equal((await a.next()).type, 'welcome')
  await expect(hello(), 'E_DUP_HELLO')
  await expect(JSON.stringify({ type: 'batch', seq: 7, points: [{ m: 'cpu', t: 'now', f: { v: 1 } }] }), 'E_BAD_BATCH', 7)
  await expect(JSON.stringify({ type: 'batch', seq: 8, points: [{ m: 'cpu', t: 1, f: {} }] }), 'E_BAD_BATCH', 8)
  await expect(JSON.stringify({ type: 'batch', seq: 9, points: [{ m: 'cpu', t: 1, f: { v: { nested: 1 } } }] }), 'E_BAD_BATCH', 9)
  await expect(JSON.stringify({ type: 'batch', seq: -1, points: [] }), 'E_BAD_BATCH', -1)
  await expect('{"type":"batch","seq":10,"points":[' + '{"m":"x","t":1,"f":{"v":1}},'.repeat(200_000) + '{"m":"x","t":1,"f":{"v":1}}]}', 'E_TOO_LARGE')
  a.ws.send(batch(11))
  t.same(await a.next(), { type: 'ack', seq: 11 }, 'a good batch after all that is still acked')
})

t.test('protocol version and identity mismatches close the socket', async t => {
  const { url } = await start(t)
  const a = await connectAgent(t, url, { token: TOKENS.web01 })
  a.ws.send(hello('web01', 99))
  t.equal((await a.next()).code, 'E_PROTOCOL')
  t.equal(await a.closed, 1002)
  const b = await connectAgent(t, url, { token: TOKENS.web01 })
  b.ws.send(hello('kiosk1'))
  t.equal((await b.next()).code, 'E_ID_MISMATCH')
  t.equal(await b.closed, 1008)
})

t.test('repeated abuse closes that socket with 1008; other agents are unaffected', async t => {
  const { url } = await start(t, { ingest: { maxErrorsPerMinute: 5 } })
  const good = await greeted(t, url, 'kiosk1')
  const bad = await greeted(t, url, 'web01')
  for (let i = 0; i < 10; i++) bad.ws.send('garbage')
  t.equal(await bad.closed, 1008)
  good.ws.send(batch(1))
  t.same(await good.next(), { type: 'ack', seq: 1 })
})

t.test('a newer connection for the same agent replaces the older one', async t => {
  const { url } = await start(t)
  const a = await greeted(t, url)
  const b = await greeted(t, url)
  t.equal(await a.closed, 4000)
  b.ws.send(batch(1))
  t.same(await b.next(), { type: 'ack', seq: 1 })
})

t.test('a full WAL stops acking: the socket closes with 1013 and nothing unacked is claimed stored', async t => {
  // WAL-only: nothing consumes the log, so it fills up
  const { c, agentUrl } = await startCollector(t, { agents: [{ id: 'web01', token: TOKENS.web01 }], config: { wal: { maxBytes: '1MiB', segmentBytes: '256KiB' }, api: viewerApi() } })
  const a = await greeted(t, agentUrl)
  const big = Array.from({ length: 1000 }, (_, i) => ({ m: 'x', t: i, f: { pad: 'p'.repeat(150) } }))
  const acked: number[] = []
  a.ws.on('message', d => { const m = JSON.parse(d.toString()); if (m.type === 'ack') acked.push(m.seq) })
  for (let s = 1; s <= 12; s++) a.ws.send(batch(s, big))
  t.equal(await a.closed, 1013, 'closed with 1013 (try again later)')
  t.ok(acked.length >= 3 && acked.length < 12, `${acked.length} batches acked before the bound`)
  t.same(acked, Array.from({ length: acked.length }, (_, i) => i + 1), 'acks are a gapless prefix: the agent resends the rest')
  const m = await c.app.inject({ url: '/metrics', headers: asViewer })
  t.match(m.body, /kanshi_errors_total\{code="E_WAL_FULL"\} [1-9]/)
  const r = await c.app.inject('/readyz')
  t.equal(r.statusCode, 503)
})

t.test('reloading the agents list revokes a removed agent at once', async t => {
  const { c, url } = await start(t)
  const a = await greeted(t, url, 'kiosk1')
  c.reloadAgents([{ id: 'web01', tokenSha256: sha256Hex(TOKENS.web01), role: 'server', site: 'honcho', labels: {} }])
  t.equal(await a.closed, 4001)
  t.equal(await refusedStatus(url, { token: TOKENS.kiosk1 }), 401, 'its token no longer works')
  const b = await greeted(t, url, 'web01')
  b.ws.send(batch(1))
  t.same(await b.next(), { type: 'ack', seq: 1 }, 'the others carry on')
})
