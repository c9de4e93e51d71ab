// The alerting stage's WAL cursor: commits are spaced out while the records read change no stored
// state (each is an fsync and a rename; once per read they held ingest up), follow at once when the
// store was written, and after a crash the replay brings no older point onto a newer stored state:
// one firing incident, never resolved and fired again. Real WAL files, a real SQLite store.

import t from 'tap'
import pino from 'pino'
import { Wal, type WalRecord } from '../../collector/state/wal/index.js'
import { encodeEntry, type WalEntry } from '../../collector/state/entry.js'
import { AlertingStage } from '../../collector/alerting/stage.js'
import { Evaluator } from '../../collector/alerting/evaluator.js'
import { checkRule } from '../../collector/alerting/rules.js'
import { SqliteAlertStore } from '../../collector/alerting/store-sqlite.js'
import { Notifier } from '../../collector/alerting/notify/notifier.js'
import { japanCalendar } from '../../common/holidays.js'
import { tmpDir } from '../helpers/tmp.js'

const T0 = Date.parse('2026-12-01T10:00:00+09:00')
const THRESHOLD = 90
const logger = pino({ level: 'silent' })

/** one stage over a WAL opened in dir and a store in dir, as the collector wires them (no timer started) */
async function open (dir: string, commitEveryMs: number, maxBytes?: number): Promise<{ wal: Wal, store: SqliteAlertStore, stage: AlertingStage, take: (recs: WalRecord[]) => Promise<void>, commits: () => number }> {
  const wal = await Wal.open({ dir: `${dir}/wal`, readers: ['alerting'], ...(maxBytes !== undefined ? { maxBytes } : {}) })
  const store = new SqliteAlertStore(dir)
  const calendar = japanCalendar({ timezone: 'Asia/Tokyo' })
  const rule = checkRule('r.yaml', 0, { name: 'cpu_high', type: 'threshold', metric: 'cpu.usr', op: '>', threshold: THRESHOLD, for: '0s', severity: 'critical' })
  const evaluator = new Evaluator({ rules: [rule], inSchedule: () => true })
  const now = (): number => T0
  const notifier = new Notifier({ store, send: async () => ({ kind: 'ok' }), calendar, receivers: [], routes: [], groupWaitMs: 0, groupIntervalMs: 0, repeatIntervalMs: 3_600_000, timezone: 'Asia/Tokyo', now, logger })
  const reader = wal.reader('alerting')
  let n = 0
  const commit = reader.commit.bind(reader)
  reader.commit = async (...a) => { n++; await commit(...a) }
  const stage = new AlertingStage({ wal, reader, store, evaluator, notifier, calendar, logger, now, commitEveryMs })
  await stage.load()
  const take = (stage as unknown as { take: (recs: WalRecord[]) => Promise<void> }).take.bind(stage)
  return { wal, store, stage, take, commits: () => n }
}

/** records of `count` batches of 50 cpu points each from web01, usr = value */
async function append (wal: Wal, seq: number, count: number, value: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const t = T0 + (seq + i) * 1000
    const e: WalEntry = { a: 'web01', s: seq + i, r: t, p: Array.from({ length: 50 }, (_, k) => ({ m: 'cpu', t: t + k, tags: { host: 'web01' }, f: { usr: value } })) }
    await wal.append(encodeEntry(e), e)
  }
}

t.test('commits are spaced while nothing is stored, at once after a store write; a crash replays no older point', async t => {
  const dir = await tmpDir(t)
  const a = await open(dir, 3_600_000)
  const reader = a.wal.reader('alerting')
  // Quiet records, read by the stage in several reads: the first read commits (nothing before it), the rest wait.
  await append(a.wal, 1, 20, 10)
  let reads = 0
  for (let recs = await reader.read(8 * 1024); recs.length > 0; recs = await reader.read(8 * 1024)) { reads++; await a.take(recs) }
  t.ok(reads >= 5, `the quiet records took ${reads} reads`)
  t.equal(a.commits(), 1, 'one cursor commit for all of them (was one per read)')
  const quietEnd = a.wal.durableEnd()
  t.ok(reader.committed.offset < quietEnd.offset, 'the cursor is behind what was read: a crash would evaluate those records again')

  // A point over the threshold opens an incident (the store is written): the cursor follows at once.
  await append(a.wal, 21, 1, 95)
  const fired = await reader.read(1024 * 1024)
  await a.take(fired)
  const firedEnd = fired[fired.length - 1]!.end
  t.same(reader.committed, firedEnd, 'committed past the record that fired, in the same read')
  t.equal((await a.store.firing()).length, 1, 'one incident open')

  // Still over the threshold: nothing new stored, the cursor waits again.
  await append(a.wal, 22, 3, 96)
  await a.take(await reader.read(1024 * 1024))
  t.same(reader.committed, firedEnd, 'no commit for records that changed nothing stored')

  // Crash: no stop(). A new stage over the same files replays from the committed cursor.
  const b = await open(dir, 3_600_000)
  const rb = b.wal.reader('alerting')
  t.same(rb.committed, firedEnd, 'the restart reads from the record after the firing one')
  t.ok(rb.committed.offset < b.wal.durableEnd().offset, 'and evaluates the later records again')
  for (let recs = await rb.read(1024 * 1024); recs.length > 0; recs = await rb.read(1024 * 1024)) await b.take(recs)
  const all = await b.store.incidents(0, Number.MAX_SAFE_INTEGER)
  t.equal(all.length, 1, 'still one incident after the replay')
  t.equal(all[0]!.resolved_at, null, 'not resolved by a replayed older point, not fired twice')

  // A clean stop commits what was read.
  await b.stage.stop()
  t.same(rb.committed, b.wal.durableEnd(), 'stop() commits the position read so far')
  await b.wal.close()
  await b.store.close()
  await a.wal.close()
  await a.store.close()
})

t.test('a running stage commits when it catches up, and every commitEveryMs under a steady stream', async t => {
  const dir = await tmpDir(t)
  const a = await open(dir, 50)
  a.stage.start()
  await append(a.wal, 1, 40, 10)
  const end = a.wal.durableEnd()
  const reader = a.wal.reader('alerting')
  for (const t0 = Date.now(); Date.now() - t0 < 10_000 && (reader.committed.segment !== end.segment || reader.committed.offset < end.offset);) await new Promise(resolve => setTimeout(resolve, 20))
  t.same(reader.committed, end, 'caught up and idle: the cursor is at the end of the WAL')
  t.ok(a.commits() >= 1, `committed ${a.commits()} time(s)`)
  await a.stage.stop()
  await a.wal.close()
  await a.store.close()
})

// A small WAL bound: the slowest cursor decides what the WAL may drop, so a cursor waiting a second
// fills it and ingest is refused (E_WAL_FULL) meanwhile. Past a quarter of the bound it follows every read.
t.test('a WAL past a quarter of its bound: the cursor follows every read', async t => {
  const dir = await tmpDir(t)
  const a = await open(dir, 3_600_000, 256 * 1024)
  const reader = a.wal.reader('alerting')
  await append(a.wal, 1, 20, 10)
  t.ok(a.wal.totalBytes * 4 > a.wal.maxTotalBytes, `the WAL holds ${a.wal.totalBytes} of ${a.wal.maxTotalBytes} bytes`)
  let reads = 0
  for (let recs = await reader.read(8 * 1024); recs.length > 0; recs = await reader.read(8 * 1024)) {
    reads++
    await a.take(recs)
    t.same(reader.committed, recs[recs.length - 1]!.end, `read ${reads}: committed at once`)
  }
  t.equal(a.commits(), reads, 'one commit per read')
  await a.wal.close()
  await a.store.close()
})
