// Rollups across failover, the pure parts and the stage: marking rules, the partial predicate at
// close, the repair queue through a checkpoint round-trip, the query text per tier, and the rollup
// points made from an InfluxQL answer.

import t from 'tap'
import { pino } from 'pino'
import { Wal } from '../../collector/state/wal/index.js'
import { encodeEntry, recordEntry, type WalEntry } from '../../collector/state/entry.js'
import { DEFAULT_TIERS, RollupAggregator } from '../../collector/storage/rollup.js'
import { RepairBook, START_SLACK_MS, repairQuery } from '../../collector/storage/rollup-repair.js'
import { RepairRunner, repairPoints, parseRetention } from '../../collector/storage/rollup-repair-run.js'
import { checkCollectorConfig } from '../../collector/config.js'
import type { Point } from '../../protocol/messages.js'
import { RollupStage } from '../../collector/storage/rollup-stage.js'
import type { Series } from '../../collector/report/influxql.js'

const M5 = 300_000
const H = 3_600_000
const D = 86_400_000
const T0 = Date.UTC(2026, 0, 5) // a UTC midnight
const silent = pino({ level: 'silent' })

t.test('a session start marks, per tier, the buckets ending after first - grace - bucket - 5 min, up to first', async t => {
  const book = new RepairBook(DEFAULT_TIERS, { delayMs: 120_000, againMs: 600_000 })
  const first = T0 + 10 * H + 7 * 60_000 // 10:07
  book.sessionStart('web01', first, 0, { segment: 1, offset: 0 })
  for (let i = 0; i < DEFAULT_TIERS.length; i++) {
    const tier = DEFAULT_TIERS[i]!
    const from = first - tier.graceMs - tier.bucketMs - START_SLACK_MS
    const want: number[] = []
    for (let s = Math.floor(from / tier.bucketMs) * tier.bucketMs; s <= first; s += tier.bucketMs) if (s + tier.bucketMs > from) want.push(s)
    const got = [...book.marks.keys()].map(k => k.split('\u0000')).filter(([h, ti]) => h === 'web01' && Number(ti) === i).map(([, , s]) => Number(s)).sort((a, b) => a - b)
    t.same(got, want, `tier ${i}: ${want.length} buckets`)
  }
  // 5-minute: 09:55 (ends 10:00 > 09:56), 10:00, 10:05; hourly 09:00 and 10:00; daily the day.
  t.ok(book.partial({ host: 'web01' }, 0, T0 + 10 * H - M5))
  t.notOk(book.partial({ host: 'web01' }, 0, T0 + 10 * H - 2 * M5), 'a bucket ending before the reach is not marked')
  t.ok(book.partial({ host: 'web01' }, 2, T0))
  t.notOk(book.partial({ host: 'web02' }, 0, T0 + 10 * H), 'another host is not')
  t.ok(book.partial({ host: 'dev1', poller: 'web01' }, 0, T0 + 10 * H), 'a device polled by the agent is')
  // Closed just before first by the previous collector (its rollup may be lost): queued at once.
  t.same([...book.queue.values()].map(i => [i.tier, i.start]), [[0, T0 + 10 * H], [1, T0 + 9 * H]], 'the 10:00 bucket and the 09:00 hour (ended within grace + 5 min before 10:07) are queued; 09:55 and the day are not')
  const early = new RepairBook(DEFAULT_TIERS, { delayMs: 1000, againMs: 1000 })
  early.sessionStart('x', T0 + D + 60_000, 0, { segment: 1, offset: 0 })
  t.same([...early.queue.values()].map(i => [i.tier, i.start]), [[0, T0 + D - M5], [0, T0 + D - 2 * M5], [1, T0 + D - H], [2, T0]], 'a session starting at 00:01 queues the 5-minute buckets, the hour and the day that ended since 23:55')
})

t.test('a point mark covers its bucket in every tier', async t => {
  const book = new RepairBook(DEFAULT_TIERS, { delayMs: 1000, againMs: 1000 })
  const ts = T0 + 13 * H + 17 * 60_000
  t.equal(book.markRange('a', ts, ts, 0), 3)
  t.ok(book.partial({ host: 'a' }, 0, T0 + 13 * H + 15 * 60_000))
  t.ok(book.partial({ host: 'a' }, 1, T0 + 13 * H))
  t.ok(book.partial({ host: 'a' }, 2, T0))
  t.notOk(book.partial({ host: 'a' }, 0, T0 + 13 * H + 10 * 60_000))
})

t.test('a marked bucket is not emitted at close but queued; it still folds into the next tier; others are emitted', async t => {
  const agg = new RollupAggregator(DEFAULT_TIERS)
  const book = new RepairBook(DEFAULT_TIERS, { delayMs: 1000, againMs: 1000 })
  book.markRange('a', T0 + 60_000, T0 + 60_000, 0)
  const queued: Array<[string, number, number]> = []
  const partial = { partial: (tags: Record<string, string>, tier: number, start: number) => book.partial(tags, tier, start), queue: (tags: Record<string, string>, tier: number, start: number) => { queued.push([tags['host']!, tier, start]) } }
  let sum = 0
  let n = 0
  for (let ts = T0; ts < T0 + H + 6 * 60_000; ts += 60_000) {
    for (const host of ['a', 'b']) agg.add({ m: 'cpu', t: ts, tags: { host }, f: { v: ts / 60_000 } }, 0)
    if (ts < T0 + H) { sum += ts / 60_000; n++ }
  }
  const out = agg.close(1, partial)
  const of = (host: string, m: string): number[] => out.filter(p => p.tags?.['host'] === host && p.m === m).map(p => p.t)
  t.equal(of('b', 'cpu').length, 12, 'host b: every closed 5-minute bucket')
  t.notOk(of('a', 'cpu').includes(T0), 'host a: the marked bucket is not emitted')
  t.equal(of('a', 'cpu').length, 11, 'host a: the others are')
  t.same(of('a', 'cpu_1h'), [], 'host a: its hour is marked too, not emitted')
  t.same(queued, [['a', 0, T0], ['a', 1, T0]], 'both queued')
  const hb = out.find(p => p.tags?.['host'] === 'b' && p.m === 'cpu_1h')!
  t.same(hb.f, { v_mean: sum / n, v_max: (T0 + H - 60_000) / 60_000, v_min: T0 / 60_000, v_count: n }, 'host b: the hour is exact')
})

t.test('the repair runs after repairDelay once stored, then again after repeatAfter, then is done', async t => {
  const book = new RepairBook(DEFAULT_TIERS, { delayMs: 120_000, againMs: 600_000 })
  t.ok(book.enqueue('a', 0, T0, { segment: 2, offset: 100 }))
  t.notOk(book.enqueue('a', 0, T0, { segment: 3, offset: 0 }), 'queued once')
  const end = T0 + M5
  t.same(book.due(end + 119_000, { segment: 9, offset: 0 }), [], 'not before repairDelay')
  t.same(book.due(end + 120_000, { segment: 2, offset: 900 }), [], 'not before every target stored its last record')
  const [it] = book.due(end + 120_000, { segment: 3, offset: 0 })
  t.ok(it)
  book.ran(it!, end + 121_000)
  t.same(book.due(end + 121_000 + 599_000, { segment: 3, offset: 0 }), [])
  book.ran(book.due(end + 121_000 + 600_000, { segment: 3, offset: 0 })[0]!, end + 800_000)
  t.equal(book.queue.size, 0, 'done after two runs')
})

t.test('marks and the queue survive the stage checkpoint (the rollup cursor)', async t => {
  const dir = t.testdir()
  const wal = await Wal.open({ dir, readers: ['rollup', 'check'], maxBytes: 4 * 1024 * 1024, segmentBytes: 256 * 1024 })
  let clock = Date.now()
  // repairs far off: this test looks at what is queued
  const repair = {
    delayMs: 10 * 365 * D, againMs: 1000, stored: () => ({ segment: 0, offset: 0 }),
    target: { db: 'kanshi', rawKeepMs: Infinity }, query: async () => { throw new Error('no InfluxDB here') }
  }
  const s1 = new RollupStage({ wal, reader: wal.reader('rollup'), logger: silent, now: () => clock, checkpointMs: 1, closeEveryMs: 1, repair })
  s1.start()
  s1.sessionStart('web01')
  clock += 10
  // a session's first batch (10:07), and a resent batch of another agent at 03:00
  const first: WalEntry = { a: 'web01', s: 1, r: clock, p: [{ m: 'cpu', t: T0 + 10 * H + 7 * 60_000, tags: { host: 'web01' }, f: { v: 1 } }] }
  const resent: WalEntry = { a: 'web02', s: 1, r: clock, resend: true, p: [{ m: 'cpu', t: T0 + 3 * H, tags: { host: 'web02' }, f: { v: 1 } }] }
  await wal.append(encodeEntry(first), first)
  await wal.append(encodeEntry(resent), resent)
  // web01 goes on past its 10:05 bucket's grace: that bucket closes, partial, and is queued.
  const more: WalEntry = { a: 'web01', s: 2, r: clock, p: [{ m: 'cpu', t: T0 + 10 * H + 12 * 60_000, tags: { host: 'web01' }, f: { v: 2 } }] }
  await wal.append(encodeEntry(more), more)
  const closed = (): boolean => s1.book.queue.has(`web01\u00000\u0000${T0 + 10 * H + M5}`) && s1.book.partial({ host: 'web02' }, 0, T0 + 3 * H)
  for (let i = 0; i < 200 && !closed(); i++) { clock += 100; await new Promise(resolve => setTimeout(resolve, 20)) }
  // (b) the session ends: the bucket of its last point (10:12) is marked once the stage has read past the end.
  s1.sessionEnd('web01')
  // (c) a late point: web03's 05:00 bucket closed (a point at 05:20), then a point of 05:01 comes.
  for (const [n, ts] of [[1, 5 * H], [2, 5 * H + 20 * 60_000], [3, 5 * H + 60_000]] as const) {
    const e: WalEntry = { a: 'web03', s: n, r: clock, p: [{ m: 'cpu', t: T0 + ts, tags: { host: 'web03' }, f: { v: n } }] }
    await wal.append(encodeEntry(e), e)
    for (let i = 0; i < 20; i++) { clock += 100; await new Promise(resolve => setTimeout(resolve, 20)) }
  }
  const ended = (): boolean => s1.book.partial({ host: 'web01' }, 0, T0 + 10 * H + 2 * M5) && s1.book.queue.has(`web03\u00000\u0000${T0 + 5 * H}`)
  for (let i = 0; i < 200 && !ended(); i++) { clock += 100; await new Promise(resolve => setTimeout(resolve, 20)) }
  t.ok(s1.book.partial({ host: 'web01' }, 0, T0 + 10 * H + 2 * M5), 'the 10:10 bucket of the session\'s last point is marked at its end')
  t.ok(s1.book.queue.has(`web03\u00000\u0000${T0 + 5 * H}`), 'a late point queues its closed bucket')
  await s1.stop()
  const queued = [...s1.book.queue.values()].map(i => `${i.host} ${i.tier} ${i.start - T0}`)
  t.ok(queued.includes(`web01 0 ${10 * H + M5}`), 'the 10:05 bucket of web01 queued at close')
  t.ok(s1.book.partial({ host: 'web02' }, 0, T0 + 3 * H), 'the resent batch marked its bucket')
  const emitted: WalEntry[] = []
  for (const r of await wal.reader('check').read(1 << 20)) emitted.push(recordEntry(r))
  t.notOk(emitted.some(e => e.rollup === true && e.p.some(p => p.tags?.['host'] === 'web01' && p.t === T0 + 10 * H + M5)), 'the partial bucket was not written from memory')
  const s2 = new RollupStage({ wal, reader: wal.reader('rollup'), logger: silent, now: () => clock })
  await s2.load()
  t.same(s2.book.snapshot(), JSON.parse(JSON.stringify(s1.book.snapshot())), 'the restarted stage has the same marks and queue')
  await wal.close()
})

t.test('the query per tier: one aggregate over raw, this host, this bucket', async t => {
  const o = { db: 'kanshi', rawRp: 'kanshi_raw' }
  t.equal(repairQuery(o, 'web01', T0, M5), `SELECT mean(*), max(*), min(*), count(*) FROM "kanshi"."kanshi_raw"./.*/ WHERE "host" = 'web01' AND time >= ${T0}ms AND time < ${T0 + M5}ms GROUP BY time(5m), *`)
  t.match(repairQuery(o, 'web01', T0, H), `time < ${T0 + H}ms GROUP BY time(1h), *`)
  t.match(repairQuery(o, 'web01', T0, D), `time < ${T0 + D}ms GROUP BY time(1d), *`)
  t.match(repairQuery({ db: 'kanshi' }, "o'brien", T0, M5), `FROM /.*/ WHERE "host" = 'o\\'brien'`, 'a quote in a host name is escaped; no policy: the default')
  t.equal(parseRetention('35d'), 35 * D)
  t.equal(parseRetention('INF'), Infinity)
})

t.test('an InfluxQL answer becomes rollup points: numeric fields only, empty tags dropped, skipped measurements left out', async t => {
  const series: Series[] = [
    { name: 'cpu', tags: { host: 'a', cpu: 'total', role: '' }, columns: ['time', 'mean_v', 'max_v', 'min_v', 'count_v', 'count_s'], values: [[T0, 2.5, 4, 1, 4, 4]] },
    { name: 'log_event', tags: { host: 'a' }, columns: ['time', 'mean_x', 'max_x', 'min_x', 'count_x'], values: [[T0, 1, 1, 1, 1]] },
    { name: 'mem', tags: { host: 'a' }, columns: ['time', 'mean_u', 'max_u', 'min_u', 'count_u'], values: [[T0, null, null, null, 0]] }
  ]
  t.same(repairPoints(series, DEFAULT_TIERS[1]!, T0), [{ m: 'cpu_1h', t: T0, tags: { host: 'a', cpu: 'total' }, f: { v_mean: 2.5, v_max: 4, v_min: 1, v_count: 4 } }])
})

t.test('the runner: a failed query is counted and retried later, the item kept; expired raw data is skipped; done twice ends it', async t => {
  let clock = T0 + 40 * D
  const book = new RepairBook(DEFAULT_TIERS, { delayMs: 0, againMs: 60_000 })
  book.enqueue('a', 0, T0 + 39 * D, { segment: 1, offset: 0 })
  book.enqueue('old', 0, T0, { segment: 1, offset: 0 })
  const results: string[] = []
  const appended: Point[][] = []
  let fail = true
  const answer: Series[] = [{ name: 'cpu', tags: { host: 'a' }, columns: ['time', 'mean_v', 'max_v', 'min_v', 'count_v'], values: [[T0 + 39 * D, 2, 3, 1, 2]] }]
  const runner = new RepairRunner({
    book, tiers: DEFAULT_TIERS, logger: silent, now: () => clock, stored: () => ({ segment: 1, offset: 0 }),
    target: { db: 'kanshi', rawRp: 'kanshi_raw', rollupRp: 'kanshi_5m', rawKeepMs: parseRetention('35d') },
    query: async () => { if (fail) throw new Error('InfluxDB at x did not answer'); return [answer] },
    append: async p => { appended.push(p) },
    onResult: r => results.push(r),
    minBackoffMs: 1000, maxBackoffMs: 1000
  })
  await runner.runDue()
  t.same(results.sort(), ['failed', 'skipped'], 'the 40-day-old bucket is past the 35-day raw retention; the other failed')
  t.equal(book.queue.size, 1, 'the failed one stays queued')
  await runner.runDue()
  t.equal(results.length, 2, 'not retried before its backoff')
  fail = false
  clock += 1000
  await runner.runDue()
  t.same(appended, [[{ m: 'cpu', t: T0 + 39 * D, tags: { host: 'a' }, f: { v_mean: 2, v_max: 3, v_min: 1, v_count: 2 } }]], 'written as the rollup point')
  clock += 60_000
  await runner.runDue()
  t.equal(appended.length, 2, 'run again after repeatAfter')
  t.equal(book.queue.size, 0)
  t.same(results.filter(r => r === 'done'), ['done', 'done'])
})

t.test('the runner: a failed query pauses the whole run, so a down target gets one query a backoff', async t => {
  let clock = T0 + 10 * D
  const book = new RepairBook(DEFAULT_TIERS, { delayMs: 0, againMs: 60_000 })
  const hosts = Array.from({ length: 50 }, (_, i) => `h${i}`)
  for (const h of hosts) book.enqueue(h, 0, T0 + 9 * D, { segment: 1, offset: 0 })
  let up = false
  let queries = 0
  const runner = new RepairRunner({
    book, tiers: DEFAULT_TIERS, logger: silent, now: () => clock, stored: () => ({ segment: 1, offset: 0 }),
    target: { db: 'kanshi', rawRp: 'kanshi_raw', rollupRp: 'kanshi_5m', rawKeepMs: parseRetention('35d') },
    query: async () => { queries++; if (!up) throw new Error('connect ECONNREFUSED'); return [[]] },
    append: async () => {},
    minBackoffMs: 1000, maxBackoffMs: 4000
  })
  await runner.runDue()
  t.equal(queries, 1, 'the first failure ends the run: not 50 queries to a target that is down')
  await runner.runDue()
  t.equal(queries, 1, 'nothing before the backoff')
  for (let i = 0; i < 5; i++) { clock += 4000; await runner.runDue() }
  t.equal(queries, 6, 'one query a backoff while it stays down')
  t.equal(book.queue.size, 50, 'every repair still queued')
  up = true
  clock += 4000
  await runner.runDue()
  t.equal(queries, 56, 'once it answers, every due repair runs')
})

t.test('rollup.repairDelay and rollup.repeatAfter: defaults, durations, a bad value names the key', async t => {
  const d = checkCollectorConfig('/etc/kanshi/collector.yaml', {}, {})
  t.same(d.rollup, { repairDelay: 120_000, repeatAfter: 600_000 })
  t.same(checkCollectorConfig('/etc/kanshi/collector.yaml', { rollup: { repairDelay: '5s', repeatAfter: '1m' } }, {}).rollup, { repairDelay: 5000, repeatAfter: 60_000 })
  t.throws(() => checkCollectorConfig('/etc/kanshi/collector.yaml', { rollup: { repairDelay: 'soon' } }, {}), /collector\.yaml: rollup\.repairDelay: expected a duration/)
})
