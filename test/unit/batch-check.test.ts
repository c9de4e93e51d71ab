import t from 'tap'
import { Ajv } from 'ajv'
import { isBatch } from '../../protocol/batch-check.js'
import { BatchSchema, Limits, validateBatch } from '../../protocol/messages.js'
import { entryToLines } from '../../collector/storage/line-protocol.js'

// The hand-written batch check must say yes exactly where Ajv, compiled from the
// schema, says yes. Ajv here is a fresh instance with the collector's options:
// the reference, not the code under test.
const ajv = new Ajv({ allErrors: false, strict: true, coerceTypes: false }).compile(BatchSchema)

// A small seeded generator (mulberry32): the same cases on every run.
let seed = 0x6b616e73
function rnd (): number {
  seed = (seed + 0x6d2b79f5) | 0
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!

const pair = '\u{1F5FB}' // one code point, two UTF-16 units
const strings = (max: number): string[] => [
  '', 'a', '監視', 'a\nb', '\r', '\u2028', ' ', 'x'.repeat(max), 'x'.repeat(max + 1),
  pair.repeat(max), pair.repeat(max + 1), pair.repeat(max - 1) + 'xx', '\ud800'.repeat(max + 1), 'x'.repeat(2 * max + 1)
]
const oddValues: unknown[] = [null, [], {}, { a: 1 }, true, false, 0, -0, 1.5, -1, NaN, Infinity, -Infinity, 8_640_000_000_000_000, 8_640_000_000_000_001,
  Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, '1', undefined]
const names = strings(Limits.maxNameLength)
const odd = (): unknown => rnd() < 0.5 ? pick(oddValues) : pick([...names, ...strings(Limits.maxTagValueLength)])

function map (n: number, value: () => unknown): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  for (let i = 0; i < n; i++) o[rnd() < 0.2 ? pick(names) : `k${i}`] = value()
  return o
}

function point (): Record<string, unknown> {
  const p: Record<string, unknown> = { m: rnd() < 0.8 ? 'cpu' : pick(names), t: rnd() < 0.9 ? 1_700_000_000_000 + Math.floor(rnd() * 1e6) : odd() }
  if (rnd() < 0.8) p['tags'] = map(Math.floor(rnd() * 4), () => rnd() < 0.9 ? 'v' : odd())
  p['f'] = map(Math.floor(rnd() * 3) + (rnd() < 0.95 ? 1 : 0), () => rnd() < 0.5 ? rnd() * 100 : rnd() < 0.5 ? pick([true, 'ok', 3]) : odd())
  return p
}

function event (): Record<string, unknown> {
  const e: Record<string, unknown> = { t: 1_700_000_000_000, source: '/var/log/app.log', level: 'error', message: 'エラー' }
  if (rnd() < 0.3) e[pick(['t', 'source', 'level', 'message'])] = rnd() < 0.3 ? undefined : odd()
  if (rnd() < 0.3) e['tags'] = map(2, () => rnd() < 0.8 ? 'v' : odd())
  return e
}

function mutate (o: Record<string, unknown>): void {
  const key = pick([...Object.keys(o), 'extra'])
  if (rnd() < 0.2) delete o[key]
  else o[key] = odd()
}

function batch (): Record<string, unknown> {
  const b: Record<string, unknown> = { type: 'batch', seq: 1 + Math.floor(rnd() * 1000), points: Array.from({ length: Math.floor(rnd() * 4) }, point) }
  if (rnd() < 0.3) b['events'] = Array.from({ length: Math.floor(rnd() * 3) }, event)
  const r = rnd()
  if (r < 0.1) mutate(b)
  else if (r < 0.3) { const ps = b['points'] as Array<Record<string, unknown>>; if (ps.length > 0) mutate(pick(ps)) }
  return b
}

t.test('yes exactly where Ajv says yes, on 30,000 generated batches', async t => {
  const wrong: unknown[] = []
  let yes = 0
  for (let i = 0; i < 30_000; i++) {
    const b = batch()
    const want = ajv(b)
    if (want) yes++
    if (isBatch(b) !== want && wrong.length < 5) wrong.push(b)
  }
  t.same(wrong, [], 'no batch judged otherwise than by Ajv')
  t.ok(yes > 3_000 && yes < 27_000, `both answers are well represented (${yes} valid)`)
})

t.test('limits at their edges', async t => {
  const ok: { type: string, seq: number, points: Array<{ m: string, t: number, tags: Record<string, string>, f: Record<string, number> }> } = { type: 'batch', seq: 1, points: [{ m: 'cpu', t: 0, tags: { host: 'a' }, f: { v: 1 } }] }
  const variants: Array<[string, (b: typeof ok) => void]> = [
    ['32 tags', b => { b.points[0]!.tags = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`t${i}`, 'v'])) }],
    ['33 tags', b => { b.points[0]!.tags = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`t${i}`, 'v'])) }],
    ['256 fields', b => { b.points[0]!.f = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`f${i}`, i])) }],
    ['257 fields', b => { b.points[0]!.f = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`f${i}`, i])) }],
    ['no fields', b => { b.points[0]!.f = {} }],
    ['20,000 points', b => { b.points = Array.from({ length: 20_000 }, () => b.points[0]!) }],
    ['20,001 points', b => { b.points = Array.from({ length: 20_001 }, () => b.points[0]!) }],
    ['seq at MAX_SAFE_INTEGER', b => { b.seq = Number.MAX_SAFE_INTEGER }],
    ['seq 0', b => { b.seq = 0 }],
    ['128 code points in 256 units', b => { b.points[0]!.m = pair.repeat(128) }],
    ['129 code points', b => { b.points[0]!.m = pair.repeat(128) + 'x' }]
  ]
  for (const [name, change] of variants) {
    const b = structuredClone(ok)
    change(b)
    t.equal(isBatch(b), ajv(b), `${name}: ${String(ajv(b))}`)
  }
})

t.test('a "__proto__" key from JSON is an own key like any other', async t => {
  for (const text of ['{"type":"batch","seq":1,"points":[{"m":"x","t":1,"tags":{"__proto__":"v"},"f":{"v":1}}]}',
    '{"type":"batch","seq":1,"points":[{"m":"x","t":1,"tags":{"__proto__":{}},"f":{"v":1}}]}',
    '{"type":"batch","seq":1,"points":[{"m":"x","t":1,"f":{"__proto__":1}}]}']) {
    const b = JSON.parse(text) as unknown
    t.equal(isBatch(b), ajv(b), text)
  }
})

t.test('a key with a line break has its value checked (it was not, and broke line rendering)', async t => {
  const b = { type: 'batch', seq: 1, points: [{ m: 'x', t: 1, f: { 'a\nb': { o: 1 } } }] }
  t.equal(validateBatch(b), false)
  t.equal(validateBatch.describe(), 'points.0.f.a\nb: must be number')
  const fine = { type: 'batch', seq: 1, points: [{ m: 'x', t: 1, tags: { 'a\nb': 'v' }, f: { 'c\nd': 2 } }] }
  t.equal(validateBatch(fine), true, 'a line break in a key is allowed; escaping takes care of it')
  const lines: string[] = []
  entryToLines({ a: '', s: 0, r: 0, p: [fine.points[0]!] }, lines)
  t.same(lines, ['x,a\\ b=v c\\ d=2 1'])
})
