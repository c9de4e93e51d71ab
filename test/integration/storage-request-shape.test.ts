// The storage writer's requests as InfluxDB sees them (a real HTTP server, a real WAL, the real
// InfluxV1 back end): whole records up to batchLines per request, a record larger than that in
// pieces, every line once and in WAL order, and the cursor never past a request not yet answered.

import t, { type Test } from 'tap'
import { createServer, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { Wal } from '../../collector/state/wal/index.js'
import { encodeEntry, type WalEntry } from '../../collector/state/entry.js'
import { InfluxV1 } from '../../collector/storage/influx-v1.js'
import { DeadLetter } from '../../collector/storage/dead-letter.js'
import { QUIET_MS, StorageWriter } from '../../collector/storage/writer.js'
import { createMetrics } from '../../collector/metrics.js'

interface Post { lines: string[], answer: () => void }

/** server answers /write with 204 at once, or holds the answers while hold() says so. */
async function server (t: Test, hold: (n: number) => boolean = () => false): Promise<{ url: string, posts: Post[] }> {
  const posts: Post[] = []
  const s = createServer((req, res: ServerResponse) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', c => { body += c })
    req.on('end', () => {
      if (req.url!.startsWith('/query')) { res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{}]}'); return }
      const post: Post = { lines: body.split('\n'), answer: () => res.writeHead(204).end() }
      posts.push(post)
      if (!hold(posts.length)) post.answer()
    })
  })
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { s.closeAllConnections(); s.close() })
  return { url: `http://127.0.0.1:${(s.address() as { port: number }).port}`, posts }
}

/** entry i of n points: measurement r<i>, point j at time j, one field. */
const entry = (i: number, n: number): WalEntry => ({ a: 'web01', s: i + 1, r: 0, p: Array.from({ length: n }, (_, j) => ({ m: `r${i}`, t: j, tags: { host: 'web01' }, f: { v: j } })) })
const lineOf = (i: number, j: number): string => `r${i},host=web01 v=${j} ${j}`

async function setup (t: Test, url: string, sizes: number[], batchLines: number, backlogBatchLines?: number, lingerMs = 20): Promise<{ wal: Wal, writer: StorageWriter }> {
  const dir = t.testdir()
  const wal = await Wal.open({ dir: join(dir, 'wal'), readers: ['storage'] })
  for (let i = 0; i < sizes.length; i++) await wal.append(encodeEntry(entry(i, sizes[i]!)))
  const metrics = createMetrics(new Registry(), false)
  const logger = pino({ level: 'silent' })
  const writer = new StorageWriter({
    wal, reader: wal.reader('storage'), metrics, logger, backend: new InfluxV1({ url, db: 'kanshi', timeoutMs: 5000 }),
    deadLetter: new DeadLetter(dir, { metrics, logger }), lingerMs, batchLines, concurrency: 4, ...(backlogBatchLines !== undefined ? { backlogBatchLines } : {})
  })
  t.teardown(async () => { await writer.stop(); await wal.close() })
  return { wal, writer }
}

async function until (cond: () => boolean, ms = 10_000): Promise<void> {
  for (const t0 = Date.now(); !cond();) {
    if (Date.now() - t0 > ms) throw new Error('timed out')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

t.test('whole records up to batchLines per request, every line once and in order', async t => {
  const { url, posts } = await server(t)
  const sizes = Array.from({ length: 40 }, (_, i) => 10 + (i * 7) % 25) // 10-34 points a record
  const { wal, writer } = await setup(t, url, sizes, 100)
  writer.start()
  const total = sizes.reduce((a, b) => a + b, 0)
  await until(() => posts.reduce((a, p) => a + p.lines.length, 0) >= total)
  const want = sizes.flatMap((n, i) => Array.from({ length: n }, (_, j) => lineOf(i, j)))
  // Four requests in flight may arrive in any order: put them in the order of their first record.
  const recordOf = (l: string): number => Number(/^r(\d+),/.exec(l)![1])
  posts.sort((a, b) => recordOf(a.lines[0]!) - recordOf(b.lines[0]!))
  t.same(posts.flatMap(p => p.lines), want, 'every line once, in WAL order')
  // Each request is whole records (a record's lines never span two requests) and at most batchLines,
  // and no request could have taken the next record without going over.
  let record = 0
  for (const [k, p] of posts.entries()) {
    t.ok(p.lines.length <= 100, `request ${k}: ${p.lines.length} lines`)
    let n = 0
    while (n < p.lines.length) n += sizes[record++]!
    t.equal(n, p.lines.length, `request ${k} ends at the end of record ${record - 1}`)
    if (record < sizes.length) t.ok(n + sizes[record]! > 100, `request ${k} left record ${record} only because it would not fit`)
  }
  await until(() => wal.reader('storage').committed.offset === wal.durableEnd().offset)
  t.pass('the cursor reached the end')
})

t.test('a record larger than batchLines goes in pieces of batchLines', async t => {
  const { url, posts } = await server(t)
  const { writer } = await setup(t, url, [30, 250, 30], 100)
  writer.start()
  await until(() => posts.reduce((a, p) => a + p.lines.length, 0) >= 310)
  // In the order of their first line (record, then point): requests in flight may arrive in any order.
  const key = (l: string): number => { const m = /^r(\d+),host=web01 v=(\d+) /.exec(l)!; return Number(m[1]) * 1000 + Number(m[2]) }
  posts.sort((a, b) => key(a.lines[0]!) - key(b.lines[0]!))
  t.same(posts.map(p => p.lines.length), [30, 100, 100, 50, 30])
  t.same(posts.flatMap(p => p.lines), [30, 250, 30].flatMap((n, i) => Array.from({ length: n }, (_, j) => lineOf(i, j))))
})

t.test('the cursor waits for the oldest request even when later ones are stored', async t => {
  // The first request is held; the next ones are answered at once.
  const { url, posts } = await server(t, n => n === 1)
  const { wal, writer } = await setup(t, url, Array.from({ length: 8 }, () => 50), 100)
  writer.start()
  await until(() => posts.length >= 4)
  await new Promise(resolve => setTimeout(resolve, 200))
  t.equal(wal.reader('storage').committed.offset, 0, 'nothing committed while the first request is unanswered')
  posts[0]!.answer()
  await until(() => wal.reader('storage').committed.offset === wal.durableEnd().offset)
  t.same(posts.flatMap(p => p.lines).sort(), Array.from({ length: 8 }, (_, i) => Array.from({ length: 50 }, (_, j) => lineOf(i, j))).flat().sort(), 'every line written')
})

t.test('behind, requests grow to backlogBatchLines; caught up, batchLines again', async t => {
  const { url, posts } = await server(t)
  // 40 records of 30 points already in the WAL: a backlog of 1,200 lines.
  const { wal, writer } = await setup(t, url, Array.from({ length: 40 }, () => 30), 100, 300)
  writer.start()
  await until(() => posts.reduce((a, p) => a + p.lines.length, 0) >= 1200)
  t.ok(posts.length <= 6, `the backlog went in ${posts.length} requests, not 12 of 90 lines`)
  t.ok(posts.every(p => p.lines.length <= 300 && p.lines.length % 30 === 0), `whole records, at most 300 lines: ${posts.map(p => p.lines.length).join(', ')}`)
  // Caught up: records appended one at a time, each sent within the linger, at most batchLines a request.
  const before = posts.length
  for (let i = 40; i < 50; i++) {
    await wal.append(encodeEntry(entry(i, 60)))
    await until(() => posts.reduce((a, p) => a + p.lines.length, 0) >= 1200 + (i - 39) * 60)
  }
  t.ok(posts.slice(before).every(p => p.lines.length <= 100), `caught up: ${posts.slice(before).map(p => p.lines.length).join(', ')} lines a request`)
})

t.test('a batch lingers while records keep coming, and goes QUIET_MS after the last one, not after flushInterval', async t => {
  const { url, posts } = await server(t)
  const lingerMs = 10_000
  const { wal, writer } = await setup(t, url, [], 1000, 1000, lingerMs)
  writer.start()
  // A stream: a record every QUIET_MS / 4 for 2 × QUIET_MS, then nothing.
  const n = 8
  for (let i = 0; i < n; i++) {
    await wal.append(encodeEntry(entry(i, 10)))
    await new Promise(resolve => setTimeout(resolve, QUIET_MS / 4))
  }
  const last = Date.now()
  await until(() => posts.reduce((a, p) => a + p.lines.length, 0) >= n * 10, lingerMs / 2)
  const waited = Date.now() - last
  t.ok(waited < lingerMs / 4, `the last records were sent ${waited} ms after they came (flushInterval ${lingerMs} ms)`)
  t.ok(posts.length <= 2, `the stream went in ${posts.length} request(s) of ${posts.map(p => p.lines.length).join(', ')} lines: it lingered while records came`)
})
