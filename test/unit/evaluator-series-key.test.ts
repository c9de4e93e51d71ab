// seriesKey is stored in incidents (series_key): the allocation-free form must give exactly the
// string of the former Object.keys(tags).sort().map(k=v).join(','), for any tag set.
import t from 'tap'
import { seriesKey } from '../../collector/alerting/evaluator.js'

const former = (rule: string, tags: Record<string, string>): string => rule + '|' + Object.keys(tags).sort().map(k => `${k}=${tags[k]}`).join(',')

t.test('seriesKey equals the sorted join for random tag sets', async t => {
  const alphabet = ['host', 'role', 'site', 'n', 'mount', 'Z', 'a', 'ä', 'ホスト', '10', '2', '', 'b c', 'x=y', '\u{1F600}', 'ﬀ']
  let seed = 7
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
  let checked = 0
  for (let i = 0; i < 2000; i++) {
    const tags: Record<string, string> = {}
    const n = rnd(8)
    for (let j = 0; j < n; j++) tags[alphabet[rnd(alphabet.length)]! + (rnd(3) === 0 ? String(rnd(20)) : '')] = alphabet[rnd(alphabet.length)]!
    const rule = `rule${rnd(3)}`
    if (seriesKey(rule, tags) !== former(rule, tags)) t.fail(`differs for ${JSON.stringify(tags)}: ${seriesKey(rule, tags)} against ${former(rule, tags)}`)
    checked++
  }
  t.equal(checked, 2000)
  t.equal(seriesKey('r', {}), 'r|')
  t.equal(seriesKey('cpu', { site: 'tokyo', host: 'web1', role: 'server' }), 'cpu|host=web1,role=server,site=tokyo')
})

t.test('inherited keys are not part of the key, as with Object.keys', async t => {
  const tags = Object.create({ inherited: 'x' }) as Record<string, string>
  tags['host'] = 'a'
  t.equal(seriesKey('r', tags), former('r', tags))
  t.equal(seriesKey('r', tags), 'r|host=a')
})

t.test('the evaluator finds a series by its labels whatever the tag order, and never a removed one', async t => {
  const { Evaluator } = await import('../../collector/alerting/evaluator.js')
  const { checkRule } = await import('../../collector/alerting/rules.js')
  const rule = checkRule('test.yaml', 0, { name: 'hot', type: 'threshold', metric: 'cpu.v', op: '>', threshold: 90, for: '5m', severity: 'critical' })
  const e = new Evaluator({ rules: [rule] })
  const pt = (tags: Record<string, string>, t: number, v: number) => ({ m: 'cpu', t, tags, f: { v } })
  e.observePoints([pt({ host: 'a', role: 'server', site: 's' }, 1, 95), pt({ site: 's', role: 'server', host: 'a' }, 2, 96)], 2)
  t.equal(e.series.size, 1, 'one series for the same labels in another order')
  t.equal([...e.series.values()][0]!.lastSeen, 2, 'both points fed that series')
  e.observePoints([pt({ host: 'a', role: 'server', site: 's', n: '1' }, 3, 97), pt({ host: 'a', role: 'server' }, 4, 98)], 4)
  t.equal(e.series.size, 3, 'a superset and a subset of the labels are series of their own')
  const first = e.series.get(seriesKey('hot', { host: 'a', role: 'server', site: 's' }))!
  t.equal(first.lastSeen, 2, 'the other label sets did not land in the first series')
  t.same(first.samples.at(-1), [2, 96])
  e.setRules([], 5)
  t.equal(e.series.size, 0)
  e.setRules([rule], 6)
  e.observePoints([pt({ host: 'a', role: 'server', site: 's' }, 7, 99)], 7)
  const again = e.series.get(seriesKey('hot', { host: 'a', role: 'server', site: 's' }))!
  t.not(again, first, 'after the rule was removed a point starts a new series, not the cached old one')
  t.same(again.samples, [[7, 99]])
  t.equal(again.lastSeen, 7)
})
