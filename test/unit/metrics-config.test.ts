// metrics: decoded from collector.yaml (auth, allow as addresses and CIDR blocks, a bad
// entry named by its key) and the source check built from it.

import t from 'tap'
import { checkCollectorConfig } from '../../collector/config.js'
import { sourceAllowed } from '../../collector/config/metrics.js'

const FILE = '/etc/kanshi/collector.yaml'

t.test('defaults: a viewer token, any source address', async t => {
  t.same(checkCollectorConfig(FILE, {}, {}).metrics, { auth: 'viewer', allow: [] })
  t.same(checkCollectorConfig(FILE, { metrics: { auth: 'none', allow: ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8'] } }, {}).metrics,
    { auth: 'none', allow: ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8'] })
})

t.test('a bad entry or value is a ConfigError naming the key', async t => {
  for (const bad of ['localhost', '10.0.0.0/33', '10.0.0/8', '::1/129', '1.2.3.4/8/1', '1.2.3.4/', '']) {
    t.throws(() => checkCollectorConfig(FILE, { metrics: { allow: ['127.0.0.1', bad] } }, {}),
      { name: 'ConfigError', message: `${FILE}: metrics.allow.1: expected an IP address or a CIDR block such as 127.0.0.1, 10.0.0.0/8 or ::1, got ${JSON.stringify(bad)}` }, JSON.stringify(bad))
  }
  t.throws(() => checkCollectorConfig(FILE, { metrics: { auth: 'open' } }, {}), { message: /^\/etc\/kanshi\/collector.yaml: metrics.auth: expected one of viewer, none/ })
  t.throws(() => checkCollectorConfig(FILE, { metrics: { allowed: [] } }, {}), { message: /metrics.allowed: unknown key/ })
})

t.test('sourceAllowed matches addresses and networks, IPv4-mapped IPv6 as IPv4', async t => {
  const any = sourceAllowed([])
  t.ok(any('192.0.2.1'))
  const ok = sourceAllowed(['127.0.0.1', '10.1.0.0/16', 'fd00::/8'])
  t.ok(ok('127.0.0.1'))
  t.ok(ok('::ffff:127.0.0.1'), 'dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d')
  t.notOk(ok('127.0.0.2'))
  t.ok(ok('10.1.255.3'))
  t.notOk(ok('10.2.0.1'))
  t.ok(ok('fd12::5'))
  t.notOk(ok('::1'))
  t.notOk(ok(undefined), 'no peer address (a closed socket): refused')
  t.notOk(ok('garbage'))
})
