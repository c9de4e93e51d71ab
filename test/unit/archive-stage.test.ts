// The archive stage on a real WAL in a temp dir: log events and alert points become records in WAL
// order, the cursor moves only after the write, and a record given again after a crash is skipped.

import t from 'tap'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { pino } from 'pino'
import { Counter, Gauge, Registry } from 'prom-client'
import { Wal } from '../../collector/state/wal/index.js'
import { encodeEntry, type WalEntry } from '../../collector/state/entry.js'
import { ArchiveStage } from '../../collector/archive/stage.js'
import { ArchiveWriter } from '../../collector/archive/writer.js'
import { newKeyPair } from '../../collector/archive/manifest.js'
import { verifyArchive } from '../../collector/archive/verify.js'
import { waitFor } from '../helpers/procs.js'
import { committedToEnd } from '../helpers/wal.js'

// The stage's own log is kept: a wait that times out prints it with the stage's state, so a failure
// on a loaded CI machine says what the stage was doing rather than only that it did not finish.
const logged: string[] = []
const logger = pino({ level: 'debug' }, { write: (s: string) => { logged.push(s.trim()) } })
const keys = newKeyPair()

t.test('events and alert points are archived in WAL order; a replay is skipped', async t => {
  const dir = t.testdir()
  const clock = Date.parse('2026-12-01T03:00:00Z')
  const r = [new Registry()]
  const metrics = { up: new Gauge({ name: 'u', help: 'u', registers: r }), events: new Counter({ name: 'e', help: 'e', registers: r }), skipped: new Counter({ name: 's', help: 's', registers: r }) }
  const open = async (): Promise<{ wal: Wal, stage: ArchiveStage }> => {
    const wal = await Wal.open({ dir: join(dir, 'wal'), readers: ['archive'] })
    const writer = new ArchiveWriter({ dir: join(dir, 'archive'), key: createPrivateKey(keys.privatePem), keepMs: 400 * 86_400_000, minFree: 0, timeZone: 'Asia/Tokyo', logger })
    const stage = new ArchiveStage({ wal, reader: wal.reader('archive'), writer, timeZone: 'Asia/Tokyo', holdFraction: 0.5, logger, now: () => clock, metrics })
    stage.start()
    // A failed wait must not leave the stage's loop running until tap's timeout.
    t.teardown(async () => { await stage.stop(); await wal.close() })
    return { wal, stage }
  }
  let { wal, stage } = await open()
  const batch: WalEntry = { a: 'web01', s: 1, r: clock, p: [{ m: 'cpu', t: clock, tags: { host: 'web01' }, f: { usage_percent: 1 } }], e: [
    { t: clock - 2, source: '/var/log/a.log', level: 'error', message: 'one', tags: { host: 'web01', role: 'server', site: 'x', unit: 'nginx' } },
    { t: clock - 1, source: '/var/log/a.log', level: 'info', message: 'two', tags: { host: 'web01', role: 'server', site: 'x' } }
  ] }
  const alert: WalEntry = { a: '', s: 0, r: clock, p: [{ m: 'alert', t: clock, tags: { host: 'web01', role: 'server', site: 'x', rule: 'cpu_high', severity: 'critical', state: 'firing' }, f: { summary: 'CPU 95%', value: 95, active: 1 } }] }
  await wal.append(encodeEntry(batch))
  await wal.append(encodeEntry(alert))
  const explain = async (err: Error): Promise<never> => {
    const r = wal.reader('archive')
    throw new Error(`${err.message}; stage problem: ${stage.problem ?? 'none'}; caught up ${String(r.caughtUp())}, committed ${JSON.stringify(r.committed)} durable end ${JSON.stringify(wal.durableEnd())}; events counted ${JSON.stringify((await metrics.events.get()).values)}; log:\n${logged.join('\n')}`)
  }
  // Committed to the WAL's end, not only read: the two records may be taken one read at a time.
  await waitFor(() => committedToEnd(wal.reader('archive'), wal), 30_000, 20).catch(explain)
  await waitFor(async () => (await metrics.events.get()).values[0]?.value === 2, 30_000, 20).catch(explain)
  await stage.stop()
  const end = { ...wal.reader('archive').committed }
  t.same(end, wal.durableEnd(), 'the archive cursor is past both records')
  await wal.close()

  const lines = (): any[] => gunzipSync(readFileSync(join(dir, 'archive', '2026-12-01.log.gz'))).toString().split('\n').slice(0, -1).map(l => JSON.parse(l.slice(65)))
  t.match(lines(), [
    { n: 1, k: 'log', host: 'web01', role: 'server', level: 'error', message: 'one', t: clock - 2, tags: { unit: 'nginx' } },
    { n: 2, k: 'log', message: 'two' },
    { n: 3, k: 'alert', host: 'web01', source: 'alert/cpu_high', level: 'critical', message: 'firing: CPU 95%', f: { value: 95 }, tags: { rule: 'cpu_high', state: 'firing' } }
  ])
  t.equal(lines()[1].tags, undefined, 'host, role and site are fields, not tags')

  // As if the process died after the archive's fsync and before its cursor moved.
  const cursor = join(dir, 'wal', 'cursor-archive.json')
  const c = JSON.parse(readFileSync(cursor, 'utf8'))
  writeFileSync(cursor, JSON.stringify({ ...c, offset: 0 }))
  ;({ wal, stage } = await open())
  await waitFor(() => wal.reader('archive').committed.offset === end.offset, 30_000, 20)
  await stage.stop()
  await wal.close()
  t.equal(lines().length, 3, 'nothing archived twice')
  const v = verifyArchive(join(dir, 'archive'), createPublicKey(keys.publicPem))
  t.equal(v.fault, undefined)
  t.equal(v.records, 3)
})
