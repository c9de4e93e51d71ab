import t from 'tap'
import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import { Spool } from '../../agent/spool.js'
import type { Point } from '../../protocol/messages.js'

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
  const f = JSON.parse((await s.frame(seq))!)
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
  t.equal(JSON.parse((await s.frame(101))!).seq, 101)
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
  const frame = (await s.frame(seq))!
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
