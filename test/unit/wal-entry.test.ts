import t from 'tap'
import { batchParts, decodeEntry, decodeHead, encodeEntry, stamp } from '../../collector/state/entry.js'

const id = { id: 'kiosk01', role: 'kiosk', site: '本庁舎' }
const frame = { type: 'batch', seq: 42, points: [{ m: 'cpu', t: 1000, tags: { host: 'forged', 窓口: '市民課' }, f: { usage_percent: 12.5, note: '発券' } }], events: [{ t: 1001, source: '/var/log/kiosk.log', level: 'error', message: 'プリンタ 用紙切れ', tags: { site: 'forged' } }] }
// A "__proto__" key, as JSON.parse reads it: an own property, not the prototype.
const bytes = Buffer.from(JSON.stringify(frame).replace('"窓口"', '"__proto__":"x","窓口"'))

t.test('an agent batch stored as its frame decodes to the same stamped entry as the JSON encoding', async t => {
  const expected = stamp(id, JSON.parse(bytes.toString()), 5000)
  const rec = Buffer.concat(batchParts(id, 42, 5000, bytes))
  t.equal(rec[0], 1, 'marked as a frame record')
  t.ok(rec.includes(bytes), 'the frame is stored as received')
  const got = decodeEntry(rec)
  t.same(got, expected)
  t.same(decodeEntry(encodeEntry(expected)), expected, 'the JSON encoding decodes to the same')
  t.equal(got.p[0]!.tags!['host'], 'kiosk01', 'the token\'s identity overrides a forged host tag')
  t.equal(got.p[0]!.tags!['窓口'], '市民課')
  t.equal(Object.getPrototypeOf(got.p[0]!.tags), Object.prototype, 'a "__proto__" tag stays a plain key')
  t.equal(got.p[0]!.tags!['__proto__'], 'x')
  t.equal(got.e![0]!.tags!['site'], '本庁舎')
  t.same(got.p[1], { m: 'host_up', t: 5000, tags: { host: 'kiosk01', role: 'kiosk', site: '本庁舎' }, f: { up: 1 } })
})

t.test('the header alone gives agent and seq; a frame with newlines inside is read whole', async t => {
  const pretty = Buffer.from(JSON.stringify(frame, null, 2))
  const rec = Buffer.concat(batchParts(id, 42, 5000, pretty))
  t.same(decodeHead(rec), { a: 'kiosk01', s: 42 })
  t.same(decodeEntry(rec), stamp(id, JSON.parse(pretty.toString()), 5000))
  t.same(decodeHead(encodeEntry({ a: '', s: 0, r: 1, p: [] })), { a: '', s: 0 }, 'the collector\'s own records')
})
