import t from 'tap'
import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import { Wal, encodeRecord, HEADER_BYTES, writevAll } from '../../collector/state/wal/index.js'
import { KanshiError } from '../../protocol/errors.js'

async function readAll (wal: Wal, name = 'r'): Promise<string[]> {
  const r = wal.reader(name)
  const out: string[] = []
  for (;;) {
    const recs = await r.read(1 << 20)
    if (recs.length === 0) return out
    for (const rec of recs) out.push(rec.data.toString())
  }
}

t.test('appends are read back in order after reopen', async t => {
  const dir = t.testdir()
  const wal = await Wal.open({ dir, readers: ['r'] })
  await Promise.all(Array.from({ length: 50 }, (_, i) => wal.append(Buffer.from(`rec-${i}`))))
  await wal.close()
  const recovered: string[] = []
  const again = await Wal.open({ dir, readers: ['r'], onRecover: d => recovered.push(d.toString()) })
  t.same(recovered, Array.from({ length: 50 }, (_, i) => `rec-${i}`))
  t.same(await readAll(again), recovered)
  t.equal(again.recovery.tornBytes, 0)
  await again.close()
})

t.test('group commit: concurrent appends share flushes', async t => {
  const wal = await Wal.open({ dir: t.testdir(), readers: [] })
  let flushes = 0
  wal.onFlush = () => { flushes++ }
  await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append(Buffer.from(String(i)))))
  t.ok(flushes >= 1 && flushes < 200, `200 appends took ${flushes} flushes`)
  await wal.close()
})

t.test('under appends that never pause, commits run back to back, flushed() still returns, and every record lands in order', async t => {
  const dir = t.testdir()
  const wal = await Wal.open({ dir, readers: ['r'] })
  let stop = false
  let n = 0
  // Eight appenders, each appending again the moment its last append is durable (an agent's window).
  const chain = async (c: number): Promise<number> => {
    let i = 0
    while (!stop) { n++; await wal.append(Buffer.from(`${c}:${i++}`)) }
    return i
  }
  const chains = Array.from({ length: 8 }, (_, c) => chain(c))
  await new Promise(resolve => setTimeout(resolve, 50))
  const before = n
  // Commits are chained while appends keep coming: flushed() must wait for what was queued, not for a pause.
  await wal.flushed()
  const during = n - before
  t.ok(during > 0 && !stop, `flushed() returned while appends went on (${during} appended meanwhile)`)
  stop = true
  const counts = await Promise.all(chains)
  const got = await readAll(wal)
  t.equal(got.length, n, `all ${n} records are in the log`)
  const next = new Map<string, number>()
  let disorder = 0
  for (const rec of got) {
    const [c, i] = rec.split(':') as [string, string]
    if (Number(i) !== (next.get(c) ?? 0)) disorder++
    next.set(c, Number(i) + 1)
  }
  t.equal(disorder, 0, 'each appender\'s records in the order it appended them')
  t.same([...next.values()].sort(), counts.sort(), 'none missing at the end')
  await wal.close()
})

t.test('a torn tail is cut at the last whole record and appends continue', async t => {
  const dir = t.testdir()
  const wal = await Wal.open({ dir, readers: ['r'] })
  for (let i = 0; i < 5; i++) await wal.append(Buffer.from(`good-${i}`))
  await wal.close()
  const seg = join(dir, '0000000000000001.wal')
  const whole = (await fsp.stat(seg)).size
  // half a record: a header promising 100 bytes, then only 10 of them
  const torn = encodeRecord(Buffer.alloc(100, 7), Date.now()).subarray(0, HEADER_BYTES + 10)
  await fsp.appendFile(seg, torn)
  const again = await Wal.open({ dir, readers: ['r'] })
  t.equal(again.recovery.records, 5)
  t.equal(again.recovery.tornBytes, torn.length)
  t.equal((await fsp.stat(seg)).size, whole, 'file cut back to the whole records')
  await again.append(Buffer.from('after'))
  t.same(await readAll(again), ['good-0', 'good-1', 'good-2', 'good-3', 'good-4', 'after'])
  await again.close()
})

t.test('a record with a bad checksum ends recovery of the segment there', async t => {
  const dir = t.testdir()
  const wal = await Wal.open({ dir, readers: ['r'] })
  for (let i = 0; i < 3; i++) await wal.append(Buffer.from(`rec-${i}`))
  await wal.close()
  const seg = join(dir, '0000000000000001.wal')
  const buf = await fsp.readFile(seg)
  const recLen = HEADER_BYTES + 'rec-0'.length
  buf[recLen + HEADER_BYTES] ^= 0xff // flip a payload byte of the second record
  await fsp.writeFile(seg, buf)
  const again = await Wal.open({ dir, readers: ['r'] })
  t.equal(again.recovery.records, 1)
  t.equal(again.recovery.corruptSegments, 1)
  t.same(await readAll(again), ['rec-0'])
  await again.close()
})

t.test('segments roll, and are deleted once every reader committed past them', async t => {
  const dir = t.testdir()
  let checkpoints = 0
  const wal = await Wal.open({ dir, readers: ['a', 'b'], segmentBytes: 64 * 1024, beforeDelete: async () => { checkpoints++ } })
  const payload = Buffer.alloc(10 * 1024, 1)
  for (let i = 0; i < 20; i++) await wal.append(payload)
  const segs = (await fsp.readdir(dir)).filter(n => n.endsWith('.wal'))
  t.ok(segs.length >= 3, `rolled into ${segs.length} segments`)
  const a = wal.reader('a')
  const b = wal.reader('b')
  const ra = await a.read(1 << 30)
  t.equal(ra.length, 20)
  await a.commit(ra.at(-1)!.end)
  t.equal((await fsp.readdir(dir)).filter(n => n.endsWith('.wal')).length, segs.length, 'b has not consumed: nothing deleted')
  const rb = await b.read(1 << 30)
  await b.commit(rb.at(-1)!.end)
  const left = (await fsp.readdir(dir)).filter(n => n.endsWith('.wal'))
  t.equal(left.length, 1, 'only the active segment is left')
  t.ok(checkpoints >= 1, 'beforeDelete ran before deletion')
  await wal.close()
  const again = await Wal.open({ dir, readers: ['a', 'b'] })
  t.same(await readAll(again, 'a'), [], 'committed cursors survive reopen')
  await again.close()
})

t.test('appends are refused with E_WAL_FULL at the byte bound, and taken again after consumption', async t => {
  const dir = t.testdir()
  const wal = await Wal.open({ dir, readers: ['r'], maxBytes: 200 * 1024, segmentBytes: 64 * 1024 })
  const payload = Buffer.alloc(20 * 1024, 2)
  let stored = 0
  let refused: unknown
  for (let i = 0; i < 20; i++) {
    try { await wal.append(payload); stored++ } catch (err) { refused = err; break }
  }
  t.ok(refused instanceof KanshiError && refused.code === 'E_WAL_FULL', 'refused with E_WAL_FULL')
  t.ok(stored >= 8 && stored < 10, `stored ${stored} of 20 KiB under a 200 KiB bound`)
  const r = wal.reader('r')
  const recs = await r.read(1 << 30)
  t.equal(recs.length, stored, 'nothing accepted was lost')
  await r.commit(recs.at(-1)!.end)
  await wal.append(payload)
  t.pass('append succeeds after the reader consumed the log')
  await wal.close()
})

t.test('readers committing at once never run beforeDelete side by side', async t => {
  const dir = t.testdir()
  let running = 0
  let overlapped = false
  const wal = await Wal.open({
    dir, readers: ['a', 'b', 'c'], segmentBytes: 16 * 1024,
    // The real beforeDelete (the seq checkpoint) renames one tmp file: two at once broke a reader for good.
    beforeDelete: async () => {
      if (++running > 1) overlapped = true
      await new Promise(resolve => setTimeout(resolve, 5))
      running--
    }
  })
  const payload = Buffer.alloc(4 * 1024, 1)
  for (let i = 0; i < 40; i++) await wal.append(payload)
  const readers = ['a', 'b', 'c'].map(n => wal.reader(n))
  const recs = await Promise.all(readers.map(async r => await r.read(1 << 30)))
  for (let i = 0; i < recs[0]!.length; i += 4) {
    await Promise.all(readers.map(async (r, k) => await r.commit(recs[k]![i]!.end)))
  }
  await Promise.all(readers.map(async (r, k) => await r.commit(recs[k]!.at(-1)!.end)))
  t.notOk(overlapped, 'beforeDelete calls did not overlap')
  // A cursor at the very end of a full segment still names it: at most that one and the active one stay.
  t.ok((await fsp.readdir(dir)).filter(n => n.endsWith('.wal')).length <= 2, 'the consumed segments were deleted')
  await wal.close()
})

t.test('records taken from the memory tail are the records on disk, across segments, a small tail and a rewind', async t => {
  const dir = t.testdir()
  // A tail of 8 KiB holds about the last dozen records: older ones are read from the segment files.
  const wal = await Wal.open({ dir, readers: ['fast', 'slow'], segmentBytes: 16 * 1024, memoryTailBytes: 8 * 1024 })
  const want: string[] = []
  for (let i = 0; i < 60; i++) {
    const body = `rec-${i}-${'x'.repeat(i * 7 % 500)}`
    want.push(body)
    await wal.append(Buffer.from(body), { n: i })
  }
  const fast = wal.reader('fast')
  const recs = []
  for (let got = await fast.read(2048); got.length > 0; got = await fast.read(2048)) recs.push(...got)
  t.same(recs.map(r => r.data.toString()), want, 'every record once, in order')
  const decoded = recs.filter(r => r.entry !== undefined)
  t.ok(decoded.length >= 8 && decoded.length < 60, `the newest came from memory with their entries (${decoded.length}), the older from disk`)
  t.same(decoded.map(r => (r.entry as { n: number }).n), decoded.map(r => want.indexOf(r.data.toString())), 'each entry belongs to its own record')

  // The same records read from disk alone (a fresh WAL on the same files: nothing in memory).
  await wal.close()
  const again = await Wal.open({ dir, readers: ['fast', 'slow'], segmentBytes: 16 * 1024 })
  const disk = []
  const slow = again.reader('slow')
  for (let got = await slow.read(1 << 20); got.length > 0; got = await slow.read(1 << 20)) disk.push(...got)
  t.same(disk.map(r => [r.end, r.ts, r.data.toString()]), recs.map(r => [r.end, r.ts, r.data.toString()]), 'positions, times and bytes match the memory tail')

  // New records after a rewind: the reader takes them again from disk once memory gave them away.
  for (let i = 0; i < 3; i++) await again.append(Buffer.from(`new-${i}`), { n: 100 + i })
  const r1 = await slow.read(1 << 20)
  t.same(r1.map(r => r.entry), [{ n: 100 }, { n: 101 }, { n: 102 }], 'from memory')
  slow.rewind()
  const r2 = []
  for (let got = await slow.read(1 << 20); got.length > 0; got = await slow.read(1 << 20)) r2.push(...got)
  t.same(r2.slice(-3).map(r => r.data.toString()), ['new-0', 'new-1', 'new-2'], 'read again after the rewind')
  t.equal(r2.length, 63, 'from the committed position (the start)')
  await again.close()
})

t.test('writevAll writes every buffer in order: over 1,024 buffers to a real file, and through short writes', async t => {
  const bufs = Array.from({ length: 2500 }, (_, i) => Buffer.from(`record ${i};`.repeat(1 + (i % 5))))
  const whole = Buffer.concat(bufs)
  const path = join(t.testdir(), 'f')
  const fh = await fsp.open(path, 'w')
  await writevAll(fh, bufs, whole.length)
  await fh.close()
  t.ok((await fsp.readFile(path)).equals(whole), 'the file holds the buffers in order')
  // A file handle that takes at most 7 bytes per call (a short write, as a full disk or a signal can cause).
  const got: Buffer[] = []
  let calls = 0
  const short = {
    writev: async (part: Buffer[]) => {
      calls++
      const b = Buffer.concat(part).subarray(0, 7)
      got.push(b)
      return { bytesWritten: b.length, buffers: part }
    }
  }
  await writevAll(short as unknown as fsp.FileHandle, bufs.slice(0, 40), Buffer.concat(bufs.slice(0, 40)).length)
  t.ok(Buffer.concat(got).equals(Buffer.concat(bufs.slice(0, 40))), `the same bytes in ${calls} short writes`)
  t.ok(calls > 40)
})
