import t from 'tap'
import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import { Spool } from '../../agent/spool.js'
import { PROTOCOL_VERSION, validateBatch, type Point } from '../../protocol/messages.js'

const pts = (n: number, pad = 0): Point[] => Array.from({ length: n }, (_, i) => ({ m: 'x', t: i, tags: {}, f: { v: i, pad: 'p'.repeat(pad) } }))

t.test('seq grows by one per batch and survives reopen, even when the spool is empty', async t => {
  const dir = t.testdir()
  const s = await Spool.open(dir, 1 << 20)
  t.equal(await s.add(pts(1)), 1)
  t.equal(await s.add(pts(1)), 2)
  await s.remove(1)
  await s.remove(2)
  const again = await Spool.open(dir, 1 << 20)
  t.equal(again.batches, 0)
  t.equal(await again.add(pts(1)), 3)
})

t.test('frames carry type, seq, points and events', async t => {
  const s = await Spool.open(t.testdir(), 1 << 20)
  const seq = await s.add(pts(2), [{ t: 1, source: 'a', level: 'error', message: 'm' }])
  const f = JSON.parse((await s.frame(seq, PROTOCOL_VERSION))!)
  t.equal(f.type, 'batch')
  t.equal(f.seq, seq)
  t.equal(f.points.length, 2)
  t.equal(f.events[0].message, 'm')
})

t.test('bounded by bytes: the oldest batches go first and every drop is counted', async t => {
  const dir = t.testdir()
  const s = await Spool.open(dir, 64 * 1024)
  const drops: Array<{ batches: number, points: number }> = []
  s.onDrop = d => drops.push({ batches: d.batches, points: d.points })
  for (let i = 0; i < 20; i++) await s.add(pts(10, 500)) // ~5.6 KiB each
  t.ok(s.sizeBytes <= 64 * 1024, `spool holds ${s.sizeBytes} bytes`)
  const kept = s.batches
  t.equal(s.droppedBatches, 20 - kept, 'every batch is either kept or counted as dropped')
  t.equal(s.droppedPoints, (20 - kept) * 10)
  t.equal(drops.reduce((n, d) => n + d.batches, 0), 20 - kept, 'each drop was reported')
  t.same(s.seqsAfter(0), Array.from({ length: kept }, (_, i) => 20 - kept + 1 + i), 'the newest are kept, in order')
  const files = (await fsp.readdir(join(dir, 'spool'))).filter(n => n.endsWith('.batch'))
  t.equal(files.length, kept, 'dropped files are gone from disk')
})

t.test('removeThrough drops what the collector holds; continueAfter renumbers above a higher ackedSeq', async t => {
  const dir = t.testdir()
  const s = await Spool.open(dir, 1 << 20)
  for (let i = 0; i < 5; i++) await s.add(pts(1))
  await s.removeThrough(2)
  t.same(s.seqsAfter(0), [3, 4, 5])
  t.equal(await s.continueAfter(4), false, 'nothing to do when the collector is behind')
  t.equal(await s.continueAfter(100), true)
  t.same(s.seqsAfter(0), [101, 102, 103])
  t.equal(JSON.parse((await s.frame(101, PROTOCOL_VERSION))!).seq, 101)
  const again = await Spool.open(dir, 1 << 20)
  t.same(again.seqsAfter(0), [101, 102, 103], 'renumbering is on disk')
  t.equal(await again.add(pts(1)), 104)
})

t.test('a half-written temp file from a crash is removed at open', async t => {
  const dir = t.testdir()
  const s = await Spool.open(dir, 1 << 20)
  await s.add(pts(1))
  await fsp.writeFile(join(dir, 'spool', '0000000000000002-1.batch.tmp'), '{"points":[')
  const again = await Spool.open(dir, 1 << 20)
  t.equal(again.batches, 1)
  t.same((await fsp.readdir(join(dir, 'spool'))).filter(n => n.endsWith('.tmp')), [])
})

t.test('cursors ride with their batch: saved with it, never sent, recovered from it after a crash', async t => {
  const dir = t.testdir()
  const s = await Spool.open(dir, 1 << 20)
  const ev = [{ t: 1, source: '/var/log/app.log', level: 'info', message: 'line 1' }]
  const seq = await s.add([], ev, { logs: { offset: 7 } })
  const frame = (await s.frame(seq, PROTOCOL_VERSION))!
  t.notMatch(frame, /offset/, 'the cursor is not part of the wire frame')
  t.same(JSON.parse(frame).events, ev)
  t.same((await Spool.open(dir, 1 << 20)).cursor('logs'), { offset: 7 })
  // A crash between the batch's rename and state.json: state.json still has the old cursor.
  const seq2 = await s.add([], ev, { logs: { offset: 14 } })
  await fsp.writeFile(join(dir, 'state.json'), JSON.stringify({ lastSeq: seq, cursors: { logs: { offset: 7 } } }))
  const again = await Spool.open(dir, 1 << 20)
  t.equal(again.highestSeq, seq2)
  t.same(again.cursor('logs'), { offset: 14 }, 'the newest batch on disk holds the newer cursor')
  await again.saveCursors({ logs: { offset: 20 } })
  t.same((await Spool.open(dir, 1 << 20)).cursor('logs'), { offset: 20 }, 'saveCursors without a batch')
})

t.test('a batch that cannot be written does not advance the cursor', async t => {
  const dir = t.testdir()
  const s = await Spool.open(dir, 1 << 20)
  await s.add([], [], { logs: 1 })
  // The spool directory vanishes (a failing disk; permissions would not stop root): the write fails.
  await fsp.rm(join(dir, 'spool'), { recursive: true })
  await t.rejects(s.add([], [], { logs: 2 }))
  t.same(s.cursor('logs'), 1)
  await fsp.mkdir(join(dir, 'spool'), { recursive: true })
  t.same((await Spool.open(dir, 1 << 20)).cursor('logs'), 1)
})

// A batch as the inputs make it: series interleaved, numbers, strings and booleans, points without
// tags, and names ("__proto__", "cols") that must stay plain keys. JSON.parse makes "__proto__" an
// own key, as it does for a point read from a push request.
const mixed = (): Point[] => {
  const odd = JSON.parse('{"__proto__":"evil","cols":"c"}') as Record<string, string>
  const oddF = JSON.parse('{"__proto__":7,"n":1}') as Record<string, number>
  const out: Point[] = []
  for (let i = 0; i < 4; i++) {
    const t = 1_700_000_000_000 + i * 10_000
    out.push({ m: 'cpu', t, tags: { cpu: 'total' }, f: { usr: i + 0.5, sys: i * 2 } })
    out.push({ m: 'service', t, tags: { name: 'sshd' }, f: { state: 'running', pid: 100 + i } })
    out.push({ m: 'cpu', t, tags: { cpu: 'cpu0' }, f: { usr: -i, sys: 1e-9 * i } })
    out.push({ m: 'mem', t, f: { used: 2 ** 40 + i } })
    out.push({ m: 'check', t, tags: { check: 'http' }, f: { ok: i % 2 === 0, ms: i } })
    out.push({ m: 'odd', t, tags: { ...odd }, f: { ...oddF, n: i } })
  }
  out.push({ m: 'cpu', t: 1_700_000_100_000, tags: { cpu: 'total' }, f: { sys: 9, usr: 8 } }) // fields in another order: another series
  return out
}
/** one line per point whatever its key order, own "__proto__" keys included */
const canon = (p: Point): string => {
  const sorted = (o: Record<string, unknown> | undefined): Array<[string, unknown]> => Object.keys(o ?? {}).sort().map(k => [k, o![k]])
  return JSON.stringify([p.m, p.t, sorted(p.tags), sorted(p.f)])
}
const numeric = (p: Point): boolean => Object.keys(p.f).every(k => typeof p.f[k] === 'number' && Number.isFinite(p.f[k]))

t.test('numeric points spool as columns: sent as spooled at protocol 3, as points below it', async t => {
  const dir = t.testdir()
  const s = await Spool.open(dir, 1 << 20)
  const input = mixed()
  const events = [{ t: 1, source: 'app', level: 'error', message: 'cols' }]
  const seq = await s.add(input, events)
  const [file] = (await fsp.readdir(join(dir, 'spool'))).filter(n => n.endsWith('.batch'))
  t.equal(file, `${String(seq).padStart(16, '0')}-${input.length + events.length}.batch`, 'the file name counts every point and event')
  const body = await fsp.readFile(join(dir, 'spool', file!), 'utf8')

  const f3 = (await s.frame(seq, 3))!
  t.equal(f3, `{"type":"batch","seq":${seq},${body.slice(1)}`, 'protocol 3: the spooled body as it is')
  const b3 = JSON.parse(f3)
  t.ok(validateBatch(b3), 'a valid protocol-3 batch')
  t.same(b3.events, events)
  t.same(b3.points.map(canon), input.filter(p => !numeric(p)).map(canon), 'points: the ones with a string or boolean field, in order')
  // the series expected: measurement, tags and field names in order, first seen first; rows in input order
  const series = new Map<string, { m: string, tags?: Record<string, string>, f: string[], v: number[] }>()
  for (const p of input.filter(numeric)) {
    const f = Object.keys(p.f)
    const key = JSON.stringify([p.m, p.tags === undefined ? null : Object.entries(p.tags), f])
    if (!series.has(key)) series.set(key, { m: p.m, ...(p.tags === undefined ? {} : { tags: p.tags }), f, v: [] })
    series.get(key)!.v.push(p.t, ...f.map(k => p.f[k] as number))
  }
  t.equal(b3.cols.length, 5, 'cpu total twice (field order), cpu0, mem, odd')
  t.equal(JSON.stringify(b3.cols), JSON.stringify([...series.values()]), 'cols: one entry per series, rows in order')
  const odd = b3.cols.find((c: { m: string }) => c.m === 'odd')
  t.ok(Object.hasOwn(odd.tags, '__proto__') && Object.hasOwn(odd.tags, 'cols') && odd.f[0] === '__proto__', '"__proto__" and "cols" stay plain names')
  t.notOk('tags' in b3.cols.find((c: { m: string }) => c.m === 'mem'), 'a point without tags: a series without tags')

  for (const protocol of [2, 1]) {
    const b = JSON.parse((await s.frame(seq, protocol, true))!)
    t.ok(validateBatch(b), `protocol ${protocol}: a valid batch`)
    t.notOk('cols' in b, `protocol ${protocol}: no cols`)
    t.equal(b.resend, true)
    t.same(b.events, events)
    t.same(b.points.map(canon).sort(), input.map(canon).sort(), `protocol ${protocol}: every point as sent, as a set`)
    const p = b.points.find((x: Point) => x.m === 'odd')
    t.ok(Object.hasOwn(p.tags, '__proto__') && Object.hasOwn(p.f, '__proto__') && Object.getPrototypeOf(p.f) === Object.prototype, 'a "__proto__" field and tag are own keys, not the prototype')
  }
  t.equal((await s.frame(seq, 3))!, f3, 'the file is unchanged by a frame for an older collector')
})

t.test('spool files from before protocol 3 (points only) are sent as they are at every protocol', async t => {
  const dir = t.testdir()
  await fsp.mkdir(join(dir, 'spool'), { recursive: true })
  const old = [{ m: 'cpu', t: 1000, tags: { cpu: 'total' }, f: { usr: 1 } }, { m: 'cpu', t: 2000, tags: { cpu: 'total' }, f: { usr: 2 } }]
  const body = JSON.stringify({ points: old })
  await fsp.writeFile(join(dir, 'spool', '0000000000000007-2.batch'), body + '\n{"logs":1}')
  // a field named "cols" in an old file: the text holds "cols": and still has no columns
  const withKey = JSON.stringify({ points: [{ m: 'x', t: 1, f: { cols: 3 } }] })
  await fsp.writeFile(join(dir, 'spool', '0000000000000008-1.batch'), withKey)
  await fsp.writeFile(join(dir, 'state.json'), JSON.stringify({ lastSeq: 8 }))
  const s = await Spool.open(dir, 1 << 20)
  t.same(s.seqsAfter(0), [7, 8])
  for (const protocol of [3, 2, 1]) {
    t.equal(await s.frame(7, protocol), `{"type":"batch","seq":7,${body.slice(1)}`, `protocol ${protocol}: seq 7 as spooled`)
    t.equal(await s.frame(8, protocol), `{"type":"batch","seq":8,${withKey.slice(1)}`, `protocol ${protocol}: seq 8 as spooled`)
  }
  // a damaged file (a disk fault) goes as it is at every protocol, as before: the collector refuses it
  const other = join(dir, 'damaged')
  await fsp.mkdir(join(other, 'spool'), { recursive: true })
  const damaged = '{"points":[],"cols":[{"m":"x","f":["v"],"v":[1,'
  await fsp.writeFile(join(other, 'spool', '0000000000000001-1.batch'), damaged)
  const d = await Spool.open(other, 1 << 20)
  for (const protocol of [3, 2]) t.equal(await d.frame(1, protocol), `{"type":"batch","seq":1,${damaged.slice(1)}`, `protocol ${protocol}: a damaged file as it is`)
  const seq = await s.add(old)
  t.equal(seq, 9)
  t.same(JSON.parse((await s.frame(9, 2))!).points, old, 'the same points spooled now go as the same points to protocol 2')
  t.same(JSON.parse((await s.frame(9, 3))!).cols, [{ m: 'cpu', tags: { cpu: 'total' }, f: ['usr'], v: [1000, 1, 2000, 2] }], 'and as one series to protocol 3')
})
