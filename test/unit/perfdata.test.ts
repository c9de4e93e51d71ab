// Nagios plugin output and performance data (Monitoring Plugins guidelines):
// quoted labels, units, ranges, "U", multi-line perfdata, junk.

import t from 'tap'
import { fieldName, parseItem, parsePluginOutput, parseRange, perfFields, splitItems } from '../../agent/inputs/checks/perfdata.js'
import { statusOf } from '../../agent/inputs/checks/nagios.js'

t.test('items split on blanks but not inside quoted labels', async t => {
  t.same(splitItems(" 'Free Space'=10GB;1;2 time=0.5s  'it''s'=3 "), ["'Free Space'=10GB;1;2", 'time=0.5s', "'it''s'=3"])
})

t.test('one item: label, value, unit, thresholds, min and max', async t => {
  t.same(parseItem("'/var log'=12.5MB;80;90;0;100"), { label: '/var log', value: 12.5, uom: 'MB', warn: { low: 0, high: 80, inside: false }, crit: { low: 0, high: 90, inside: false }, min: 0, max: 100 })
  t.same(parseItem("'it''s'=3c"), { label: "it's", value: 3, uom: 'c' })
  t.same(parseItem('rta=U;;'), { label: 'rta', value: NaN, uom: '' })
  t.same(parseItem('x=-1.5e3'), { label: 'x', value: -1500, uom: '' })
  t.same(parseItem('load1=0.12;;;0;'), { label: 'load1', value: 0.12, uom: '', min: 0 })
  t.equal(parseItem('novalue'), undefined)
  t.equal(parseItem('=5'), undefined)
  t.equal(parseItem('a=abc'), undefined)
  t.equal(parseItem("'unterminated=5"), undefined)
})

t.test('threshold ranges', async t => {
  t.same(parseRange('10'), { low: 0, high: 10, inside: false })
  t.same(parseRange('10:'), { low: 10, inside: false })
  t.same(parseRange('~:10'), { high: 10, inside: false })
  t.same(parseRange('10:20'), { low: 10, high: 20, inside: false })
  t.same(parseRange('@10:20'), { low: 10, high: 20, inside: true })
  t.equal(parseRange(''), undefined)
  t.equal(parseRange('x:1'), undefined)
})

t.test('units scale to bytes and seconds and name the field', async t => {
  const perf = parsePluginOutput("OK|time=250ms;1;2;0 size=2KB 'disk /'=1.5GB;;;0;10 pct=42%;80;90 sent=7B c1=5c t2=30us plain=3").perf
  const { fields, dropped } = perfFields(perf)
  t.equal(dropped, 0)
  t.same(fields, {
    time_s: 0.25, time_s_warn: 0.001, time_s_crit: 0.002, time_s_min: 0,
    size_bytes: 2048,
    'disk_/_bytes': 1.5 * 1024 ** 3, 'disk_/_bytes_min': 0, 'disk_/_bytes_max': 10 * 1024 ** 3,
    pct_percent: 42, pct_percent_warn: 80, pct_percent_crit: 90,
    sent_bytes: 7, c1: 5, t2_s: 30 * 1e-6, plain: 3
  })
  t.equal(fieldName('time', 's'), 'time_s')
  t.equal(fieldName('time_s', 's'), 'time_s', 'a suffix the label already has is not doubled')
  t.equal(fieldName('status', ''), 'perf_status', 'a label may not overwrite the check fields')
  t.equal(fieldName('up', ''), 'perf_up')
})

t.test('ranges with a lower bound add _low fields', async t => {
  const { fields } = perfFields(parsePluginOutput('OK | temp=25;10:30;5:35').perf)
  t.same(fields, { temp: 25, temp_warn: 30, temp_warn_low: 10, temp_crit: 35, temp_crit_low: 5 })
})

t.test('message, long text and perfdata over several lines', async t => {
  const out = [
    'DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968',
    '/ 15272 MB (77%);',
    '/boot 68 MB (69%);',
    '/home 69357 MB (27%);',
    '/var/log 819 MB (84%); | /boot=68MB;88;93;0;98',
    '/home=69357MB;253404;253409;0;253414 ',
    "'/var/log'=818MB;970;975;0;980",
    ''
  ].join('\n')
  const p = parsePluginOutput(out)
  t.equal(p.message, 'DISK OK - free space: / 3326 MB (56%);')
  t.same(p.longText, ['/ 15272 MB (77%);', '/boot 68 MB (69%);', '/home 69357 MB (27%);', '/var/log 819 MB (84%);'])
  t.same(p.perf.map(d => [d.label, d.value]), [['/', 2643], ['/boot', 68], ['/home', 69357], ['/var/log', 818]])
  t.same(p.bad, [])
})

t.test('undetermined values, bad items and duplicates are counted, not stored', async t => {
  const p = parsePluginOutput('PING UNKNOWN | rta=U;;; pl=100%;20;60 junk x=1 x=2')
  t.same(p.bad, ['junk'])
  const { fields, dropped } = perfFields(p.perf)
  t.same(fields, { pl_percent: 100, pl_percent_warn: 20, pl_percent_crit: 60, x: 1 })
  t.equal(dropped, 2, 'rta=U and the second x')
})

t.test('a field limit drops whole items past it', async t => {
  const many = Array.from({ length: 30 }, (_, i) => `m${i}=${i};1;2`).join(' ')
  const { fields, dropped } = perfFields(parsePluginOutput(`OK | ${many}`).perf, 10)
  t.equal(Object.keys(fields).length, 9, 'three items of three fields each fit in 10')
  t.equal(dropped, 27)
})

t.test('no perfdata, CRLF, empty output', async t => {
  t.same(parsePluginOutput('CRITICAL - Socket timeout\r\n'), { message: 'CRITICAL - Socket timeout', longText: [], perf: [], bad: [] })
  t.same(parsePluginOutput(''), { message: '', longText: [], perf: [], bad: [] })
})

t.test('exit codes map to statuses; anything else is UNKNOWN', async t => {
  t.same([0, 1, 2, 3, 4, 127, -1, null].map(statusOf), [0, 1, 2, 3, 3, 3, 3, 3])
})
