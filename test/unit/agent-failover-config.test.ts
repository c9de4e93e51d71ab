// agent.yaml collector.url / collector.urls: exactly one of them, each a ws(s):// URL listed once;
// a bad entry is named by its index.

import t, { type Test } from 'tap'
import { checkAgentConfig } from '../../agent/config.js'
import { ConfigError } from '../../common/config.js'

const FILE = '/etc/kanshi/agent.yaml'
const check = (collector: Record<string, unknown>) => checkAgentConfig(FILE, { id: 'web01', collector: { token: 't', ...collector } }, {})

function refused (t: Test, collector: Record<string, unknown>, key: string, expected: RegExp): void {
  let err: unknown
  try { check(collector) } catch (e) { err = e }
  t.ok(err instanceof ConfigError, `${JSON.stringify(collector)} is refused`)
  const msg = (err as Error).message
  t.ok(msg.startsWith(`${FILE}: ${key}:`), `names the file and ${key}: ${msg}`)
  t.match(msg, expected)
  t.notMatch(msg, /\n/, 'one line')
}

t.test('url alone becomes a list of one; urls keep their order; preferFirstAfter defaults to 10m', async t => {
  const one = check({ url: 'ws://c1:8080/v1/agent' })
  t.same(one.collector.urls, ['ws://c1:8080/v1/agent'])
  t.equal(one.collector.preferFirstAfter, 10 * 60_000)
  t.notOk('url' in one.collector, 'only urls is left')
  const two = check({ urls: ['wss://c1:8443/v1/agent', 'wss://c2:8443/v1/agent'], preferFirstAfter: '0s' })
  t.same(two.collector.urls, ['wss://c1:8443/v1/agent', 'wss://c2:8443/v1/agent'])
  t.equal(two.collector.preferFirstAfter, 0, '0: stay on the collector it failed over to')
})

t.test('url and urls together, neither, an empty list, a bad or repeated entry', async t => {
  refused(t, { url: 'ws://c1/v1/agent', urls: ['ws://c2/v1/agent'] }, 'collector.urls', /either collector.url or collector.urls, not both/)
  refused(t, {}, 'collector.url', /a ws:\/\/ or wss:\/\/ URL \(or collector.urls, a list of them\), got missing/)
  refused(t, { urls: [] }, 'collector.urls', /a list of 1 to 16 ws:\/\/ or wss:\/\/ URLs/)
  refused(t, { urls: ['ws://c1/v1/agent', 'http://c2/v1/agent'] }, 'collector.urls.1', /ws:\/\/ or wss:\/\/ URL/)
  refused(t, { urls: ['ws://c1/v1/agent', 'ws://c1/v1/agent'] }, 'collector.urls.1', /each collector once, got "ws:\/\/c1\/v1\/agent" twice/)
  refused(t, { urls: ['ws://c1:99999/v1/agent'] }, 'collector.urls.0', /ws:\/\/ or wss:\/\/ URL such as .*got "ws:\/\/c1:99999\/v1\/agent"/)
  refused(t, { urls: ['ws://kanshi:secret@c1/v1/agent'] }, 'collector.urls.0', /without user or password/)
  let msg = ''
  try { check({ urls: ['ws://kanshi:secret@c1/v1/agent'] }) } catch (e) { msg = (e as Error).message }
  t.notMatch(msg, /secret/, 'the password is not repeated in the error')
})
