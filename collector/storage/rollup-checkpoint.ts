// The rollup stage's checkpoint file: every open bucket of every series, binary, written a slice
// of series at a time so a large collector neither builds one huge string nor holds the event loop.
// It is made durable under a new name before the rollup cursor names it, so the two always match.
//
// Layout (little-endian): "KROLLUP3", u8 tiers, f64 bucketMs per tier; per
// series: u32 n, n bytes of JSON [m, tags, names], u32 k, k f64 (Series.d:
// maxT, closed per tier, the open buckets); then u32 0xffffffff and u32 the
// number of series.

import { open, readFile, unlink } from 'node:fs/promises'
import { renameDurable } from '../../common/atomic-write.js'
import type { RollupAggregator, Series } from './rollup.js'
import { writeAll } from '../state/wal/index.js'

const MAGIC = Buffer.from('KROLLUP3')
const END = 0xffffffff
/** series per write: one slice of event-loop time each */
const SLICE = 4096

class Out {
  buf = Buffer.allocUnsafe(1 << 20)
  n = 0
  private room (k: number): void {
    if (this.n + k <= this.buf.length) return
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k))
    this.buf.copy(b, 0, 0, this.n)
    this.buf = b
  }

  u8 (x: number): void { this.room(1); this.buf[this.n++] = x }
  u32 (x: number): void { this.room(4); this.n = this.buf.writeUInt32LE(x, this.n) }
  f64 (x: number): void { this.room(8); this.n = this.buf.writeDoubleLE(x, this.n) }
  bytes (b: Buffer): void { this.room(b.length); b.copy(this.buf, this.n); this.n += b.length }
}

function encodeSeries (o: Out, s: Series): void {
  const head = Buffer.from(JSON.stringify([s.m, s.tags, s.names]))
  o.u32(head.length)
  o.bytes(head)
  o.u32(s.d.length)
  for (const x of s.d) o.f64(x)
}

/**
 * writeCheckpoint writes the aggregator's open buckets to file durably (temp file, fsync,
 * renameDurable), a slice at a time; the caller must not add to the aggregator until it resolves.
 */
export async function writeCheckpoint (agg: RollupAggregator, file: string): Promise<{ series: number, bytes: number }> {
  const tmp = `${file}.tmp`
  const fh = await open(tmp, 'w', 0o600)
  let bytes = 0
  let count = 0
  try {
    const o = new Out()
    const flush = async (): Promise<void> => {
      await writeAll(fh, o.buf.subarray(0, o.n))
      bytes += o.n
      o.n = 0
    }
    o.bytes(MAGIC)
    o.u8(agg.tiers.length)
    for (const t of agg.tiers) o.f64(t.bucketMs)
    for (const s of agg.series.values()) {
      encodeSeries(o, s)
      if (++count % SLICE === 0) await flush()
    }
    o.u32(END)
    o.u32(count)
    await flush()
    await fh.sync()
  } catch (err) {
    await fh.close().catch(() => {})
    await unlink(tmp).catch(() => {})
    throw err
  }
  await fh.close()
  await renameDurable(tmp, file)
  return { series: count, bytes }
}

/** readCheckpoint puts the series of a checkpoint file into agg; a damaged file is an error naming it. */
export async function readCheckpoint (agg: RollupAggregator, file: string): Promise<number> {
  const b = await readFile(file)
  let p = 0
  const bad = (why: string): Error => new Error(`rollup checkpoint ${file} is damaged at byte ${p}: ${why}`)
  const need = (k: number): void => { if (p + k > b.length) throw bad('it ends early') }
  const u8 = (): number => { need(1); return b[p++]! }
  const u32 = (): number => { need(4); const x = b.readUInt32LE(p); p += 4; return x }
  const f64 = (): number => { need(8); const x = b.readDoubleLE(p); p += 8; return x }
  need(MAGIC.length)
  if (!b.subarray(0, MAGIC.length).equals(MAGIC)) throw bad('not a rollup checkpoint')
  p = MAGIC.length
  const nTiers = u8()
  const sizes: number[] = []
  for (let i = 0; i < nTiers; i++) sizes.push(f64())
  agg.checkTiers(sizes)
  const series: Array<Parameters<RollupAggregator['put']>> = []
  for (;;) {
    const n = u32()
    if (n === END) break
    need(n)
    const [m, tags, names] = JSON.parse(b.toString('utf8', p, p + n)) as [string, Record<string, string>, string[]]
    p += n
    const k = u32()
    need(8 * k)
    const d = new Array<number>(k)
    for (let i = 0; i < k; i++) d[i] = f64()
    series.push([m, tags, names, d])
  }
  if (u32() !== series.length) throw bad('series count does not match')
  for (const s of series) agg.put(...s)
  return series.length
}
