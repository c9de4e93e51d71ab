import t from 'tap'
import { eventsToLines, toLine } from '../../collector/storage/line-protocol.js'

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
