import t from 'tap'
import { RollupAggregator } from '../../collector/storage/rollup.js'
import { tmpDir } from '../helpers/tmp.js'

const M = 60_000
const p = (t: number, v: number, host = 'a') => ({ m: 'cpu', t, tags: { host }, f: { usage_percent: v, note: 'x' } })

t.test('mean, max, min and count per 5-minute bucket, closed after the grace', async t => {
  const a = new RollupAggregator({ graceMs: M })
  // bucket [0, 5m): 10, 20, 60 -> mean 30
  a.add(p(0, 10), 0)
  a.add(p(2 * M, 20), 0)
  a.add(p(4 * M, 60), 0)
  a.add(p(5 * M, 7), 0) // next bucket
  t.same(a.close(0), [], 'not closed before end + grace')
  a.add(p(6 * M, 9), 0) // 6m >= 5m + 1m grace
  const out = a.close(0)
  t.same(out, [{ m: 'cpu', t: 0, tags: { host: 'a' }, f: { usage_percent_mean: 30, usage_percent_max: 60, usage_percent_min: 10, usage_percent_count: 3 } }], 'string fields are not rolled up')
  t.same(a.close(0), [], 'the next bucket is still open')
})

t.test('series are independent; a silent series closes after idle time; late points are counted, not folded in', async t => {
  const a = new RollupAggregator({ graceMs: M, idleMs: 10 * M })
  a.add(p(0, 1, 'a'), 0)
  a.add(p(0, 5, 'b'), 0)
  a.add(p(7 * M, 1, 'a'), 0)
  t.same(a.close(0).map(x => x.tags), [{ host: 'a' }], 'a moved on, b did not')
  t.same(a.close(10 * M).map(x => x.tags), [{ host: 'a' }, { host: 'b' }], 'after 10 minutes of silence both close')
  a.add(p(M, 100, 'a'), 10 * M)
  t.equal(a.stats.late, 1, 'a point for a closed bucket is counted as late')
  t.same(a.close(11 * M), [])
})

t.test('snapshot and restore carry open buckets through a restart', async t => {
  const a = new RollupAggregator({ graceMs: M })
  a.add(p(0, 10), 0)
  a.add(p(M, 30), 0)
  const b = new RollupAggregator({ graceMs: M })
  b.restore(JSON.parse(JSON.stringify(a.snapshot())))
  b.add(p(2 * M, 50), 0)
  b.add(p(7 * M, 1), 0)
  t.same(b.close(0).map(x => x.f), [{ usage_percent_mean: 30, usage_percent_max: 50, usage_percent_min: 10, usage_percent_count: 3 }])
  b.add(p(0, 99), 0)
  t.equal(b.stats.late, 1, 'closedThrough survives too')
})

// Three tiers as the collector runs them: 5 minutes, 1 hour, 1 day.
const H = 3_600_000
const D = 86_400_000
const tiers = [
  { bucketMs: 5 * M, graceMs: M, idleMs: 10 * M, suffix: '' },
  { bucketMs: H, graceMs: 5 * M, idleMs: 20 * M, suffix: '_1h' },
  { bucketMs: D, graceMs: 10 * M, idleMs: 25 * H, suffix: '_1d' }
]

/** the aggregate of raw values, computed directly (not by the code under test) */
function direct (pts: Array<{ t: number, v: number }>, from: number, to: number) {
  const vs = pts.filter(p => p.t >= from && p.t < to).map(p => p.v)
  return { mean: vs.reduce((a, b) => a + b, 0) / vs.length, max: Math.max(...vs), min: Math.min(...vs), count: vs.length }
}

function day (seed: number) {
  const pts: Array<{ t: number, v: number }> = []
  let x = seed
  for (let t = 0; t < D + 2 * H; t += 10_000) { x = (x * 1103515245 + 12345) % 2 ** 31; pts.push({ t, v: (x % 10_000) / 100 }) }
  return pts
}

t.test('hourly and daily buckets, fed by closed finer buckets, equal the aggregates of the raw points', async t => {
  const a = new RollupAggregator(tiers)
  const pts = day(7)
  const out = []
  for (const q of pts) {
    a.add({ m: 'cpu', t: q.t, tags: { host: 'h' }, f: { v: q.v, s: 'text' } }, q.t)
    if (q.t % M === 0) out.push(...a.close(q.t))
  }
  const hours = out.filter(p => p.m === 'cpu_1h')
  const days = out.filter(p => p.m === 'cpu_1d')
  t.equal(out.filter(p => p.m === 'cpu').length, (D + H) / (5 * M) + 11, 'every 5-minute bucket up to a minute before the end closed')
  t.equal(hours.length, 25, 'the hours of the first day and the next closed')
  t.equal(days.length, 1, 'the first day closed ten minutes into the next')
  const near = (x: number, y: number) => Math.abs(x - y) < 1e-9 * Math.max(1, Math.abs(y))
  for (const p of [...hours, ...days]) {
    const d = direct(pts, p.t, p.t + (p.m === 'cpu_1h' ? H : D))
    t.ok(near(p.f.v_mean as number, d.mean) && p.f.v_max === d.max && p.f.v_min === d.min && p.f.v_count === d.count, `${p.m} at ${p.t / H} h equals the raw aggregate`)
  }
  t.same(Object.keys(days[0]!.f).sort(), ['v_count', 'v_max', 'v_mean', 'v_min'])
})

t.test('a silent host: its hour and day close by idle time, each after the finer buckets inside it', async t => {
  const a = new RollupAggregator(tiers)
  a.add({ m: 'cpu', t: 0, tags: { host: 'h' }, f: { v: 1 } }, 0)
  a.add({ m: 'cpu', t: 2 * M, tags: { host: 'h' }, f: { v: 3 } }, 2 * M)
  t.same(a.close(11 * M).map(p => p.m), [], 'the last point reached it at 2 min')
  t.same(a.close(12 * M).map(p => p.m), ['cpu'], '5 minutes: idle for 10 minutes')
  t.same(a.close(31 * M).map(p => p.m), [], 'the hour was touched when the 5-minute bucket was folded in at 12 min')
  t.same(a.close(32 * M).map(p => [p.m, p.f.v_mean, p.f.v_count]), [['cpu_1h', 2, 2]], 'the hour: idle for 20 minutes')
  t.same(a.close(32 * M + 25 * H - 1).map(p => p.m), [], 'the day waits 25 hours from the hour folded in')
  t.same(a.close(32 * M + 25 * H).map(p => [p.m, p.f.v_mean, p.f.v_count]), [['cpu_1d', 2, 2]], 'the day: idle for 25 hours')
  t.equal(a.openBuckets(), 0)
})

t.test('fields appearing later, and fields missing in a bucket, fold in per field', async t => {
  const a = new RollupAggregator(tiers)
  a.add({ m: 'disk', t: 0, tags: {}, f: { used: 10 } }, 0)
  a.add({ m: 'disk', t: 6 * M, tags: {}, f: { free: 5 } }, 0)
  a.add({ m: 'disk', t: 12 * M, tags: {}, f: { used: 30, free: 7 } }, 0)
  a.add({ m: 'disk', t: H + 6 * M, tags: {}, f: { used: 1 } }, 0)
  const out = a.close(0)
  t.same(out.filter(p => p.m === 'disk').map(p => p.f), [
    { used_mean: 10, used_max: 10, used_min: 10, used_count: 1 },
    { free_mean: 5, free_max: 5, free_min: 5, free_count: 1 },
    { used_mean: 30, used_max: 30, used_min: 30, used_count: 1, free_mean: 7, free_max: 7, free_min: 7, free_count: 1 }
  ])
  t.same(out.filter(p => p.m === 'disk_1h').map(p => p.f), [{ used_mean: 20, used_max: 30, used_min: 10, used_count: 2, free_mean: 6, free_max: 7, free_min: 5, free_count: 2 }])
})

t.test('a checkpoint of three tiers (JSON snapshot and binary file) resumes without loss or double count', async t => {
  const { writeCheckpoint, readCheckpoint } = await import('../../collector/storage/rollup-checkpoint.js')
  const { writeFile, readFile } = await import('node:fs/promises')
  const { join } = await import('node:path')
  const dir = await tmpDir(t)
  const pts = day(11)
  const half = pts.length / 2
  const run = async (how: 'none' | 'json' | 'file') => {
    let a = new RollupAggregator(tiers)
    const out = []
    for (let i = 0; i < pts.length; i++) {
      const q = pts[i]!
      if (i === half && how !== 'none') {
        const b = new RollupAggregator(tiers)
        if (how === 'json') b.restore(JSON.parse(JSON.stringify(a.snapshot())))
        else {
          const file = join(dir, 'ckpt')
          const w = await writeCheckpoint(a, file)
          t.equal(await readCheckpoint(b, file), w.series)
        }
        a = b
      }
      a.add({ m: 'cpu', t: q.t, tags: { host: 'h', 部署: '市民課' }, f: { v: q.v } }, q.t)
      a.add({ m: 'mem', t: q.t, tags: { host: 'h' }, f: { used: q.v * 2 } }, q.t)
      if (q.t % M === 0) out.push(...a.close(q.t))
    }
    return out
  }
  const whole = await run('none')
  t.ok(whole.some(p => p.m === 'cpu_1d') && whole.some(p => p.tags?.部署 === '市民課'))
  t.same(await run('json'), whole, 'JSON snapshot: the same rollups as without a restart')
  t.same(await run('file'), whole, 'binary checkpoint: the same rollups as without a restart')

  const a = new RollupAggregator(tiers)
  a.add({ m: 'cpu', t: 0, tags: {}, f: { v: 1 } }, 0)
  const file = join(dir, 'cut')
  await writeCheckpoint(a, file)
  const bytes = await readFile(file)
  await writeFile(file, bytes.subarray(0, bytes.length - 3))
  await t.rejects(readCheckpoint(new RollupAggregator(tiers), file), /rollup checkpoint .*cut is damaged at byte \d+: it ends early/)
  await writeFile(file, 'not a checkpoint at all')
  await t.rejects(readCheckpoint(new RollupAggregator(tiers), file), /not a rollup checkpoint/)
  await writeCheckpoint(a, file)
  await t.rejects(readCheckpoint(new RollupAggregator(tiers.slice(0, 2)), file), /tiers \[300000,3600000,86400000\] ms, this collector \[300000,3600000\] ms/)
})
