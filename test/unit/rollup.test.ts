import t from 'tap'
import { RollupAggregator } from '../../collector/storage/rollup.js'

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
