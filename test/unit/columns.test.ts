import t from 'tap'
import { fromColumns, pointsIn, toColumns, type Cols } from '../../protocol/columns.js'
import { validateBatch, type Point } from '../../protocol/messages.js'
import { isBatch } from '../../protocol/batch-check.js'
import { batchParts, decodeEntry, pointCount, pointsOf, stamp, type WalEntry } from '../../collector/state/entry.js'
import { devicePolicy } from '../../collector/state/device-stamp.js'
import { LineBody } from '../../collector/storage/line-body.js'
import { entryToLines } from '../../collector/storage/line-protocol.js'
import { pointBody, pointLines } from '../../collector/storage/write-batch.js'
import { RollupAggregator } from '../../collector/storage/rollup.js'
import { Evaluator } from '../../collector/alerting/evaluator.js'
import { checkRule } from '../../collector/alerting/rules.js'

// Protocol 3's columns must mean exactly the points they carry: every reader (storage body, text
// lines, rollups, alert evaluation, stamping, the WAL) gives for the columns what it gives for the
// same points sent as objects. Random points from a seeded generator.

let seed = 0x1b873593
function rnd (): number {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5
  return (seed >>> 0) / 0x100000000
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
const names = ['cpu', 'mem', 'disk io', 'a,b', 'x=y', '受付', 'q"uote', 'trail\\', '__proto__', 'usage_percent']
const values = ['web01', '', '/mnt/a b,c=d', '東京都千代田区', 'a\\,b', ' ']

function number (): number {
  switch (Math.floor(rnd() * 6)) {
    case 0: return Math.floor(rnd() * 1000)
    case 1: return -rnd() * 1e6
    case 2: return rnd() * 1e-9
    case 3: return pick([0, -0, 1, 0.1, 1e21, 5e-324, Number.MAX_VALUE])
    default: return Math.round(rnd() * 1e6) / 100
  }
}

/** A few series, each with its own field names, and points of them in random order, some not numeric. */
function points (n: number, base = 1_763_800_000_000): Point[] {
  const series = Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => {
    const tags: Record<string, string> = {}
    for (let k = Math.floor(rnd() * 3); k > 0; k--) tags[pick(names)] = pick(values)
    const f = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => pick(names)))]
    return { m: pick(names), tags: rnd() < 0.2 ? undefined : tags, f }
  })
  const out: Point[] = []
  for (let i = 0; i < n; i++) {
    const s = pick(series)
    const f: Record<string, number | boolean | string> = {}
    for (const k of s.f) Object.defineProperty(f, k, { value: number(), enumerable: true, writable: true, configurable: true })
    if (rnd() < 0.1) f[s.f[0]!] = pick([true, 'text'])
    const p: Point = { m: s.m, t: base + Math.floor(rnd() * 3_600_000), f }
    if (s.tags !== undefined) p.tags = { ...s.tags }
    out.push(p)
  }
  return out
}

/** JSON of each point, sorted: the same points as a multiset. */
const asSet = (ps: readonly Point[]): string[] => ps.map(p => JSON.stringify([p.m, p.t, p.tags ?? {}, Object.entries(p.f)])).sort()
/**
 * The same, fields in name order and to 12 digits: a rollup series that two field lists widen
 * orders its names by arrival, and sums its rows in another order than its points.
 */
const byName = (ps: readonly Point[]): string[] => ps.map(p => JSON.stringify([p.m, p.t, p.tags ?? {}, Object.entries(p.f).sort(([x], [y]) => x < y ? -1 : 1).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toPrecision(12)) : v])])).sort()

t.test('toColumns splits numeric points into series; fromColumns gives the same points back', async t => {
  for (let round = 0; round < 100; round++) {
    const ps = points(1 + Math.floor(rnd() * 60))
    const { points: rest, cols } = toColumns(ps)
    t.ok(rest.every(p => Object.values(p.f).some(v => typeof v !== 'number')), 'only points with a non-number stay points')
    t.equal(pointsIn({ points: rest, cols }), ps.length, 'points + rows = points sent')
    const back = fromColumns(cols, rest.slice())
    if (JSON.stringify(asSet(back)) !== JSON.stringify(asSet(ps))) { t.fail(`round ${round}: points differ`); return }
    for (const c of cols) {
      const times = c.v.filter((_, i) => i % (c.f.length + 1) === 0)
      const sent = ps.filter(p => p.m === c.m && JSON.stringify(p.tags) === JSON.stringify(c.tags) && Object.keys(p.f).join() === c.f.join() && Object.values(p.f).every(v => typeof v === 'number')).map(p => p.t)
      t.same(times, sent, 'rows keep the order of their points')
    }
  }
  const proto = fromColumns([{ m: 'x', tags: JSON.parse('{"__proto__":"a"}'), f: ['__proto__'], v: [1, 2] }])[0]!
  t.equal(Object.getPrototypeOf(proto.f), Object.prototype, 'a field named "__proto__" is a plain key')
  t.equal(proto.f['__proto__'], 2)
  t.equal(proto.tags!['__proto__'], 'a')
})

t.test('the batch check takes whole rows of finite numbers and says what is wrong otherwise', async t => {
  const batch = (cols: unknown, points: unknown[] = []): unknown => ({ type: 'batch', seq: 1, points, cols })
  const ok = batch([{ m: 'cpu', tags: { cpu: 'total' }, f: ['usr', 'sys'], v: [1000, 1.5, 2, 2000, 0, -3e-7] }, { m: 'mem', f: ['used'], v: [] }])
  t.ok(isBatch(ok), 'fast check')
  t.ok(validateBatch(ok), 'validator')
  const bad: Array<[string, unknown, RegExp]> = [
    ['half a row', batch([{ m: 'cpu', f: ['a', 'b'], v: [1000, 1, 2, 2000, 1] }]), /cols\.0\.v: 5 numbers are not whole rows of 3/],
    ['a fractional time', batch([{ m: 'cpu', f: ['a'], v: [1000.5, 1] }]), /cols\.0\.v\.0: .*whole milliseconds/],
    ['a negative time', batch([{ m: 'cpu', f: ['a'], v: [1000, 1, -1, 2] }]), /cols\.0\.v\.2: .*whole milliseconds/],
    ['null (NaN as JSON)', batch([{ m: 'cpu', f: ['a'], v: [1000, null] }]), /cols\.0\.v\.1/],
    ['a string value', batch([{ m: 'cpu', f: ['a'], v: [1000, '1'] }]), /cols\.0\.v\.1/],
    ['a field named twice', batch([{ m: 'cpu', f: ['a', 'a'], v: [1000, 1, 2] }]), /cols\.0\.f.*duplicate/],
    ['no fields', batch([{ m: 'cpu', f: [], v: [] }]), /cols\.0\.f/],
    ['no measurement', batch([{ m: '', f: ['a'], v: [1, 2] }]), /cols\.0\.m/],
    ['cols not a list', batch({ m: 'cpu' }), /cols/],
    ['too many points in all', batch([{ m: 'cpu', f: ['a'], v: Array.from({ length: 2 * 19_999 }, (_, i) => i) }], [{ m: 'x', t: 1, f: { a: 1 } }, { m: 'x', t: 2, f: { a: 1 } }]), /20001 points .*exceed 20000/]
  ]
  for (const [what, b, msg] of bad) {
    t.notOk(isBatch(b), `${what}: refused by the fast check`)
    t.notOk(validateBatch(b), `${what}: refused by the validator`)
    t.match(validateBatch.describe(), msg, `${what}: ${validateBatch.describe()}`)
  }
  t.ok(validateBatch(batch([{ m: 'cpu', f: ['a'], v: Array.from({ length: 2 * 19_998 }, (_, i) => i) }], [{ m: 'x', t: 1, f: { a: 1 } }, { m: 'x', t: 2, f: { a: 1 } }])), '20,000 points in all pass')
})

const id = { id: 'kiosk01', role: 'kiosk', site: '本庁舎' }

t.test('stamping: the token\'s identity on every series; a device series becomes points', async t => {
  const frame = { type: 'batch', seq: 7, points: [], cols: [{ m: 'cpu', tags: { host: 'forged', poller: 'x', cpu: 'total' }, f: ['usr'], v: [1000, 5, 2000, 6] }, { m: 'ping', tags: { host: 'printer1', device: 'printer1' }, f: ['rtt_ms'], v: [1000, 0.5] }] }
  const e = stamp({ ...id, devices: devicePolicy(['printer1'], new Set()) }, JSON.parse(JSON.stringify(frame)), 5000)
  t.same(e.c, [{ m: 'cpu', tags: { host: 'kiosk01', cpu: 'total', role: 'kiosk', site: '本庁舎' }, f: ['usr'], v: [1000, 5, 2000, 6] }], 'host/role/site stamped over the agent\'s, poller removed')
  t.equal(e.p.length, 2, 'the device\'s row became a point, with host_up')
  t.equal(e.p[0]!.m, 'ping')
  t.equal(pointCount(e), 4)
  t.equal(pointsOf(e).length, 4)
  const refused = stamp(id, JSON.parse(JSON.stringify(frame)), 5000)
  t.same(refused.p.map(p => p.m), ['host_up'], 'an agent with no device policy: the device series is refused as its points are')

  // Stored in the WAL as received; decoding stamps it the same way.
  const bytes = Buffer.from(JSON.stringify({ type: 'batch', seq: 8, points: [], cols: [frame.cols[0]] }))
  const got = decodeEntry(Buffer.concat(batchParts(id, 8, 5000, bytes)))
  t.same(got, stamp(id, JSON.parse(bytes.toString()), 5000), 'a WAL frame record decodes to the stamped entry')
  t.equal(got.c![0]!.tags!['host'], 'kiosk01')
})

t.test('storage: columns render the lines their points render, byte for byte per line', async t => {
  for (let round = 0; round < 100; round++) {
    const ps = points(1 + Math.floor(rnd() * 80))
    const asPoints: WalEntry = { a: 'a', s: 1, r: 0, p: ps }
    const { points: rest, cols } = toColumns(ps)
    const asCols: WalEntry = { a: 'a', s: 1, r: 0, p: rest, c: cols }
    const want: string[] = []
    entryToLines(asPoints, want)
    const got: string[] = []
    entryToLines(asCols, got)
    if (JSON.stringify([...got].sort()) !== JSON.stringify([...want].sort())) { t.fail(`round ${round}: text lines differ`, { got, want }); return }
    const body = new LineBody(64)
    body.addPoints(asCols)
    if (!body.bytes().equals(Buffer.from(got.join('\n')))) { t.fail(`round ${round}: the body is not the text lines`); return }
    t.same(pointLines([asCols]), got)
    t.equal(pointBody([asCols], pointCount(asCols)).lines, got.length)
  }
})

t.test('rollups: rows fold into the buckets their points fold into', async t => {
  for (let round = 0; round < 50; round++) {
    const ps = points(1 + Math.floor(rnd() * 200)).filter(p => Object.values(p.f).every(v => typeof v === 'number'))
    const base = Math.min(...ps.map(p => p.t))
    // Some late points: far behind the rest once their buckets closed.
    const late = ps.slice(0, 5).map(p => ({ ...p, t: base - 3_600_000 }))
    const a = new RollupAggregator()
    const b = new RollupAggregator()
    let lateA = 0
    let lateB = 0
    a.onLate = () => lateA++
    b.onLate = p => { lateB++; t.ok(typeof p.f === 'object' && p.t === base - 3_600_000) }
    for (const p of ps) a.add(p, 0)
    for (const c of toColumns(ps).cols) b.addRows(c, 0)
    const outA = a.close(base + 7_200_000)
    const outB = b.close(base + 7_200_000)
    for (const p of late) a.add(p, 1)
    for (const c of toColumns(late).cols) b.addRows(c, 1)
    if (JSON.stringify(byName(outB)) !== JSON.stringify(byName(outA))) { t.fail(`round ${round}: closed buckets differ`, { a: byName(outA).filter(x => !byName(outB).includes(x)), b: byName(outB).filter(x => !byName(outA).includes(x)) }); return }
    t.equal(lateB, lateA, 'late rows counted and reported as late points')
    t.equal(b.stats.late, a.stats.late)
    t.same(byName(b.close(base + 400 * 86_400_000)), byName(a.close(base + 400 * 86_400_000)), 'and what stays open closes the same')
  }
})

t.test('alerting: rows drive each series as their points do', async t => {
  const rule = (r: Record<string, unknown>) => checkRule('test.yaml', 0, { severity: 'critical', ...r })
  const rules = () => [
    rule({ name: 'hot', type: 'threshold', metric: 'cpu.usr', op: '>', threshold: 50, for: '1m' }),
    rule({ name: 'avg', type: 'threshold', metric: 'cpu.sys', op: '>=', threshold: 40, window: '5m', agg: 'avg', where: { cpu: 'total' } }),
    rule({ name: 'when', type: 'threshold', metric: 'if.errors', op: '>', threshold: 5, when: { admin_up: 1 } }),
    rule({ name: 'twice', type: 'threshold', metric: 'ping.loss', op: '>=', threshold: 100, count: 2 })
  ]
  for (let round = 0; round < 50; round++) {
    const ps: Point[] = []
    for (let i = 0; i < 300; i++) {
      const t0 = 1_000_000 + i * 10_000
      const h = `h${i % 3}`
      ps.push({ m: 'cpu', t: t0, tags: { host: h, cpu: pick(['total', '0']) }, f: { usr: rnd() * 100, sys: rnd() * 80 } })
      if (rnd() < 0.5) ps.push({ m: 'if', t: t0, tags: { host: h }, f: { errors: Math.floor(rnd() * 10), admin_up: pick([0, 1]) } })
      if (rnd() < 0.5) ps.push({ m: 'ping', t: t0, tags: { host: h }, f: { loss: pick([0, 100]) } })
    }
    const a = new Evaluator({ rules: rules() })
    const b = new Evaluator({ rules: rules() })
    // In batches of 20 points, as agents send them; the clock after each batch's last point.
    const kinds = (tr: Array<{ kind: string, rule: { name: string }, series: { key: string } }>) => tr.map(x => `${x.kind} ${x.rule.name} ${x.series.key}`).sort()
    for (let i = 0; i < ps.length; i += 20) {
      const batch = ps.slice(i, i + 20)
      const now = batch[batch.length - 1]!.t
      const ta = kinds(a.observePoints(batch, now))
      const tb = kinds(b.observeCols(toColumns(batch).cols, now))
      if (JSON.stringify(ta) !== JSON.stringify(tb)) { t.fail(`round ${round}, batch ${i / 20}: transitions differ`, { ta, tb }); return }
      const tickA = kinds(a.tick(now + 5000))
      const tickB = kinds(b.tick(now + 5000))
      if (JSON.stringify(tickA) !== JSON.stringify(tickB)) { t.fail(`round ${round}: ticks differ`); return }
    }
    const state = (e: Evaluator) => JSON.stringify([...(e as unknown as { series: Map<string, { state: string, value: number, samples: unknown }> }).series.entries()].map(([k, s]) => [k, s.state, s.value, s.samples]).sort())
    t.equal(state(b), state(a), `round ${round}: every series ends in the same state`)
  }
})

t.test('a columns entry counts its rows; pointsOf makes its points once', async t => {
  const cols: Cols[] = [{ m: 'cpu', tags: { host: 'a' }, f: ['x', 'y'], v: [1, 2, 3, 4, 5, 6] }]
  const e: WalEntry = { a: 'a', s: 1, r: 0, p: [{ m: 'host_up', t: 1, f: { up: 1 } }], c: cols }
  t.equal(pointCount(e), 3)
  const all = pointsOf(e)
  t.equal(pointsOf(e), all, 'kept on the entry')
  t.same(all.map(p => [p.m, p.t, p.f]), [['host_up', 1, { up: 1 }], ['cpu', 1, { x: 2, y: 3 }], ['cpu', 4, { x: 5, y: 6 }]])
  t.notOk(JSON.stringify(e).includes('host_up","t":1,"f":{"up":1}},{"m":"cpu"'), 'and never serialized with the entry')
})
