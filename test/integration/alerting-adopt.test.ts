// Cluster handover in the alerting stage: when an agent's lease is taken (again), its series state
// is loaded from the record, and what this node computed from its memory before that load must not
// be written after it. The CI failure this reproduces: PostgreSQL away longer than a lease; a rule
// fired in memory meanwhile; on its return the lease was re-taken (a load queued behind the waiting
// writes) and the firing was written after the load had set the memory back: an open incident that
// nothing would ever resolve, so no resolved mail. Real WAL files, a real SQLite store behind a gate.

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
const FOR_MS = 5000
const logger = pino({ level: 'silent' })

async function until (f: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !f(); i++) await new Promise(resolve => setTimeout(resolve, 2))
}

t.test('a write computed before a load of the agent is not written after it: record and memory agree', async t => {
  const dir = await tmpDir(t)
  const wal = await Wal.open({ dir: `${dir}/wal`, readers: ['alerting'] })
  t.teardown(async () => { await wal.close() })
  const store = new SqliteAlertStore(dir)
  t.teardown(async () => { await store.close() })
  // The gate: while down, every transaction fails as PostgreSQL's would (the stage retries it, in order).
  let down = false
  const tx = store.tx.bind(store)
  store.tx = async (fn, opts) => {
    if (down) throw new Error('connect ECONNREFUSED (the test\'s gate)')
    return await tx(fn, opts)
  }
  const calendar = japanCalendar({ timezone: 'Asia/Tokyo' })
  const rule = checkRule('r.yaml', 0, { name: 'cpu_high', type: 'threshold', metric: 'cpu.usr', op: '>', threshold: 90, for: `${FOR_MS / 1000}s`, severity: 'critical' })
  const evaluator = new Evaluator({ rules: [rule], inSchedule: () => true })
  let now = T0
  const notifier = new Notifier({ store, send: async () => ({ kind: 'ok' }), calendar, receivers: [], routes: [], groupWaitMs: 0, groupIntervalMs: 0, repeatIntervalMs: 3_600_000, timezone: 'Asia/Tokyo', now: () => now, logger })
  const reader = wal.reader('alerting')
  const stage = new AlertingStage({ wal, reader, store, evaluator, notifier, calendar, logger, now: () => now, fenceOf: a => `agent:${a}` })
  const take = (stage as unknown as { take: (recs: WalRecord[]) => Promise<void> }).take.bind(stage)
  let seq = 0
  const point = async (usr: number): Promise<void> => {
    const e: WalEntry = { a: 'web01', s: ++seq, r: now, p: [{ m: 'cpu', t: now, tags: { host: 'web01' }, f: { usr } }] }
    await wal.append(encodeEntry(e), e)
    await take(await reader.read(1024 * 1024))
  }
  const memory = (): string | undefined => [...evaluator.series.values()].find(s => s.rule === 'cpu_high')?.state
  const open = async (): Promise<number> => (await store.firing()).length

  // The agent is here: fired and resolved once, recorded (the series row ends inactive).
  await stage.adopt('web01')
  await point(95)
  now += FOR_MS
  await stage.tick()
  t.equal(await open(), 1, 'fired: one incident open')
  now += 1000
  await point(10)
  t.equal(await open(), 0, 'resolved')

  // The store goes away; the condition returns and stays (pending, then firing, in memory only).
  down = true
  now += 1000
  const pending = point(95) // its series write waits for the store
  await until(() => memory() === 'pending')
  t.equal(memory(), 'pending', 'pending in memory while the store is away')
  // The lease lapsed meanwhile; as the store returns it is taken again: the load queues behind the waiting write.
  const adopted = stage.adopt('web01')
  now += FOR_MS
  const ticked = stage.tick() // fires in memory after the load was asked for, before it ran
  await until(() => memory() === 'firing')
  t.equal(memory(), 'firing', 'firing in memory before the load runs')
  down = false
  await Promise.all([pending, adopted, ticked])

  // The record is the truth: memory and the record agree on whether an incident is open.
  const firingInMemory = memory() === 'firing'
  t.equal(await open(), firingInMemory ? 1 : 0, `the record and the memory agree (memory ${String(memory())}, ${await open()} open)`)
  // The condition clears: nothing stays open.
  now += 1000
  await point(10)
  await stage.tick()
  t.equal(await open(), 0, 'nothing left open once the condition clears (before the fix: an incident nobody resolves)')

  // And the alert is not lost for good: the condition again for `for`, recorded once.
  now += 1000
  await point(95)
  now += FOR_MS
  await stage.tick()
  t.equal(await open(), 1, 'fires again from the loaded state and is recorded')
  await stage.stop()
})
