// collector.yaml decoded from its schemas: units, paths beside the file, secrets from the
// environment, sections resolved against each other, the whole frozen; and every key and
// default of the schema shown in docs/configuration.md.

import t from 'tap'
import { readFileSync } from 'node:fs'
import { Kind, type TSchema } from '@sinclair/typebox'
import { CollectorConfigSchema, checkCollectorConfig } from '../../collector/config.js'

const FILE = '/etc/kanshi/collector.yaml'

t.test('durations decode to milliseconds and sizes to bytes, defaults and written values alike', async t => {
  const d = checkCollectorConfig(FILE, {}, {})
  t.same([d.listen.headersTimeout, d.listen.requestTimeout, d.influx.timeout, d.influx.flushInterval, d.ingest.defaultInterval, d.report.major.minDuration],
    [10_000, 30_000, 10_000, 1000, 10_000, 30 * 60_000])
  t.same([d.wal.maxBytes, d.wal.segmentBytes, d.ingest.maxFrameBytes], [1024 ** 3, 64 * 1024 ** 2, 4 * 1024 ** 2])
  const c = checkCollectorConfig(FILE, {
    listen: { headersTimeout: '2s', requestTimeout: 5000 },
    influx: { timeout: '1m30s', flushInterval: '250ms' },
    wal: { maxBytes: '2GiB', segmentBytes: 1048576 },
    ingest: { maxFrameBytes: '512KiB', defaultInterval: '1m' },
    report: { major: { minDuration: '1h' } }
  }, {})
  t.same([c.listen.headersTimeout, c.listen.requestTimeout, c.influx.timeout, c.influx.flushInterval, c.ingest.defaultInterval, c.report.major.minDuration],
    [2000, 5000, 90_000, 250, 60_000, 3_600_000])
  t.same([c.wal.maxBytes, c.wal.segmentBytes, c.ingest.maxFrameBytes], [2 * 1024 ** 3, 1048576, 512 * 1024])
})

t.test('a value under a minimum names the key and the bound', async t => {
  t.throws(() => checkCollectorConfig(FILE, { wal: { segmentBytes: '1KiB' } }, {}),
    { message: `${FILE}: wal.segmentBytes: expected a size such as "256MiB", "1GiB" or a number of bytes of at least 65536, got "1KiB"` })
  t.throws(() => checkCollectorConfig(FILE, { influx: { flushInterval: '5ms' } }, {}),
    { message: `${FILE}: influx.flushInterval: expected a duration such as "10s", "5m" or "1h" of at least 10ms, got "5ms"` })
  t.throws(() => checkCollectorConfig(FILE, { report: { major: { minDuration: 'long' } } }, {}), { message: /^\/etc\/kanshi\/collector.yaml: report.major.minDuration: expected a duration/ })
})

t.test('paths are resolved beside the config file; the embedded data goes beside dataDir', async t => {
  const c = checkCollectorConfig(FILE, { listen: { tls: { cert: 'tls/c.pem', key: '/srv/k.pem', ca: '../ca.pem' } } }, {})
  t.same(c.listen.tls, { cert: '/etc/kanshi/tls/c.pem', key: '/srv/k.pem', ca: '/etc/ca.pem' })
  t.equal(c.dataDir, '/etc/kanshi/var/collector')
  t.equal(c.influx.embedded.dataDir, '/etc/kanshi/var/influxdb')
  t.equal(checkCollectorConfig(FILE, { dataDir: '/var/lib/kanshi/collector' }, {}).influx.embedded.dataDir, '/var/lib/kanshi/influxdb')
  t.equal(checkCollectorConfig(FILE, { influx: { embedded: { dataDir: 'idb' } } }, {}).influx.embedded.dataDir, '/etc/kanshi/idb')
  t.equal(checkCollectorConfig('relative/c.yaml', {}, {}).dataDir, `${process.cwd()}/relative/var/collector`)
})

t.test('KANSHI_INFLUX_TOKEN and KANSHI_INFLUX_PASSWORD win over the file', async t => {
  const v2 = { influx: { version: 2, url: 'http://influx:8086', org: 'o', bucket: 'b', token: 'file-token', password: 'file-pw' } }
  t.same([checkCollectorConfig(FILE, v2, {}).influx.token, checkCollectorConfig(FILE, v2, {}).influx.password], ['file-token', 'file-pw'])
  const c = checkCollectorConfig(FILE, v2, { KANSHI_INFLUX_TOKEN: 'env-token', KANSHI_INFLUX_PASSWORD: 'env-pw' })
  t.same([c.influx.token, c.influx.password], ['env-token', 'env-pw'])
  const noToken = { influx: { ...v2.influx, token: undefined } }
  t.throws(() => checkCollectorConfig(FILE, noToken, {}), { message: /influx.token: expected a non-empty string when influx.version is 2/ })
  t.equal(checkCollectorConfig(FILE, noToken, { KANSHI_INFLUX_TOKEN: 'env-token' }).influx.token, 'env-token', 'the variable satisfies version 2')
})

t.test('token hashes decode to lower case', async t => {
  const c = checkCollectorConfig(FILE, {
    agents: [{ id: 'a', tokenSha256: 'AB'.repeat(32), tokenSha256Next: 'CD'.repeat(32) }],
    api: { tokens: [{ name: 'ops', tokenSha256: 'EF'.repeat(32), role: 'admin' }] }
  }, {})
  t.same([c.agents[0]!.tokenSha256, c.agents[0]!.tokenSha256Next, c.api.tokens[0]!.tokenSha256], ['ab'.repeat(32), 'cd'.repeat(32), 'ef'.repeat(32)])
})

t.test('the report takes the alerting timezone and the built-in business hours', async t => {
  t.equal(checkCollectorConfig(FILE, {}, {}).report.timezone, 'Asia/Tokyo')
  const alerting = { timezone: 'Europe/Paris', schedules: [{ name: 'night', days: 'all', hours: ['22:00-23:59'] }] }
  const c = checkCollectorConfig(FILE, { alerting }, {})
  t.equal(c.report.timezone, 'Europe/Paris')
  t.same(c.report.serviceHours, { name: 'business-hours', days: 'business', hours: ['08:30-17:45'] }, 'the default name falls back to its definition')
  t.equal(checkCollectorConfig(FILE, { alerting, report: { timezone: 'UTC', serviceHours: 'night' } }, {}).report.serviceHours.name, 'night')
  t.throws(() => checkCollectorConfig(FILE, { alerting, report: { serviceHours: 'kiosk-hours' } }, {}),
    { message: `${FILE}: report.serviceHours: expected the name of a schedule (night) or { days, hours }, got "kiosk-hours"` })
})

t.test('the whole config is frozen after checking', async t => {
  const c = checkCollectorConfig(FILE, {
    listen: { tls: { cert: 'c', key: 'k' } },
    agents: [{ id: 'k', tokenSha256: 'a'.repeat(64), role: 'kiosk', labels: { floor: '1' } }]
  }, {})
  for (const o of [c, c.listen.tls, c.influx.embedded, c.agents, c.agents[0]!.labels, c.report.overrides[0]!.match, c.report.serviceHours.hours, c.api.tokens]) {
    t.ok(Object.isFrozen(o))
  }
  t.throws(() => { (c.influx as { timeout: number }).timeout = 1 }, TypeError)
})

// Habit 7: every default is shown wherever the option is documented.
t.test('docs/configuration.md has a row for every key, showing its default', async t => {
  const md = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')
  const section = md.slice(md.indexOf('## 4. collector.yaml'), md.indexOf('## 5. agent.yaml'))
  const rows = new Map<string, string>()
  for (const m of section.matchAll(/^\| `([^`]+)` \|[^|]*\| ([^|]*) \|/gm)) rows.set(m[1]!, m[2]!)
  const shown = (v: unknown): string => Array.isArray(v) ? `[${v.join(', ')}]` : v === '' ? "''" : typeof v === 'object' ? JSON.stringify(v) : String(v)
  let keys = 0
  const walk = (s: TSchema, key: string): void => {
    if (s[Kind] === 'Object' && s['properties'] !== undefined) {
      for (const [k, p] of Object.entries(s['properties'] as Record<string, TSchema>)) walk(p, key === '' ? k : `${key}.${k}`)
      return
    }
    keys++
    const row = rows.get(key)
    if (row === undefined) { t.fail(`${key} has no row`); return }
    const d: unknown = s['default']
    // A list of objects (alerting.schedules) is described in words; its items have rows.
    const objects = Array.isArray(d) && d.some(x => typeof x === 'object')
    if (d !== undefined && !objects) t.ok(row.includes(`\`${shown(d)}\``), `${key}: default ${shown(d)} shown in "${row.trim()}"`)
    if (s[Kind] === 'Array' && (s['items'] as TSchema)[Kind] === 'Object') walk(s['items'] as TSchema, `${key}[]`)
  }
  walk(CollectorConfigSchema, '')
  t.ok(keys > 90, `${keys} keys checked`)
})

t.test('systems: a second name, hosts with where, an unknown schedule are errors naming the key', async t => {
  const sys = (o: Record<string, unknown>): Record<string, unknown> => ({ name: '共通基盤', hosts: ['web01'], ...o })
  t.throws(() => checkCollectorConfig(FILE, { systems: [sys({}), sys({ hosts: ['web02'] })] }, {}),
    { message: '/etc/kanshi/collector.yaml: systems.1.name: expected a unique system name, got a second "共通基盤"' })
  t.throws(() => checkCollectorConfig(FILE, { systems: [sys({ where: { role: 'server' } })] }, {}),
    { message: /^\/etc\/kanshi\/collector.yaml: systems.0: expected exactly one of hosts \(a list of host names\) or where/ })
  t.throws(() => checkCollectorConfig(FILE, { systems: [{ name: '発券' }] }, {}),
    { message: /^\/etc\/kanshi\/collector.yaml: systems.0: expected exactly one of hosts/ }, 'neither hosts nor where')
  t.throws(() => checkCollectorConfig(FILE, { systems: [sys({ schedule: 'night-shift' })] }, {}),
    { message: /^\/etc\/kanshi\/collector.yaml: systems.0.schedule: expected always or one of the schedules \(.*business-hours.*\), got "night-shift"/ })
  const ok = checkCollectorConfig(FILE, { systems: [sys({ schedule: 'always' }), { name: '発券', where: { role: 'kiosk' } }] }, {})
  t.same(ok.systems.map(s => [s.name, s.redundancy, s.schedule]), [['共通基盤', 'all', 'always'], ['発券', 'all', 'business-hours']], 'defaults: redundancy all, business hours')
})
