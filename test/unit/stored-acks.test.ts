// The pure parts of stored acknowledgements and failover: the collector's StoredTracker, the
// agent's CollectorChoice, and the spool keeping acked batches (marked, resent, deleted first when full).

import t from 'tap'
import { MAX_ENTRIES_PER_AGENT, StoredTracker } from '../../collector/ingest/stored.js'
import { CollectorChoice } from '../../agent/collector-choice.js'
import { Spool } from '../../agent/spool.js'
import type { Point } from '../../protocol/messages.js'

const at = (offset: number) => ({ segment: 1, offset })

t.test('stored seq follows the storage position, per agent, in seq order', async t => {
  const acked = new Map<string, number>()
  const tr = new StoredTracker(a => acked.get(a) ?? 0)
  const sent: Array<[string, number]> = []
  tr.listen('a', s => sent.push(['a', s]))
  tr.listen('b', s => sent.push(['b', s]))
  // a: seqs 1..3 at 100, 300, 500; b: 7 at 200, 8 at 400
  for (const [agent, seq, off] of [['a', 1, 100], ['b', 7, 200], ['a', 2, 300], ['b', 8, 400], ['a', 3, 500]] as const) {
    tr.noteAcked(agent, seq, at(off))
    acked.set(agent, seq)
  }
  t.equal(tr.storedSeq('a'), 0)
  t.equal(tr.storedSeq('b'), 0, 'nothing of b stored yet')
  tr.advance(at(250))
  t.same(sent, [['a', 1], ['b', 7]])
  tr.advance(at(250))
  t.equal(sent.length, 2, 'no frame when nothing moved')
  tr.advance(at(450))
  t.same(sent.slice(2), [['a', 2], ['b', 8]])
  t.equal(tr.storedSeq('b'), 8)
  tr.advance(at(10_000))
  t.same(sent.slice(4), [['a', 3]])
  t.equal(tr.size, 0, 'nothing queued once all is stored')
  tr.noteAcked('a', 4, at(9_000))
  t.same(sent.slice(5), [['a', 4]], 'a batch behind the storage position is stored at once')
})

t.test('an out-of-order WAL position never reports a lower seq stored too early', async t => {
  const acked = new Map<string, number>()
  const tr = new StoredTracker(a => acked.get(a) ?? 0)
  tr.noteAcked('a', 2, at(100)) // seq 2 landed before seq 1
  tr.noteAcked('a', 1, at(200))
  acked.set('a', 2)
  tr.advance(at(150))
  t.equal(tr.storedSeq('a'), 0, 'seq 2 is stored but seq 1 is not: stored stays at 0')
  tr.advance(at(200))
  t.equal(tr.storedSeq('a'), 2)
})

t.test('the queue per agent is bounded; stored acks come coarser, never too far', async t => {
  const acked = new Map<string, number>()
  const tr = new StoredTracker(a => acked.get(a) ?? 0)
  const n = 10 * MAX_ENTRIES_PER_AGENT
  for (let s = 1; s <= n; s++) { tr.noteAcked('a', s, at(s * 10)); acked.set('a', s) }
  t.ok(tr.size <= MAX_ENTRIES_PER_AGENT, `${tr.size} entries for ${n} batches`)
  t.equal(tr.thinned, n - tr.size, 'every entry is kept or counted as thinned')
  for (let pos = 10; pos <= n * 10; pos += 37) {
    tr.advance(at(pos))
    t.ok(tr.storedSeq('a') <= Math.floor(pos / 10), `at ${pos}: stored ${tr.storedSeq('a')} is not past what storage holds`)
  }
  tr.advance(at(n * 10))
  t.equal(tr.storedSeq('a'), n, 'exact once everything is stored')
})

t.test('collector choice: next on failure, backoff per round, downgrade and preference at once', async t => {
  const c = new CollectorChoice(['ws://c1', 'ws://c2', 'ws://c3'])
  t.equal(c.url, 'ws://c1')
  t.same([c.closed(), c.url, c.round()], [false, 'ws://c2', 0])
  t.same([c.closed(), c.url, c.round()], [false, 'ws://c3', 0])
  t.same([c.closed(), c.url, c.round()], [false, 'ws://c1', 0], 'first round: every collector once without growing backoff')
  t.same([c.closed(), c.url, c.round()], [false, 'ws://c2', 1])
  c.connected()
  t.equal(c.protocol(2), 2)
  t.ok(c.downgrade(1, 2))
  t.same([c.closed(), c.url, c.protocol(2)], [true, 'ws://c2', 1], 'E_PROTOCOL: the same collector at once, with protocol 1')
  t.notOk(c.downgrade(1, 2), 'not below protocol 1')
  c.switchTo(0)
  t.same([c.closed(), c.url], [true, 'ws://c1'], 'returning to the preferred one: at once')
  t.same([c.closed(), c.url, c.round()], [false, 'ws://c2', 0])
  t.equal(c.protocol(2), 1, 'c2 is still spoken to in protocol 1')
  t.same([c.closed(), c.url], [false, 'ws://c3'])
  c.switchTo(1)
  t.equal(c.protocol(2), 2, 'a collector whose connection was lost is offered the newest protocol again')
})

t.test('collector choice: 3 → 2 → 1 on one collector, each at once; 3 again after a lost connection', async t => {
  const c = new CollectorChoice(['ws://c1'])
  t.equal(c.protocol(3), 3)
  t.ok(c.downgrade(1, 3))
  t.same([c.closed(), c.protocol(3)], [true, 2], 'refused 3: 2 at once')
  t.ok(c.downgrade(1, 3))
  t.same([c.closed(), c.protocol(3)], [true, 1], 'refused 2: 1 at once')
  t.notOk(c.downgrade(1, 3), 'not below 1')
  c.connected()
  t.same([c.closed(), c.url, c.protocol(3)], [false, 'ws://c1', 3], 'a lost connection: the newest again, after a backoff')
})

const pts = (n: number, pad = 0): Point[] => Array.from({ length: n }, (_, i) => ({ m: 'x', t: i, tags: {}, f: { v: i, pad: 'p'.repeat(pad) } }))

t.test('spool: acked batches are kept, marked resend, remembered across a restart, deleted first when full', async t => {
  const dir = t.testdir()
  const s = await Spool.open(dir, 64 * 1024)
  for (let i = 0; i < 6; i++) await s.add(pts(10, 500)) // ~5.6 KiB each
  s.markAcked(1)
  s.markAckedThrough(3)
  t.equal(s.ackedBatches, 3)
  t.equal(JSON.parse((await s.frame(2, 3, true))!).resend, true)
  t.notOk('resend' in JSON.parse((await s.frame(4, 3))!))
  await s.add(pts(1)) // state.json now says acked through 3
  const again = await Spool.open(dir, 64 * 1024)
  t.same([1, 2, 3, 4, 5, 6, 7].map(q => again.isAcked(q)), [true, true, true, false, false, false, false], 'acked marks survive a restart')
  const drops: Array<{ batches: number, released: number }> = []
  again.onDrop = d => drops.push({ batches: d.batches, released: d.released })
  for (let i = 0; i < 12; i++) await again.add(pts(10, 500))
  const kept = again.seqsAfter(0)
  t.equal(again.releasedBatches, 3, 'the three acked batches went first, counted as released')
  t.equal(again.droppedBatches, drops.reduce((a, d) => a + d.batches, 0), 'then unacked ones, counted as dropped')
  t.ok(again.droppedBatches > 0, `${again.droppedBatches} unacked batches dropped`)
  t.equal(kept.length + again.releasedBatches + again.droppedBatches, 19, 'every batch kept, released or dropped')
  t.same(kept, Array.from({ length: kept.length }, (_, i) => 20 - kept.length + i), 'the newest are kept')
  t.ok(drops[0]!.released > 0 && drops[0]!.batches === 0, 'the first room was made from acked batches only')
  t.notOk(again.has(1) || again.has(2) || again.has(3))
})
