// StorageTargets over a real WAL with two back ends, one that stores and one that keeps failing:
// the stored position waits for the failing one; past influx.lagFraction its backlog is given up
// segment by segment and every point given up is counted; with one target nothing is given up.

import t, { type Test } from 'tap'
import { join } from 'node:path'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { Wal } from '../../collector/state/wal/index.js'
import { encodeEntry, type WalEntry } from '../../collector/state/entry.js'
import { createMetrics } from '../../collector/metrics.js'
import { checkCollectorConfig } from '../../collector/config.js'
import { StorageTargets } from '../../collector/storage/targets.js'
import { NullSink } from '../../collector/storage/null-sink.js'
import type { StorageBackend } from '../../collector/storage/backend.js'
import { ConfigError } from '../../common/config.js'
import { tmpDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/procs.js'
import { committedToEnd } from '../helpers/wal.js'

/** Down answers every write with a retry (InfluxDB down), counting the lines it was offered. */
class Down implements StorageBackend {
  readonly name = 'influxdb-v1'
  offered = 0
  async write (lines: string[]) { this.offered += lines.length; return { kind: 'retry' as const, reason: 'ECONNREFUSED: down' } }
  async prepare () { return { kind: 'ok' as const } }
  async ping () { return false }
  async close () {}
}

const entry = (seq: number, n: number): WalEntry => ({
  a: 'web01', s: seq, r: seq,
  p: Array.from({ length: n }, (_, i) => ({ m: 'cpu', t: seq * 1000 + i, tags: { host: 'web01' }, f: { v: i, pad: 'x'.repeat(100) } })),
  e: [{ t: seq * 1000, source: 'app', level: 'info', message: `m${seq}` }]
})

async function setup (t: Test, names: string[], backends: StorageBackend[]) {
  const dir = await tmpDir(t)
  const config = checkCollectorConfig(join(dir, 'collector.yaml'), {
    dataDir: join(dir, 'data'),
    influx: names.map(name => ({ name, url: `http://127.0.0.1:1/${name}`, flushInterval: '10ms', lagFraction: 0.25 }))
  }, {})
  const wal = await Wal.open({ dir: join(dir, 'wal'), readers: config.influxTargets.map(c => c.reader), maxBytes: 1024 * 1024, segmentBytes: 64 * 1024 })
  const metrics = createMetrics(new Registry())
  const targets = new StorageTargets({
    wal, targets: config.influxTargets.map((c, i) => ({ config: c, backend: backends[i]! })), dataDir: config.dataDir,
    metrics, logger: pino({ level: 'silent' }), guardMs: 20, minBackoffMs: 5, maxBackoffMs: 20
  })
  t.teardown(async () => { await targets.stop(); await wal.close() })
  return { wal, metrics, targets, config }
}

t.test('a target that keeps failing holds the stored position, then its backlog is given up and counted', async t => {
  const ok = new NullSink()
  const down = new Down()
  const { wal, metrics, targets } = await setup(t, ['a', 'b'], [ok, down])
  t.same(targets.list.map(x => x.reader.name), ['storage-a', 'storage-b'], 'one WAL cursor per target, named after it')
  targets.start()
  let lines = 0
  for (let seq = 1; seq <= 12; seq++) { await wal.append(encodeEntry(entry(seq, 20))); lines += 21 }
  await waitFor(() => ok.lines === lines, 10_000, 10)
  await waitFor(() => down.offered > 0 && !targets.list[1]!.writer.healthy, 10_000, 10)
  t.same(targets.storedPosition(), targets.list[1]!.reader.committed, 'the stored position is the failing target\'s')
  t.equal((await metrics.storageSkipped.get()).values.length, 0, 'below lagFraction nothing is given up')

  // Enough data to pass a quarter of the WAL's 1 MiB: the guard gives B's oldest segments up.
  for (let seq = 13; seq <= 160; seq++) { await wal.append(encodeEntry(entry(seq, 20))); lines += 21 }
  await waitFor(() => ok.lines === lines, 10_000, 10)
  await waitFor(async () => ((await metrics.storageSkipped.get()).values[0]?.value ?? 0) > 0, 10_000, 10)
  const lagLimit = 0.25 * 1024 * 1024
  await waitFor(() => wal.bytesFrom(targets.list[1]!.reader.committed) <= lagLimit, 10_000, 10)
  const skipped = (await metrics.storageSkipped.get()).values[0]!
  t.equal(skipped.labels.target, 'b')
  t.equal(skipped.value % 21, 0, `${skipped.value} lines given up: whole records (20 points and 1 event each)`)
  t.ok(wal.totalBytes < 0.5 * 1024 * 1024, `the WAL holds ${wal.totalBytes} bytes, not the whole backlog`)
  t.equal(ok.lines, lines, 'target A got every line')
  t.same(targets.storedPosition(), targets.list[1]!.reader.committed, 'the stored position is still B\'s, which only moved past what it gave up')
  const { warnings, problems } = await targets.problems()
  t.same(problems, [], 'A stores: not a readiness problem')
  t.match(warnings, [/^storage\[b\]: ECONNREFUSED/], 'B is a warning naming it')
})

t.test('a target down from the start (prepare failing) is given up for too, and writes again once it is back', async t => {
  const ok = new NullSink()
  let up = false
  const late = new NullSink()
  const flaky = Object.assign(late, {
    prepare: async () => up ? { kind: 'ok' as const } : { kind: 'retry' as const, reason: 'ECONNREFUSED: not yet' }
  })
  const { wal, metrics, targets } = await setup(t, ['a', 'b'], [ok, flaky])
  targets.start()
  let lines = 0
  for (let seq = 1; seq <= 160; seq++) { await wal.append(encodeEntry(entry(seq, 20))); lines += 21 }
  await waitFor(async () => ((await metrics.storageSkipped.get()).values[0]?.value ?? 0) > 0, 10_000, 10)
  up = true
  await waitFor(() => committedToEnd(targets.list[1]!.reader, wal) && targets.list[1]!.writer.healthy, 10_000, 10)
  const skipped = (await metrics.storageSkipped.get()).values[0]!.value
  t.equal(late.lines + skipped, lines, `B wrote ${late.lines} lines and gave up ${skipped}: every line accounted for`)
  t.equal(ok.lines, lines, 'A wrote every line')
})

t.test('one target: nothing is ever given up, the WAL keeps it all', async t => {
  const down = new Down()
  const { wal, metrics, targets } = await setup(t, ['only'], [down])
  targets.start()
  for (let seq = 1; seq <= 160; seq++) await wal.append(encodeEntry(entry(seq, 20)))
  await waitFor(() => down.offered > 0, 10_000, 10)
  await new Promise(resolve => setTimeout(resolve, 200))
  t.equal((await metrics.storageSkipped.get()).values.length, 0)
  t.same(targets.list[0]!.reader.committed, { segment: 1, offset: 0 }, 'the cursor has not moved')
  t.equal(wal.firstSegment(), 1, 'no segment was deleted')
  t.match((await targets.problems()).problems, [/^storage: ECONNREFUSED/], 'one target down is a readiness problem, as before')
})

t.test('influx as a list: names, readers, the query target and bad lists', async t => {
  const dir = await tmpDir(t)
  const file = join(dir, 'collector.yaml')
  const one = checkCollectorConfig(file, { influx: { url: 'http://influx-a:8086' } }, {})
  t.equal(one.influxTargets.length, 1)
  t.equal(one.influx.reader, 'storage', 'one unnamed target keeps the historical cursor')
  t.equal(one.influx.name, 'influx-a-8086-kanshi', 'its name is derived from host, port and db')
  const two = checkCollectorConfig(file, { influx: [{ url: 'http://influx-a:8086' }, { version: 2, url: 'https://vm:8428', token: 't', org: 'o', bucket: 'b', query: true }] }, {})
  t.same(two.influxTargets.map(x => [x.name, x.reader]), [['influx-a-8086-kanshi', 'storage-influx-a-8086-kanshi'], ['vm-8428-b', 'storage-vm-8428-b']])
  t.equal(two.influx.name, 'vm-8428-b', 'query: true picks the target reports read')
  const bad = (influx: unknown, message: RegExp): void => {
    try {
      checkCollectorConfig(file, { influx }, {})
      t.fail(`accepted ${JSON.stringify(influx)}`)
    } catch (err) {
      t.ok(err instanceof ConfigError, 'a ConfigError')
      t.match((err as Error).message, message)
    }
  }
  bad([{ url: 'http://a:8086' }, { url: 'http://a:8086' }], /influx\.1\.name: expected a name unlike influx\.0's/)
  bad([{ url: 'http://a:8086' }, {}], /influx\.1\.url: expected an http/)
  bad([{ url: 'http://a:8086', query: true }, { url: 'http://b:8086', query: true }], /influx\.1\.query: expected query: true on one target at most/)
  bad([{ url: 'http://a:8086' }, { url: 'ftp://b' }], /influx\.1\.url: expected an http:\/\/ or https:\/\/ URL/)
  bad([{ url: 'http://a:8086' }, { version: 2, url: 'http://b:8086', org: 'o', bucket: 'b' }], /influx\.1\.token: expected a non-empty string/)
  bad({ url: 'http://a:8086', retention: { logsBy: [{ where: {}, keep: '1d' }] } }, /influx\.retention\.logsBy\.0\.where: expected role and\/or site/)
  bad({ url: 'http://a:8086', retention: { logsBy: [{ where: { role: 'kiosk' }, keep: '10m' }] } }, /influx\.retention\.logsBy\.0\.keep: expected a duration such as "1d" \(at least 1h\)/)
})
