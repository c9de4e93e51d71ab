// Degraded mode's pure parts: which PostgreSQL errors count as "unreachable", the marks on a
// mail, the /readyz line and the local id ranges.

import t from 'tap'
import { FencedError } from '../../collector/alerting/store-api.js'
import { localIdBase, LOCAL_ID_MIN } from '../../collector/cluster/degraded-local.js'
import { localeOfMail, markDegraded, readyzWarning, type DegradedStatus } from '../../collector/cluster/degraded-status.js'
import { unreachable } from '../../collector/cluster/degraded-store.js'

t.test('unreachable: connection failures count, refusals of a statement do not', async t => {
  const err = (code: string | undefined, message = 'x'): Error => Object.assign(new Error(message), code === undefined ? {} : { code })
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P03', '08006', '08001', '53300']) t.ok(unreachable(err(code)), code)
  t.ok(unreachable(err(undefined, 'Connection terminated unexpectedly')), 'the server went away mid-query')
  t.ok(unreachable(err(undefined, 'timeout exceeded when trying to connect')), 'the pool gave up connecting')
  t.ok(unreachable(err(undefined, 'Query read timeout')), 'no answer at all')
  for (const code of ['23505', '23503', '42P01', '40001', '22P02']) t.notOk(unreachable(err(code, 'Connection terminated')), `${code}: the database answered`)
  t.notOk(unreachable(new FencedError('agent:web01')), 'a fenced write is a refusal, not an outage')
  t.notOk(unreachable(new RangeError('no incident 3')), 'a caller error')
})

t.test('markDegraded: the tag in the subject and the reason first in the body, ja and en', async t => {
  const m = { subject: '[CRITICAL] web01 CPU', text: 'body line\n', html: '<h2>web01 & <b>CPU</b></h2>' }
  const ja = markDegraded(m, 'ja', 'c1')
  t.equal(ja.subject, `[縮退運転] ${m.subject}`)
  t.ok(ja.text.startsWith('縮退運転: PostgreSQL に接続できないため、収集サーバ c1 が単独で判断して送信しました。'), ja.text)
  t.ok(ja.text.endsWith(`\n\n${m.text}`), 'the mail itself follows unchanged')
  t.ok(ja.html.endsWith(m.html) && ja.html.startsWith('<p'), 'html: a paragraph before the mail')
  const en = markDegraded(m, 'en', 'node<1>')
  t.equal(en.subject, `[DEGRADED] ${m.subject}`)
  t.match(en.text, /^DEGRADED: PostgreSQL is unreachable, so this collector \(node<1>\) alone decided/)
  t.match(en.html, /node&lt;1&gt;/, 'the node name escaped in HTML')
  t.equal(localeOfMail('…\nこのメールは kanshi (監視) が自動送信しています。'), 'ja')
  t.equal(localeOfMail('…\nThis mail was sent by kanshi.'), 'en')
  t.equal(localeOfMail('…\nThis mail was sent by kanshi.', 'ja'), 'ja', 'the receiver\'s locale wins')
})

t.test('readyzWarning: only while degraded; the time in JST and the held count', async t => {
  const s: DegradedStatus = { degraded: true, since: Date.parse('2026-12-07T00:01:10Z'), unreachableSince: null, held: 4, sentDegraded: 2, dropped: 0, lastReconcile: null }
  t.equal(readyzWarning(s), 'alerting: degraded (縮退運転) since 2026-12-07 09:01:10 JST; 4 mails held; PostgreSQL unreachable, critical alerts mailed by this collector alone')
  t.equal(readyzWarning({ ...s, degraded: false, since: null }), undefined)
  t.equal(readyzWarning(undefined), undefined)
})

t.test('localIdBase: each node its own range of 2^30 ids between 2^50 and 2^51', async t => {
  const names = Array.from({ length: 200 }, (_, i) => `c${i}`)
  const bases = names.map(localIdBase)
  for (const b of bases) t.ok(b >= LOCAL_ID_MIN && b + 2 ** 30 <= 2 ** 51 && Number.isSafeInteger(b) && (b - LOCAL_ID_MIN) % 2 ** 30 === 0)
  t.equal(new Set(bases).size, names.length, '200 node names, 200 ranges')
  t.equal(localIdBase('c1'), localIdBase('c1'), 'stable across restarts')
})
