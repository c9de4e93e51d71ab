import t from 'tap'
import { escapeKey, escapeMeasurement, escapeString, eventsToLines, seriesHash, seriesLine, seriesLineCached, toLine } from '../../collector/storage/line-protocol.js'

// Expected lines are written by hand from the line-protocol rules, not produced by the code.
const cases: Array<[string, Parameters<typeof toLine>, string | undefined]> = [
  ['plain', ['cpu', { host: 'web01' }, { usage_percent: 12.5 }, 1763800000000], 'cpu,host=web01 usage_percent=12.5 1763800000000'],
  ['tags sorted', ['cpu', { site: 'honcho', host: 'a', role: 'server' }, { v: 1 }, 1], 'cpu,host=a,role=server,site=honcho v=1 1'],
  ['integers stay floats', ['m', {}, { up: 1, big: 1e21 }, 5], 'm up=1,big=1e+21 5'],
  ['booleans', ['m', {}, { ok: true, bad: false }, 5], 'm ok=true,bad=false 5'],
  ['space comma equals in tag value', ['disk', { mount: '/mnt/a b,c=d' }, { v: 1 }, 1], 'disk,mount=/mnt/a\\ b\\,c\\=d v=1 1'],
  ['space comma in measurement', ['my m,x', {}, { v: 1 }, 1], 'my\\ m\\,x v=1 1'],
  ['equals in field key', ['m', {}, { 'a=b c': 1 }, 1], 'm a\\=b\\ c=1 1'],
  // InfluxDB 1.x unescapes only "\\," "\\ " "\\=" in names: a backslash is written as itself, and one at the end as U+FF3C.
  ['backslash in tag value', ['m', { p: 'C:\\logs\\' }, { v: 1 }, 1], 'm,p=C:\\logs\uff3c v=1 1'],
  ['backslash before a comma', ['m', { p: 'a\\,b' }, { v: 1 }, 1], 'm,p=a\uff3c\\,b v=1 1'],
  ['control characters in names become spaces', ['m\u0000x', { 'k\t': 'a\u0001b' }, { v: 1 }, 1], 'm\\ x,k\\ =a\\ b v=1 1'],
  ['newline in tag value becomes space', ['m', { p: 'a\nb' }, { v: 1 }, 1], 'm,p=a\\ b v=1 1'],
  ['quotes and backslash in string field', ['m', {}, { message: 'say "hi" \\o/' }, 1], 'm message="say \\"hi\\" \\\\o/" 1'],
  ['newline in string field stays raw inside the quotes', ['m', {}, { message: 'line1\nline2\r\n' }, 1], 'm message="line1\nline2\r\n" 1'],
  ['japanese and emoji', ['log_event', { source: '/var/log/受付.log' }, { message: 'プリンタ用紙切れ 🖨️' }, 1], 'log_event,source=/var/log/受付.log message="プリンタ用紙切れ 🖨️" 1'],
  ['empty tag value dropped', ['m', { a: '', b: 'x' }, { v: 1 }, 1], 'm,b=x v=1 1'],
  ['non-finite fields dropped', ['m', {}, { a: NaN, b: Infinity, c: 2 }, 1], 'm c=2 1'],
  ['no writable field gives no line', ['m', {}, { a: NaN }, 1], undefined],
  ['fractional ms truncated', ['m', {}, { v: 1 }, 1.9], 'm v=1 1']
]

for (const [name, args, want] of cases) {
  t.equal(toLine(...args), want, name)
}

t.test('log events in the same ms: same message folds into count, another moves on a ms', async t => {
  const out: string[] = []
  eventsToLines([
    { t: 100, source: 's', level: 'error', message: 'boom' },
    { t: 100, source: 's', level: 'error', message: 'boom' },
    { t: 100, source: 's', level: 'error', message: 'other' },
    { t: 100, source: 's', level: 'info', message: 'boom' }
  ], out)
  t.same(out, [
    'log_event,level=error,source=s message="boom",count=2 100',
    'log_event,level=error,source=s message="other",count=1 101',
    'log_event,level=info,source=s message="boom",count=1 100'
  ])
})

t.test('the fast path (no special character: the string as it is) escapes exactly as the full rules do', async t => {
  // The full rules, written out here: control characters to spaces, a backslash before an escaped
  // character or at the end to U+FF3C, then the separators escaped.
  // eslint-disable-next-line no-control-regex -- control characters are the point
  const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/\\(?=[,= ]|$)/g, '\uff3c')
  const key = (s: string) => clean(s).replace(/[,= ]/g, c => '\\' + c)
  const meas = (s: string) => clean(s).replace(/[, ]/g, c => '\\' + c)
  const str = (s: string) => '"' + s.replace(/[\\"]/g, c => '\\' + c) + '"'
  const alphabet = ['a', 'Z', '0', '-', '_', '.', '市', '民', '🙂', ' ', ',', '=', '\\', '"', '\n', '\t', '\u0000', '\u007f', 'é']
  let seed = 7
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
  let bad = 0
  for (let i = 0; i < 20_000; i++) {
    let s = ''
    for (let n = rnd(8); n > 0; n--) s += alphabet[rnd(alphabet.length)]
    if (escapeKey(s) !== key(s) || escapeMeasurement(s) !== meas(s) || escapeString(s) !== str(s)) bad++
  }
  t.equal(bad, 0, '20,000 random strings over plain, Japanese and special characters')
})

t.test('series lines from the cache equal those built, on a miss, on a hit and when two series share a hash', async t => {
  let seed = 11
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
  const words = ['host', 'role', 'site', 'n', 'a b', 'x,y', 'k=v', '市役所', '', 'cpu', 'cpu0', 'back\\slash']
  const series: Array<{ m: string, tags: Record<string, string> }> = []
  for (let i = 0; i < 5000; i++) {
    const tags: Record<string, string> = {}
    for (let n = rnd(5); n > 0; n--) tags[words[rnd(words.length)]!] = words[rnd(words.length)]! + String(rnd(3))
    series.push({ m: ['cpu', 'mem', 'disk io', 'log,event'][rnd(4)]!, tags })
  }
  let bad = 0
  for (let round = 0; round < 2; round++) {
    for (const s of series) if (seriesLineCached(s.m, s.tags) !== seriesLine(s.m, s.tags)) bad++
  }
  t.equal(bad, 0, '5,000 random series, each looked up twice')
  // Same tags in another order: another cache entry, the same (sorted) line.
  t.equal(seriesLineCached('m', { b: '2', a: '1' }), 'm,a=1,b=2')
  t.equal(seriesLineCached('m', { a: '1', b: '2' }), 'm,a=1,b=2')
  // A value, a key or one tag more or less is another series.
  t.equal(seriesLineCached('m', { a: '1' }), 'm,a=1')
  t.equal(seriesLineCached('m', { a: '3' }), 'm,a=3')
  t.equal(seriesLineCached('m', { c: '1' }), 'm,c=1')
  t.not(seriesHash('m', { a: '1' }), seriesHash('m', { c: '1' }), 'series differing only in a key of the same length have their own hash (else one is built on every point)')
  t.equal(seriesLineCached('m', { a: '1', c: '2' }), 'm,a=1,c=2')
  t.equal(seriesLineCached('n', { a: '1' }), 'n,a=1')
  t.equal(seriesLineCached('m', undefined), 'm')

  // Two series with one hash (found by search: 32 bits collide within a few hundred thousand).
  const seen = new Map<number, string>()
  let pair: [string, string] | undefined
  for (let i = 0; pair === undefined && i < 2_000_000; i++) {
    const v = `v${i}`
    const h = seriesHash('m', { host: v })
    const other = seen.get(h)
    if (other !== undefined) pair = [other, v]
    else seen.set(h, v)
  }
  t.ok(pair, 'a colliding pair was found')
  const [x, y] = pair!
  t.not(x, y)
  for (let i = 0; i < 3; i++) {
    t.equal(seriesLineCached('m', { host: x }), `m,host=${x}`)
    t.equal(seriesLineCached('m', { host: y }), `m,host=${y}`)
  }
})
