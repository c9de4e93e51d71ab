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
