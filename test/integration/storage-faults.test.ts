// The storage writer against a real HTTP server that misbehaves on purpose:
// 500s, 429 with Retry-After, 400 for one bad line in a good batch, a hang,
// a dropped database, and shutdown mid-retry. Good data must arrive; bad lines are dead-lettered.

import t, { type Test } from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { Wal } from '../../collector/state/wal/index.js'
import { encodeEntry } from '../../collector/state/entry.js'
import { InfluxV1 } from '../../collector/storage/influx-v1.js'
import { DeadLetter } from '../../collector/storage/dead-letter.js'
import { StorageWriter, type WriterOptions } from '../../collector/storage/writer.js'
import { createMetrics } from '../../collector/metrics.js'
import { committedToEnd } from '../helpers/wal.js'

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void

async function fakeInflux (t: Test): Promise<{ url: string, setHandler: (h: Handler) => void, written: Set<string>, queries: string[] }> {
  const written = new Set<string>()
  const queries: string[] = []
  let handler: Handler = (_req, body, res) => { for (const l of body.split('\n')) written.add(l); res.writeHead(204).end() }
  const ok = handler
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', c => { body += c })
    req.on('end', () => {
      if (req.url!.startsWith('/query')) { queries.push(body); res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{}]}'); return }
      handler(req, body, res)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const port = (server.address() as { port: number }).port
  return { url: `http://127.0.0.1:${port}`, setHandler: h => { handler = h === undefined ? ok : h }, written, queries }
}

async function setup (t: Test, url: string, n: number, lineOf: (i: number) => string = i => `m${i}`, opts: Partial<WriterOptions> = {}) {
  const dir = t.testdir()
  const wal = await Wal.open({ dir: join(dir, 'wal'), readers: ['storage'] })
  for (let i = 0; i < n; i++) {
    await wal.append(encodeEntry({ a: 'web01', s: i + 1, r: 0, p: [{ m: lineOf(i), t: i, tags: { host: 'web01' }, f: { v: i } }] }))
  }
  const metrics = createMetrics(new Registry(), false)
  const logger = pino({ level: 'silent' })
  const writer = new StorageWriter({
    wal, reader: wal.reader('storage'), metrics, logger,
    backend: new InfluxV1({ url, db: 'kanshi', timeoutMs: 500 }),
    deadLetter: new DeadLetter(dir, { metrics, logger }), lingerMs: 20, minBackoffMs: 10, maxBackoffMs: 100, batchLines: 50, ...opts
  })
  writer.start()
  t.teardown(async () => { await writer.stop(); await wal.close() })
  return { wal, writer, metrics, dir }
}

async function until (fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

const expected = (n: number, lineOf: (i: number) => string = i => `m${i}`) => Array.from({ length: n }, (_, i) => `${lineOf(i)},host=web01 v=${i} ${i}`)

t.test('5xx is retried until InfluxDB takes the data', async t => {
  const f = await fakeInflux(t)
  let fails = 3
  f.setHandler((_req, body, res) => {
    if (fails-- > 0) { res.writeHead(500).end('{"error":"engine: overloaded"}'); return }
    for (const l of body.split('\n')) f.written.add(l)
    res.writeHead(204).end()
  })
  const { metrics, writer, wal } = await setup(t, f.url, 120)
  await until(() => f.written.size === 120)
  t.same([...f.written].sort(), expected(120).sort())
  t.equal((await metrics.writeRetries.get()).values[0]!.value, 3)
  await until(() => committedToEnd(wal.reader('storage'), wal))
  t.equal(writer.healthy, true)
})

t.test('429 honours Retry-After', async t => {
  const f = await fakeInflux(t)
  let first = 0
  let second = 0
  f.setHandler((_req, body, res) => {
    if (first === 0) { first = Date.now(); res.writeHead(429, { 'retry-after': '1' }).end('slow down'); return }
    second = Date.now()
    for (const l of body.split('\n')) f.written.add(l)
    res.writeHead(204).end()
  })
  await setup(t, f.url, 10)
  await until(() => f.written.size === 10)
  t.ok(second - first >= 950, `waited ${second - first} ms for Retry-After: 1`)
})

t.test('400 for one bad line: the good lines are written, the bad one dead-lettered', async t => {
  const f = await fakeInflux(t)
  f.setHandler((_req, body, res) => {
    if (body.includes('BAD')) { res.writeHead(400).end('{"error":"partial write: field type conflict"}'); return }
    for (const l of body.split('\n')) f.written.add(l)
    res.writeHead(204).end()
  })
  const lineOf = (i: number) => i === 37 ? 'BAD' : `m${i}`
  const { metrics, dir, wal } = await setup(t, f.url, 100, lineOf)
  await until(() => f.written.size === 99)
  await until(() => committedToEnd(wal.reader('storage'), wal))
  t.same([...f.written].sort(), expected(100, lineOf).filter(l => !l.startsWith('BAD')).sort())
  t.equal((await metrics.deadLettered.get()).values[0]!.value, 1)
  const dl = (await readFile(join(dir, 'dead-letter.jsonl'), 'utf8')).trim().split('\n').map(l => JSON.parse(l))
  t.equal(dl.length, 1)
  t.equal(dl[0].line, 'BAD,host=web01 v=37 37')
  t.equal(dl[0].status, 400)
  t.match(dl[0].reason, /field type conflict/)
})

t.test('a server that hangs is timed out and retried', async t => {
  const f = await fakeInflux(t)
  let hung = false
  f.setHandler((_req, body, res) => {
    if (!hung) { hung = true; return } // never answer
    for (const l of body.split('\n')) f.written.add(l)
    res.writeHead(204).end()
  })
  const { writer } = await setup(t, f.url, 5)
  await until(() => f.written.size === 5)
  t.ok(hung)
  await until(() => writer.healthy)
  t.pass('healthy again after the retry')
})

t.test('a dropped database (404) is created again and the write retried', async t => {
  const f = await fakeInflux(t)
  let missing = true
  f.setHandler((_req, body, res) => {
    if (missing) { missing = false; res.writeHead(404).end('{"error":"database not found: \\"kanshi\\""}'); return }
    for (const l of body.split('\n')) f.written.add(l)
    res.writeHead(204).end()
  })
  await setup(t, f.url, 5)
  await until(() => f.written.size === 5)
  t.ok(f.queries.filter(q => q.includes('CREATE+DATABASE')).length >= 2, 'CREATE DATABASE at start and after the 404')
})

t.test('an unexpected failure inside the write loop restarts it from the last committed position: nothing lost', async t => {
  const inf = await fakeInflux(t)
  const { writer, wal } = await setup(t, inf.url, 0)
  const reader = (writer as unknown as { o: { reader: { read: (n: number) => Promise<unknown[]> } } }).o.reader
  const read = reader.read.bind(reader)
  let failures = 0
  reader.read = async (n: number) => {
    // The WAL's disk answers EIO twice in the middle of the stream.
    if (failures < 2 && inf.written.size >= 100) { failures++; throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }) }
    return await read(n)
  }
  for (let i = 0; i < 300; i++) await wal.append(encodeEntry({ a: 'web01', s: i + 1, r: 0, p: [{ m: `m${i}`, t: i, tags: { host: 'web01' }, f: { v: i } }] }))
  await until(() => [...inf.written].filter(l => l.startsWith('m')).length >= 300)
  t.equal(failures, 2)
  t.equal(writer.restarts, 2, 'the loop was restarted, not left dead')
  for (let i = 0; i < 300; i++) if (![...inf.written].some(l => l.startsWith(`m${i},`))) t.fail(`m${i} missing`)
  await until(() => writer.healthy)
  t.ok(writer.healthy, 'healthy again once writes succeed')
})

t.test('stop ends every batch\'s retry at once, not only the last one to sleep', async t => {
  const f = await fakeInflux(t)
  const posts: number[] = []
  f.setHandler((_req, _body, res) => { posts.push(Date.now()); res.writeHead(500).end('down') })
  // One record per read: four batches of 50 lines, three in flight, each backing off 10-20 s.
  const { writer, wal } = await setup(t, f.url, 200, undefined, { readBytes: 1, minBackoffMs: 20_000, maxBackoffMs: 20_000 })
  await until(() => posts.length >= 3)
  await new Promise(resolve => setTimeout(resolve, 200))
  const started = Date.now()
  await writer.stop()
  t.ok(Date.now() - started < 2000, `stopped in ${Date.now() - started} ms`)
  t.equal(posts.length, 3, 'three batches were in flight, none retried after stop')
  t.equal(wal.reader('storage').committed.offset, 0, 'nothing written, nothing committed: the WAL keeps it all')
})
