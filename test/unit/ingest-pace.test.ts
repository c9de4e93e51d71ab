// Pacing: a batch waits while a CPU-only WAL reader (rollups, alerting) is far
// behind and still reading, and does not wait for one that has stopped.
import t from 'tap'
import { join } from 'node:path'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { Wal } from '../../collector/state/wal/index.js'
import { SeqStore } from '../../collector/state/seqs.js'
import { createMetrics } from '../../collector/metrics.js'
import { Ingest } from '../../collector/ingest/ingest.js'
import { tmpDir } from '../helpers/tmp.js'

const id = { id: 'web01', role: 'server', site: 's', labels: {} }
const batch = (seq: number) => ({ type: 'batch' as const, seq, points: [{ m: 'cpu', t: seq, f: { v: seq } }] })

t.test('a reader far behind holds batches until it reads; a stopped one does not', async t => {
  const dir = await tmpDir(t)
  const wal = await Wal.open({ dir: join(dir, 'wal'), readers: ['storage', 'rollup'] })
  t.teardown(async () => await wal.close())
  const rollup = wal.reader('rollup')
  const registry = new Registry()
  const ingest = new Ingest({ wal, seqs: new SeqStore(dir), metrics: createMetrics(registry, false), logger: pino({ level: 'silent' }), defaultIntervalMs: 10_000, hostDownAfterIntervals: 3, knownAgents: () => [id], pace: [{ reader: rollup, bytes: 200, alive: () => performance.now() - rollup.lastReadAt < 1000 }] })

  t.equal((await ingest.accept(id, batch(1))).kind, 'ack', 'the reader has never read: it is not waited for')
  await ingest.accept(id, batch(2))
  t.ok(rollup.lagBytes() > 200, `the reader is ${rollup.lagBytes()} bytes behind`)

  await rollup.read(0) // a read, even of nothing: the reader is alive, and still behind
  let acked = false
  const third = ingest.accept(id, batch(3)).then(r => { acked = r.kind === 'ack' })
  await new Promise(resolve => setTimeout(resolve, 100))
  t.notOk(acked, 'the batch waits while the reader is behind and reading')
  while (rollup.lagBytes() > 0) await rollup.read(1 << 20)
  await third
  t.ok(acked, 'once the reader caught up the batch is stored and acked')
  const waited = (await registry.getSingleMetricAsString('kanshi_ingest_flow_wait_seconds_total')).match(/reader="rollup"} ([\d.e-]+)/)
  t.ok(waited !== null && Number(waited[1]) >= 0.1, `the wait is counted: ${waited?.[1]} s`)

  await ingest.accept(id, batch(4))
  await ingest.accept(id, batch(5))
  await new Promise(resolve => setTimeout(resolve, 1100))
  const t0 = performance.now()
  t.equal((await ingest.accept(id, batch(6))).kind, 'ack')
  t.ok(performance.now() - t0 < 500, 'a reader silent for a second is not waited for')
})

t.test('a batch refused at the WAL bound after its check is a hole: a later, smaller one is not stored past it', async t => {
  // web01's 2 passes the first bound check, then kiosk1's batch takes the room before 2 is appended;
  // 3 is small enough to fit. Storing 3 would make welcome.ackedSeq 3, and the agent would drop 2.
  const dir = await tmpDir(t)
  const wal = await Wal.open({ dir: join(dir, 'wal'), readers: ['storage'], maxBytes: 6000, segmentBytes: 4096 })
  t.teardown(async () => await wal.close())
  const kiosk = { id: 'kiosk1', role: 'kiosk', site: 's', labels: {} }
  const ingest = new Ingest({ wal, seqs: new SeqStore(dir), metrics: createMetrics(new Registry(), false), logger: pino({ level: 'silent' }), defaultIntervalMs: 10_000, hostDownAfterIntervals: 3, knownAgents: () => [id, kiosk] })
  const big = (seq: number, n: number) => ({ type: 'batch' as const, seq, points: Array.from({ length: n }, (_, i) => ({ m: 'cpu', t: i, f: { v: i } })) })
  t.equal((await ingest.accept(id, big(1, 1))).kind, 'ack')
  const room = 6000 - wal.totalBytes
  const other = ingest.accept(kiosk, big(1, Math.floor(room / 2 / 60)))
  const two = ingest.accept(id, big(2, Math.floor(room * 0.7 / 60)))
  const three = ingest.accept(id, big(3, 1))
  const [o, r2, r3] = await Promise.all([other, two, three])
  t.equal(o.kind, 'ack', 'the other agent\'s batch took the room')
  t.equal(r2.kind, 'refused', 'web01\'s 2 no longer fits when it is appended')
  t.equal(r3.kind, 'refused', 'and 3 is refused behind it, though it would fit')
  t.equal(await ingest.ackedSeq('web01'), 1, 'welcome says 1: the agent resends 2 and 3')
})
