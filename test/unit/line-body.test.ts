import t from 'tap'
import { LineBody } from '../../collector/storage/line-body.js'
import { entryToLines } from '../../collector/storage/line-protocol.js'
import type { WalEntry } from '../../collector/state/entry.js'
import type { Point } from '../../protocol/messages.js'

// The body must be byte for byte the former rendering: entryToLines' lines joined by "\n", UTF-8.
// Random points from a seeded generator, with the cases the escapes and number formats turn on.

let seed = 0x2545f491
function rnd (): number {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5
  return (seed >>> 0) / 0x100000000
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!

const names = ['cpu', 'mem', 'disk io', 'a,b', 'x=y', 'C:\\logs\\', '受付', 'ディスク', 'tab\there', 'nl\nx', 'q"uote', 'trail\\', '🖨️', 'host_up']
const values = ['web01', '', 'honcho', '/mnt/a b,c=d', '東京都千代田区', 'a\\,b', 'x\u0001y', 'セ\\', 'end ', '=', ',', ' ']
const strings = ['', 'boom', 'say "hi" \\o/', 'line1\nline2\r\n', 'プリンタ用紙切れ 🖨️', '\\', '"', 'a,b=c d']

function number (): number {
  switch (Math.floor(rnd() * 10)) {
    case 0: return Math.floor(rnd() * 1000) // integers
    case 1: return -rnd() * 1e6
    case 2: return rnd() * 1e-9 // exponent form
    case 3: return rnd() * 1e25 // exponent form
    case 4: return pick([NaN, Infinity, -Infinity]) // left out
    case 5: return pick([0, -0, 1, 0.1, 1e21, 5e-324, Number.MAX_VALUE])
    default: return Math.round(rnd() * 1e6) / 100 // like a percentage
  }
}

function point (): Point {
  const tags: Record<string, string> = {}
  for (let n = Math.floor(rnd() * 5); n > 0; n--) tags[pick(names)] = pick(values)
  const f: Record<string, number | boolean | string> = {}
  for (let n = 1 + Math.floor(rnd() * 6); n > 0; n--) {
    const k = pick(names)
    const kind = rnd()
    f[k] = kind < 0.6 ? number() : kind < 0.8 ? rnd() < 0.5 : pick(strings)
  }
  const time = pick([() => 1_763_800_000_000 + Math.floor(rnd() * 1e6), () => rnd() * 1e12, () => 0, () => -1234.5, () => Number.MAX_SAFE_INTEGER + 2, () => 1e22, () => 1.9])()
  return rnd() < 0.2 ? { m: pick(names), t: time, f } : { m: pick(names), t: time, tags, f }
}

t.test('random points: the body is the former lines joined, byte for byte', async t => {
  let lines = 0
  for (let round = 0; round < 200; round++) {
    const entries: WalEntry[] = []
    for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) {
      entries.push({ a: 'a', s: round, r: 0, p: Array.from({ length: Math.floor(rnd() * 40) }, point) })
    }
    const want: string[] = []
    const body = new LineBody(64) // small, so that it grows inside lines
    for (const e of entries) {
      entryToLines(e, want)
      body.addPoints(e)
    }
    if (!body.bytes().equals(Buffer.from(want.join('\n')))) {
      t.fail(`round ${round}: bodies differ`, { want: want.join('\n'), got: body.bytes().toString() })
      return
    }
    t.equal(body.lines, want.length)
    lines += want.length
  }
  t.ok(lines > 5000, `${lines} lines compared`)
})

t.test('lines without a writable field leave no line and no separator', async t => {
  const body = new LineBody(16)
  body.addPoints({ a: '', s: 0, r: 0, p: [{ m: 'm', t: 1, f: { a: NaN } }, { m: 'm', t: 2, f: { v: 1 } }, { m: 'm', t: 3, f: { b: Infinity } }] })
  t.equal(body.bytes().toString(), 'm v=1 2')
  t.equal(body.lines, 1)
  body.addLines(['log_event,level=error message="日本語" 5'])
  t.equal(body.bytes().toString(), 'm v=1 2\nlog_event,level=error message="日本語" 5')
  t.equal(body.lines, 2)
})

t.test('an empty body is empty', async t => {
  const body = new LineBody()
  body.addPoints({ a: '', s: 0, r: 0, p: [] })
  t.equal(body.length, 0)
  t.equal(body.lines, 0)
})

t.test('numbers are written as String() writes them', async t => {
  // Kinds the digit paths take (integers, at most two decimals, both signs, near 2^33 and 2^53) and
  // the ones they must leave to String() (more decimals, tiny, huge, exponents).
  const kinds: Array<() => number> = [
    () => Math.round((rnd() - 0.5) * 2e4) / 100,
    () => Math.round(rnd() * 1e4) / 100,
    () => Math.round(rnd() * 100) / 10,
    () => Math.floor(rnd() * 1e6),
    () => -Math.floor(rnd() * 1e12),
    () => 8_589_934_592 + Math.round((rnd() - 0.5) * 2000) / 100,
    () => Number.MAX_SAFE_INTEGER - Math.floor(rnd() * 1000),
    () => Math.floor(rnd() * 2 ** 60),
    () => rnd() * 1000,
    () => Math.round(rnd() * 1e6) / 1000,
    () => rnd() * 1e-7,
    () => (rnd() - 0.5) * 1e30,
    () => pick([0, -0, 0.01, -0.01, 0.1, 0.29, 1.005, 99.99, 100, 1e21, 1e-7, 123456789.12, 2 ** 33, -(2 ** 33), 5e-324])
  ]
  let bad = 0
  for (let i = 0; i < 200_000; i++) {
    const v = kinds[i % kinds.length]!()
    const body = new LineBody(8)
    body.addPoints({ a: '', s: 0, r: 0, p: [{ m: 'm', t: 1, f: { v } }] })
    const want = `m v=${String(v)} 1`
    if (body.bytes().toString() !== want && bad++ < 5) t.fail(`${want} written as ${body.bytes().toString()}`)
  }
  t.equal(bad, 0, 'every value written as String() does')
})
