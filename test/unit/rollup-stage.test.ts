import t, { type Test } from 'tap'
import { pino } from 'pino'
import { Wal } from '../../collector/state/wal/index.js'
import { encodeEntry, type WalEntry } from '../../collector/state/entry.js'
import { RollupStage } from '../../collector/storage/rollup-stage.js'

// The rollup reader's cursor moves only at its checkpoints, and the WAL deletes a
// segment only once every reader is past it. With a small WAL bound, checkpoints
// an hour apart held the WAL at its bound and refused agents' batches (seen as a
// slow drain in reliability-storage.test.ts under load).
async function run (t: Test, fill: number): Promise<{ before: number, after: number }> {
  const dir = t.testdir()
  const wal = await Wal.open({ dir, readers: ['rollup'], maxBytes: 256 * 1024, segmentBytes: 16 * 1024 })
  const reader = wal.reader('rollup')
  let clock = 1_700_000_000_000
  const stage = new RollupStage({ wal, reader, logger: pino({ level: 'silent' }), now: () => clock, checkpointMs: 3_600_000 })
  stage.start()
  // The first checkpoint comes with the first record; then the clock moves on 5 s, far short of the hour.
  await wal.append(encodeEntry({ a: 'h', s: 0, r: clock, p: [] }))
  for (let i = 0; i < 50 && reader.committed.offset === 0; i++) await new Promise(resolve => setTimeout(resolve, 20))
  const before = reader.committed.offset + reader.committed.segment * 16 * 1024
  let n = 0
  while (wal.totalBytes < fill) {
    const entry: WalEntry = { a: 'h', s: ++n, r: clock, p: [{ m: 'cpu', t: clock, tags: { host: 'h' }, f: { v: n } }] }
    await wal.append(encodeEntry(entry), entry)
  }
  clock += 5_000
  await wal.append(encodeEntry({ a: 'h', s: ++n, r: clock, p: [] }))
  await new Promise(resolve => setTimeout(resolve, 1500))
  const after = reader.committed.offset + reader.committed.segment * 16 * 1024
  await stage.stop()
  await wal.close()
  return { before, after }
}

t.test('a rollup cursor holding a quarter of the WAL bound checkpoints within seconds, not at checkpointMs', async t => {
  const r = await run(t, 100 * 1024)
  t.ok(r.after > r.before + 64 * 1024, `the cursor moved on by ${r.after - r.before} bytes`)
})

t.test('below a quarter it waits for checkpointMs', async t => {
  const r = await run(t, 20 * 1024)
  t.equal(r.after, r.before, 'no checkpoint in between')
})
