// The collector's HTTP surface through the real app: health, readiness (honest
// about WAL-only), Prometheus metrics checked by the real promtool, and logs
// that never show a secret.

import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { makeLogger } from '../../collector/logger.js'
import { NullSink } from '../../collector/storage/null-sink.js'
import { startCollector } from '../helpers/collector.js'
import { asViewer, viewerApi } from '../helpers/config.js'

const app = async (t: Test, withBackend: boolean) => (await startCollector(t, { listen: false, config: { api: viewerApi() }, ...(withBackend ? { backend: new NullSink() } : {}) })).c

t.test('healthz and readyz', async t => {
  const c = await app(t, true)
  t.equal((await c.app.inject('/healthz')).statusCode, 200)
  const r = await c.app.inject('/readyz')
  t.equal(r.statusCode, 200)
  t.equal(r.json().status, 'ready')
  t.equal(r.headers['x-content-type-options'], 'nosniff')
})

t.test('readyz says WAL-only loudly', async t => {
  const c = await app(t, false)
  const r = await c.app.inject({ url: '/readyz', headers: asViewer })
  t.equal(r.statusCode, 503)
  t.match(r.json().problems[0], /WAL-only/)
})

t.test('/metrics passes promtool check metrics and has the documented series', async t => {
  const c = await app(t, true)
  const r = await c.app.inject({ url: '/metrics', headers: asViewer })
  t.equal(r.statusCode, 200)
  t.match(r.headers['content-type'], /text\/plain/)
  for (const name of ['kanshi_agent_connections', 'kanshi_frames_received_total', 'kanshi_points_received_total', 'kanshi_errors_total', 'kanshi_wal_bytes', 'kanshi_wal_oldest_record_age_seconds', 'kanshi_storage_write_duration_seconds', 'kanshi_dead_letter_points_total']) {
    t.match(r.body, new RegExp(`^# TYPE ${name} `, 'm'), name)
  }
  const p = spawnSync('promtool', ['check', 'metrics'], { input: r.body, encoding: 'utf8' })
  if (p.error !== undefined) throw new Error(`promtool is missing (Debian package prometheus): ${p.error.message}`)
  t.equal(p.status, 0, `promtool: ${p.stdout}${p.stderr}`)
})

t.test('secrets are redacted from logs', async t => {
  const lines: string[] = []
  const sink = new Writable({ write (chunk, _enc, cb) { lines.push(chunk.toString()); cb() } })
  const log = makeLogger('info', sink)
  log.info({ token: 'sekrit-1', config: { influx: { token: 'sekrit-2', password: 'sekrit-3' } }, req: { headers: { authorization: 'Bearer sekrit-4' } } }, 'hello')
  log.flush()
  const text = lines.join('')
  t.match(text, /\[redacted\]/)
  t.notMatch(text, /sekrit/)
})

t.test('WAL-only keeps every record even when alerting consumes the log', async t => {
  const rulesDir = new URL('../fixtures/alert-rules/', import.meta.url).pathname
  const { c, dataDir } = await startCollector(t, { listen: false, config: { wal: { segmentBytes: '64KiB' }, alerting: { rulesDir, smtp: { port: 1 }, receivers: [], routes: [] } } })
  const { encodeEntry } = await import('../../collector/state/entry.js')
  for (let i = 0; i < 200; i++) await c.wal.append(encodeEntry({ a: 'x', s: i + 1, r: 0, p: [{ m: 'm', t: i, f: { pad: 'p'.repeat(1000) } }] }))
  await new Promise(resolve => setTimeout(resolve, 1500)) // the alerting stage reads and commits meanwhile
  t.ok(c.wal.reader('alerting').caughtUp(), 'alerting consumed everything')
  await c.shutdown()
  const { Wal } = await import('../../collector/state/wal/index.js')
  let n = 0
  const w = await Wal.open({ dir: join(dataDir, 'wal'), readers: [], onRecover: () => { n++ } })
  await w.close()
  t.ok(n >= 200, `${n} records still on disk for when a database is configured`)
})
