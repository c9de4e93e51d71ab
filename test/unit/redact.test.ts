// Redaction presets and patterns (個人情報のマスキング): what is replaced, what
// is not, and config mistakes named by key. Valid マイナンバー are made here by
// an implementation of the check digit written apart from the code under test.

import t from 'tap'
import { ConfigError } from '../../common/config.js'
import { buildRedactor, presetRule, Redactor, type Preset } from '../../agent/inputs/logs/redact.js'
import { buildLogs } from '../../agent/inputs/logs/config.js'
import { checkAgentConfig } from '../../agent/config.js'
import { Batch, Gate } from '../../agent/inputs/logs/gate.js'
import { DEFAULT_LEVELS } from '../../agent/inputs/logs/logline.js'

/** The weights of the eleven digits read left to right (総務省令第八十五号 第五条: 6,5,4,3,2,7,6,5,4,3,2). */
const WEIGHTS = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
function withCheckDigit (eleven: string): string {
  const sum = WEIGHTS.reduce((acc, w, i) => acc + w * (eleven.charCodeAt(i) - 48), 0)
  const cd = sum % 11 <= 1 ? 0 : 11 - (sum % 11)
  return eleven + String(cd)
}
const wrong = (n: string): string => n.slice(0, 11) + String((Number(n[11]) + 1) % 10)

const one = (preset: Preset): Redactor => new Redactor([presetRule(preset)])
const red = (preset: Preset, text: string): { text: string, count: number } => one(preset).apply(text)

t.test('mynumber: a valid check digit is replaced, a wrong one is not', async t => {
  const bases = ['12345678901', '98765432109', '00000000011', '31415926535', '27182818284', '11111111111']
  for (const b of bases) {
    const n = withCheckDigit(b)
    t.same(red('mynumber', `個人番号:${n} 受付`), { text: '個人番号:*** 受付', count: 1 }, `${n} replaced`)
    t.same(red('mynumber', `注文番号:${wrong(n)} 受付`), { text: `注文番号:${wrong(n)} 受付`, count: 0 }, `${wrong(n)} (wrong check digit) kept`)
  }
  t.equal(withCheckDigit('12345678901'), '123456789018', 'the test’s own implementation agrees with the published example')
})

t.test('mynumber: grouped forms, full-width digits, and not inside a longer number', async t => {
  const n = withCheckDigit('98765432109')
  const g = (sep: string): string => `${n.slice(0, 4)}${sep}${n.slice(4, 8)}${sep}${n.slice(8)}`
  for (const sep of [' ', '-', '－', '　']) t.same(red('mynumber', `no=${g(sep)}.`), { text: 'no=***.', count: 1 }, `grouped with ${JSON.stringify(sep)}`)
  const fw = n.replace(/\d/g, d => String.fromCharCode(d.charCodeAt(0) - 48 + 0xFF10))
  t.same(red('mynumber', `番号${fw}`), { text: '番号***', count: 1 }, 'full-width digits')
  t.equal(red('mynumber', `${n.slice(0, 4)}-${n.slice(4, 8)} ${n.slice(8)}`).count, 0, 'mixed separators are not a 4-4-4 number')
  for (const s of [`9${n}`, `${n}7`, `id=00${n}00`, `${g('-')}-1234`, `5555-${g('-')}`]) {
    t.equal(red('mynumber', s).count, 0, `${s}: inside a longer run, kept`)
  }
  t.same(red('mynumber', `${n},${n}`), { text: '***,***', count: 2 }, 'two in a line, each counted')
})

t.test('phone-jp: Japanese numbers in their written forms, not arbitrary digits', async t => {
  const yes = ['03-1234-5678', '045-123-4567', '0123-45-6789', '090-1234-5678', '080-1234-5678', '070-1234-5678',
    '050-1234-5678', '(03)1234-5678', '03(1234)5678', '09012345678', '+81-3-1234-5678', '+81 90 1234 5678',
    '+819012345678', '+81(0)3-1234-5678', '0120-123-456', '0570-123-456']
  for (const p of yes) t.same(red('phone-jp', `TEL ${p} 様`), { text: 'TEL *** 様', count: 1 }, p)
  const no = ['2026-12-06', '0312345678', '12345678901', '03-1234-567', '03-1234-56789', '1-2345-6789', '0-1234-5678',
    '090-1234-56789', '123-4567-8901', 'v0.12.3', '2026-12-06 10:03:12', '0120-123-4567-8']
  for (const p of no) t.same(red('phone-jp', `x ${p} y`).count, 0, `${p} kept`)
})

t.test('email: addresses replaced, look-alikes kept', async t => {
  for (const e of ['taro.yamada@example.jp', 'a+tag@mail.city.example.lg.jp', 'X_Y-1@sub.example.com']) {
    t.same(red('email', `from <${e}>: ok`), { text: 'from <***>: ok', count: 1 }, e)
  }
  for (const s of ['user@localhost', '@mention', 'a@b', 'name@example.', 'foo@-bad.jp x', 'no at sign here']) t.equal(red('email', s).count, 0, `${s} kept`)
})

t.test('pattern + replace, rules in order, literal replacement', async t => {
  const r = buildRedactor('a.yaml', j => `logs.0(a).redact.${j}`, [{ pattern: '\\d{3}-\\d{4}-\\d{4}', replace: '***' }, { pattern: '氏名:(\\S+)', replace: '氏名:$1■' }])!
  t.same(r.apply('tel 090-1111-2222 氏名:山田 氏名:鈴木'), { text: 'tel *** 氏名:$1■ 氏名:$1■', count: 3 })
  t.same(r.apply('nothing here'), { text: 'nothing here', count: 0 })
  t.same(r.apply('tel 090-1111-2222'), { text: 'tel ***', count: 1 }, 'the same rule again: the global regex is reset between lines')
  t.equal(buildRedactor('a.yaml', j => String(j), undefined), undefined, 'none configured: no redactor, no cost')
  t.equal(buildRedactor('a.yaml', j => String(j), []), undefined)
})

t.test('config mistakes name the file and the key', async t => {
  const build = (redact: unknown): unknown => buildLogs('/etc/kanshi/agent.yaml', [{ type: 'file', path: '/var/log/a.log', encoding: 'utf8', startAt: 'end', rateLimit: 0, tags: {}, redact } as never])
  const err = (redact: unknown): string => { try { build(redact); return 'no error' } catch (e) { t.ok(e instanceof ConfigError); return (e as Error).message } }
  t.equal(err([{ preset: 'mynumber', replace: '***' }, { pattern: '([a-', replace: '***' }]),
    '/etc/kanshi/agent.yaml: logs.0(/var/log/a.log).redact.1.pattern: expected a valid regular expression, got "([a-" (Invalid regular expression: /([a-/g: Unterminated character class)')
  t.equal(err([{ preset: 'creditcard', replace: '***' }]), '/etc/kanshi/agent.yaml: logs.0(/var/log/a.log).redact.0.preset: expected one of mynumber, phone-jp, email, got "creditcard"')
  t.equal(err([{ replace: '***' }]), '/etc/kanshi/agent.yaml: logs.0(/var/log/a.log).redact.0: expected either pattern (a regular expression) or preset (mynumber, phone-jp, email), got neither')
  t.equal(err([{ pattern: 'x', preset: 'email', replace: '***' }]), '/etc/kanshi/agent.yaml: logs.0(/var/log/a.log).redact.0: expected either pattern (a regular expression) or preset (mynumber, phone-jp, email), got both')
  t.match(err([{ pattern: 'a*', replace: '***' }]), /redact\.0\.pattern: expected a regular expression that cannot match empty text/)
  // Through the whole agent.yaml: the schema's defaults (replace: ***) and the push section.
  const base = { collector: { url: 'ws://127.0.0.1:1/v1/agent', token: 'x' } }
  const c = checkAgentConfig('agent.yaml', { ...base, logs: [{ path: '/var/log/kiosk/*.log', redact: [{ preset: 'mynumber' }, { pattern: '\\d{3}-\\d{4}-\\d{4}', replace: '***' }] }] }, {})
  t.equal(c.logs.files[0]!.redact!.apply('番号 123456789018 電話 090-1234-5678').text, '番号 *** 電話 ***', 'DESIGN.md’s example config works, frozen')
  t.throws(() => checkAgentConfig('agent.yaml', { ...base, push: { redact: [{ preset: 'fax' }] } }, {}), { message: 'agent.yaml: push.redact.0.preset: expected one of mynumber, phone-jp, email, got "fax"' })
  t.throws(() => checkAgentConfig('agent.yaml', { ...base, logs: [{ path: '/a.log', redact: [{ preset: 'email', with: 'x' }] }] }, {}), /logs\.0\.redact\.0\.with: unknown key/)
})

t.test('the gate every source type shares redacts before filters and counts per source', async t => {
  const redact = buildRedactor('a.yaml', j => String(j), [{ preset: 'mynumber', replace: '***' }, { preset: 'email', replace: '<mail>' }])!
  const spec = { name: 'kiosk', levels: DEFAULT_LEVELS, defaultLevel: 'info' as const, minLevel: 'debug' as const, include: [], exclude: [/123456789018/], rateLimit: 0, burst: 1, tags: {}, redact }
  const g = new Gate(spec, (_s, at) => at, 0)
  const b = new Batch(100, 1 << 20)
  g.pass(b, 'file line 123456789018 from a@example.jp', '/var/log/kiosk/a.log', 1)
  g.pass(b, 'journald record 1234-5678-9018', 'journald:kiosk.service', 2, { level: 'warning', t: 2 })
  g.pass(b, 'order 123456789012', 'winevent:Application/Kiosk', 3, { level: 'error', t: 3 })
  t.same(b.events.map(e => e.message), ['file line *** from <mail>', 'journald record ***', 'order 123456789012'], 'file, journald and winevent records alike')
  t.equal(g.stats.redacted, 3)
  t.equal(g.stats.filtered, 0, 'an exclude pattern written for the number no longer sees it: filters run on masked text')
  const plain = new Gate({ ...spec, redact: undefined, exclude: [] }, (_s, at) => at, 0)
  plain.pass(b, 'no redact 123456789018', 'x', 4)
  t.equal(b.events.at(-1)!.message, 'no redact 123456789018', 'off unless configured')
  t.equal(plain.stats.redacted, 0)
})
