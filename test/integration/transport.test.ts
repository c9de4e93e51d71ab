// The agent's spool and transport against the real collector app over real
// WebSockets: in-order delivery, resend after reconnect, wss:// with a private CA;
// and protocol negotiation (columns at 3, fall back to 2 and 1) against a scripted peer.

import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Point } from '../../protocol/messages.js'
import { fromColumns, type Cols } from '../../protocol/columns.js'
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

/**
 * A scripted collector for the negotiation: it refuses a hello above `max` with E_PROTOCOL (as a
 * collector does), else welcomes with `welcome(hello)` (stored acks from 2), acks every batch and
 * reports it stored. It records every hello's protocol and every batch frame.
 */
async function scripted (t: Test, max: number): Promise<{ url: string, max: number, welcome: (hello: number) => number, hellos: number[], batches: Array<Record<string, unknown>>, drop: () => void }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise(resolve => wss.once('listening', resolve))
  const sockets = new Set<WebSocket>()
  const peer = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/agent`,
    max,
    welcome: (hello: number) => hello,
    hellos: [] as number[],
    batches: [] as Array<Record<string, unknown>>,
    drop: () => { for (const ws of sockets) ws.terminate() }
  }
  wss.on('connection', ws => {
    sockets.add(ws)
    ws.on('close', () => sockets.delete(ws))
    let protocol = 0
    ws.on('message', data => {
      const msg = JSON.parse(data.toString()) as Record<string, unknown>
      if (msg['type'] === 'hello') {
        const hello = msg['protocol'] as number
        peer.hellos.push(hello)
        if (hello > peer.max) {
          ws.send(JSON.stringify({ type: 'error', code: 'E_PROTOCOL', message: `protocol ${hello} is not supported` }))
          ws.close(1002, 'unsupported protocol')
          return
        }
        protocol = peer.welcome(hello)
        ws.send(JSON.stringify({ type: 'welcome', protocol, ackedSeq: 0, ...(protocol >= 2 ? { storedSeq: 0 } : {}), serverTime: Date.now() }))
      } else if (msg['type'] === 'batch') {
        peer.batches.push(msg)
        ws.send(JSON.stringify({ type: 'ack', seq: msg['seq'] }))
        if (protocol >= 2) ws.send(JSON.stringify({ type: 'stored', seq: msg['seq'] }))
      }
    })
  })
  t.teardown(async () => { peer.drop(); await new Promise(resolve => wss.close(resolve)) })
  return peer
}

/** numeric points of two series and one with a string field, as an input makes them */
const mixed = (i: number): Point[] => [
  { m: 'cpu', t: 1_700_000_000_000 + i, tags: { cpu: 'total' }, f: { usr: i, sys: i / 4 } },
  { m: 'mem', t: 1_700_000_000_000 + i, f: { used: 1000 + i } },
  { m: 'service', t: 1_700_000_000_000 + i, tags: { name: 'sshd' }, f: { state: 'running' } }
]
/** a batch frame's points, columns included, one sorted line each */
const pointsOf = (b: Record<string, unknown>): string[] =>
  fromColumns((b['cols'] ?? []) as Cols[], [...b['points'] as Point[]]).map(p => JSON.stringify(p)).sort()
const lines = (ps: Point[]): string[] => ps.map(p => JSON.stringify(p)).sort()

t.test('protocol 3: a collector that welcomes 3 gets columns; one that welcomes 2 gets points only', async t => {
  for (const answer of [3, 2]) {
    const peer = await scripted(t, 3)
    peer.welcome = hello => Math.min(hello, answer)
    const spool = await Spool.open(await tmpDir(t), 1 << 20)
    const tr = transport(peer.url, spool)
    tr.start()
    for (let i = 1; i <= 3; i++) { await spool.add(mixed(i)); tr.notify() }
    await until(() => spool.batches === 0)
    await tr.stop()
    t.same(peer.hellos, [3], `welcome ${answer}: one hello, protocol 3`)
    t.equal(tr.protocol, answer)
    t.same(peer.batches.map(b => b['seq']), [1, 2, 3])
    t.same(peer.batches.map(b => 'cols' in b), [answer >= 3, answer >= 3, answer >= 3], `welcome ${answer}: ${answer >= 3 ? 'columns' : 'no columns'}`)
    if (answer >= 3) t.same(peer.batches.map(b => (b['points'] as Point[]).map(p => p.m)), [['service'], ['service'], ['service']], 'only the string point stays a point')
    t.same(peer.batches.map(pointsOf), [1, 2, 3].map(i => lines(mixed(i))), `welcome ${answer}: every point as spooled`)
  }
})

t.test('protocol 3 → 2 → 1 against a protocol-1 collector, and 3 again after a lost connection', async t => {
  const peer = await scripted(t, 2)
  const spool = await Spool.open(await tmpDir(t), 1 << 20)
  const tr = transport(peer.url, spool)
  tr.start()
  await until(() => tr.state === 'ready')
  t.same(peer.hellos, [3, 2], 'E_PROTOCOL on 3: hello 2 next')
  t.equal(tr.protocol, 2)
  await spool.add(mixed(1)); tr.notify()
  await until(() => spool.batches === 0)
  t.notOk('cols' in peer.batches[0]!, 'protocol 2: no columns')

  peer.max = 1 // downgraded to protocol 1 meanwhile
  peer.drop()
  await until(() => tr.state === 'ready' && peer.hellos.length === 5)
  t.same(peer.hellos.slice(2), [3, 2, 1], 'after the lost connection: 3 again, then 2, then 1')
  t.equal(tr.protocol, 1)
  await spool.add(mixed(2)); tr.notify()
  await until(() => spool.batches === 0)
  t.notOk('cols' in peer.batches[1]!, 'protocol 1: no columns')
  t.same(pointsOf(peer.batches[1]!), lines(mixed(2)), 'protocol 1: every point')

  peer.max = 3 // upgraded meanwhile
  peer.drop()
  await until(() => tr.state === 'ready' && peer.hellos.length === 6)
  t.equal(peer.hellos[5], 3, 'after the next lost connection: 3 again, and taken')
  t.equal(tr.protocol, 3)
  await spool.add(mixed(3)); tr.notify()
  await until(() => spool.batches === 0)
  await tr.stop()
  t.ok('cols' in peer.batches[2]!, 'protocol 3: columns')
  t.same(peer.batches.map(b => b['seq']), [1, 2, 3], 'each batch once, in order')
})

t.test('a pump that outlives its connection neither skips a batch nor keeps the next connection waiting', async t => {
  // The collector: stored acks, and a welcome that says what it holds.
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise(resolve => wss.once('listening', resolve))
  t.teardown(async () => { for (const ws of wss.clients) ws.terminate(); await new Promise(resolve => wss.close(resolve)) })
  let held = 0
  const got: Array<[number, number]> = [] // [connection, seq]
  let connections = 0
  wss.on('connection', ws => {
    const n = ++connections
    ws.on('message', data => {
      const msg = JSON.parse(data.toString()) as { type: string, seq: number }
      if (msg.type === 'hello') ws.send(JSON.stringify({ type: 'welcome', protocol: 2, ackedSeq: held, storedSeq: held, serverTime: Date.now() }))
      if (msg.type !== 'batch') return
      got.push([n, msg.seq])
      held = Math.max(held, msg.seq)
      ws.send(JSON.stringify({ type: 'ack', seq: msg.seq }))
      ws.send(JSON.stringify({ type: 'stored', seq: msg.seq }))
    })
  })
  const spool = await Spool.open(await tmpDir(t), 1 << 20)
  for (let i = 1; i <= 6; i++) await spool.add(point(i))
  // Reading batch 3's file takes until the first connection is gone and the second one is ready.
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  let reading3 = false
  const frame = spool.frame.bind(spool)
  spool.frame = async (seq, protocol, resend) => {
    if (seq === 3 && connections === 1) { reading3 = true; await gate }
    return await frame(seq, protocol, resend)
  }
  const tr = transport(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/agent`, spool)
  tr.start()
  await until(() => reading3 && got.length === 2)
  for (const ws of wss.clients) ws.terminate()
  await until(() => connections === 2 && tr.state === 'ready')
  release()
  tr.notify() // as the next collected batch would
  await until(() => spool.batches === 0)
  await tr.stop()
  t.same(got.map(([, seq]) => seq), [1, 2, 3, 4, 5, 6], 'every batch sent once, in order: none skipped and then deleted by a later stored')
  t.same(got.slice(2).map(([n]) => n), [2, 2, 2, 2], 'the rest on the second connection')
})
