// Nothing acked is stranded on a dead collector (issue 17): the real agent transport sends a
// numbered point per batch to c1, a collector process whose InfluxDB never answers (so every
// batch it acks is acked and not stored), while batches keep coming. c1 is killed with SIGKILL
// mid-stream and its data directory deleted; the agent moves to c2 (a collector process on a
// real influxd) and resends what c1 acked. influxd then holds every point exactly once.

import t from 'tap'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { Spool } from '../../agent/spool.js'
import { Transport } from '../../agent/transport.js'
import type { Point } from '../../protocol/messages.js'
import { agentEntries, writeConfig } from '../helpers/config.js'
import { query, withInfluxd } from '../helpers/influxd.js'
import { freePort, spawnProgram, waitFor } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

const BATCHES = 300
const T0 = Date.now() - 3_600_000

t.test('SIGKILL the collector holding an agent, delete its data dir: every acked point in InfluxDB exactly once', async t => {
  const influx = await withInfluxd(t)
  const dir = await tmpDir(t)
  const [p1, p2, dead] = [await freePort(), await freePort(), await freePort()]
  const { agents, tokens } = agentEntries([{ id: 'web01', role: 'server', site: 'honcho' }])
  const config = (i: number, port: number, influxUrl: string): string => writeConfig(join(dir, `c${i}.yaml`), {
    listen: { host: '127.0.0.1', port },
    dataDir: join(dir, `c${i}`),
    influx: { version: 1, url: influxUrl, db: 'kanshi', flushInterval: '50ms', timeout: '1s', embedded: { enabled: false } },
    agents
  })
  const c1 = await spawnProgram(t, 'collector', ['--config', config(1, p1, `http://127.0.0.1:${dead}`)])
  const c2 = await spawnProgram(t, 'collector', ['--config', config(2, p2, influx.url)])
  await Promise.all([c1, c2].map(async c => await c.waitForLine(l => l.includes('collector listening'), 20_000)))

  const spool = await Spool.open(await tmpDir(t), 1 << 24)
  const tr = new Transport({
    urls: [`ws://127.0.0.1:${p1}/v1/agent`, `ws://127.0.0.1:${p2}/v1/agent`], preferFirstAfterMs: 0, token: tokens['web01']!, spool, logger: pino({ level: 'silent' }),
    hello: { id: 'web01', hostname: 'web01', role: 'server', site: 'honcho', version: 'test', os: 'linux', labels: {}, intervalMs: 1000 },
    backoffMinMs: 50, backoffMaxMs: 300, pingIntervalMs: 1000, maxInflight: 8
  })
  tr.start()
  t.teardown(async () => { await tr.stop() })
  const point = (i: number): Point[] => [{ m: 'seqtest', t: T0 + i, tags: { lane: String(i % 3) }, f: { n: i, note: `批${i}` } }]
  let added = 0
  const add = async (n: number): Promise<void> => { for (const end = added + n; added < end;) { await spool.add(point(++added)); tr.notify() } }

  // c1 acks (protocol 2) and cannot store: the spool keeps every acked batch.
  await add(150)
  await waitFor(() => spool.ackedBatches === 150, 20_000, 20)
  t.equal(tr.protocol, 3, 'the agent speaks protocol 3 (stored acks, and columns)')
  t.equal(spool.batches, 150, 'all 150 acked by c1 and kept: none stored')

  // Batches keep coming while c1 dies and its disk is gone for good.
  const sending = (async () => { while (added < BATCHES) { await add(1); await new Promise(resolve => setTimeout(resolve, 5)) } })()
  await waitFor(() => added >= 170, 10_000, 5)
  c1.kill('SIGKILL')
  const killedAt = Date.now()
  await c1.waitExit()
  rmSync(join(dir, 'c1'), { recursive: true, force: true })
  await waitFor(() => tr.collectorIndex === 1 && tr.state === 'ready', 20_000, 10)
  const moved = Date.now() - killedAt
  await sending
  await waitFor(() => spool.batches === 0, 60_000, 50)
  t.pass(`the agent was on c2 ${moved} ms after the kill; spool empty (every batch stored) ${Date.now() - killedAt} ms after`)
  t.ok(moved < 10_000, 'failover within 10 s')

  const r = await query(influx.url, 'kanshi', 'SELECT "n" FROM "kanshi_raw"."seqtest"')
  const ns: number[] = (r.results[0].series?.[0]?.values ?? []).map((v: [string, number]) => v[1]).sort((a: number, b: number) => a - b)
  t.equal(ns.length, BATCHES, `influxd holds ${BATCHES} points`)
  t.same(ns, Array.from({ length: BATCHES }, (_, i) => i + 1), 'each numbered point once, none missing')
  const tags = await query(influx.url, 'kanshi', 'SHOW TAG VALUES FROM "kanshi_raw"."seqtest" WITH KEY = "host"')
  t.same((tags.results[0].series?.[0]?.values ?? []).map((v: string[]) => v[1]), ['web01'], 'stamped with the agent\'s host by c2')
})
