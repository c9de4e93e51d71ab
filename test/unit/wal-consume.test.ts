import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { Wal, WalConsumer } from '../../collector/state/wal/index.js'
import { encodeEntry } from '../../collector/state/entry.js'
import { RollupStage } from '../../collector/storage/rollup-stage.js'

const timeouts = (): number => process.getActiveResourcesInfo().filter(r => r === 'Timeout').length

t.test('an idle consume loop leaves at most one waiter in the WAL and one timer, however often it wakes', async t => {
  const wal = await Wal.open({ dir: t.testdir(), readers: ['r'] })
  const c = new WalConsumer(wal, wal.reader('r'))
  let idle = 0
  let most = 0
  const got: string[] = []
  const loop = c.run({ idleMs: 1, records: recs => { for (const r of recs) got.push(r.data.toString()) }, idle: () => { idle++; most = Math.max(most, wal.waiterCount) } })
  while (idle < 300) await sleep(5)
  t.ok(most <= 1, `waiters during ${idle} idle wake-ups: at most ${most}`)
  // Woken by data instead of the deadline: the timer is cleared, not left to run out.
  const base = timeouts()
  for (let i = 0; i < 30; i++) { await wal.append(Buffer.from(`r${i}`)); await sleep(2) }
  t.ok(timeouts() <= base + 1, `timers after 30 wake-ups by data: ${timeouts()} (before: ${base})`)
  t.equal(got.length, 30, 'every record was handed on')
  const t0 = performance.now()
  c.stop()
  await loop
  t.ok(performance.now() - t0 < 100, 'stop ends the wait at once')
  t.equal(wal.waiterCount, 0, 'no waiter left after stop')
  await wal.close()
})

t.test('wait resolves on data, on the deadline, on stop and when the WAL is closed', async t => {
  const wal = await Wal.open({ dir: t.testdir(), readers: ['r'] })
  const c = new WalConsumer(wal, wal.reader('r'))
  let t0 = performance.now()
  await c.wait(30)
  t.ok(performance.now() - t0 >= 25, 'the deadline')
  t0 = performance.now()
  const w = c.wait(10_000)
  t.equal(wal.waiterCount, 1)
  await wal.append(Buffer.from('x'))
  await w
  t.ok(performance.now() - t0 < 5000, 'data')
  t.equal(wal.waiterCount, 0)
  const s = c.wait(10_000)
  c.stop()
  await s
  t.equal(wal.waiterCount, 0, 'stop')
  await c.wait(10_000) // stopped: at once
  const c2 = new WalConsumer(wal, wal.reader('r'))
  const x = c2.wait(10_000)
  await wal.close()
  await x
  await c2.wait(10_000) // closed: at once
  t.equal(wal.waiterCount, 0, 'close')
})

// The rollup stage, idle over several of its 1 s waits: before the one consume loop each wait left
// a waiter in the WAL (never removed) and each wake-up by data left a 1 s timer running.
t.test('an idle rollup stage does not accumulate WAL waiters or timers, and stops at once', async t => {
  const wal = await Wal.open({ dir: t.testdir(), readers: ['rollup'] })
  const stage = new RollupStage({ wal, reader: wal.reader('rollup'), logger: pino({ level: 'silent' }) })
  stage.start()
  await sleep(2300)
  t.ok(wal.waiterCount <= 1, `WAL waiters after 2.3 s idle: ${wal.waiterCount}`)
  const base = timeouts()
  for (let i = 0; i < 20; i++) {
    await wal.append(encodeEntry({ a: 'h', s: i + 1, r: Date.now(), p: [] }))
    await sleep(5)
  }
  t.ok(timeouts() <= base + 1, `timers after 20 wake-ups by data: ${timeouts()} (before: ${base})`)
  t.ok(wal.waiterCount <= 1, `WAL waiters after 20 wake-ups: ${wal.waiterCount}`)
  const t0 = performance.now()
  await stage.stop()
  t.ok(performance.now() - t0 < 500, `stop took ${Math.round(performance.now() - t0)} ms`)
  t.equal(wal.waiterCount, 0)
  await wal.close()
})
