// Rollups across failover (docs/scaling.md): an agent streams through collector c1, which is
// SIGKILLed mid-bucket with its data dir deleted; the agent goes on through c2. The 5-minute,
// hourly and daily rollups of the buckets the failover cut must equal mean/max/min/count of the
// points the agent sent (computed here), though neither collector saw all of them.

import t from 'tap'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { connectAgent, type FakeAgent } from '../helpers/fake-agent.js'
import { withInfluxd, query } from '../helpers/influxd.js'
import { agentEntries, asViewer, viewerApi, writeConfig } from '../helpers/config.js'
import { freePort, spawnProgram, waitFor, type Program } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

const DAY = 86_400_000
const STEP = 60_000
// A UTC day two days back: points in the past, so every repair is due as soon as it is stored.
const T0 = Math.floor(Date.now() / DAY) * DAY - 2 * DAY
const CUT = T0 + 12 * 3_600_000 + 180_000 // c1 sees the points before 12:03, c2 the rest
const END = T0 + DAY + 15 * 60_000 // past the daily tier's 10-minute grace
// a deterministic value per minute, not monotonic (max and min are not the ends)
const value = (ts: number): number => ((ts / STEP) * 7919) % 1000 / 10

interface Agg { mean: number, max: number, min: number, count: number }
function expected (from: number, to: number): Agg {
  const v: number[] = []
  for (let ts = T0; ts < END; ts += STEP) if (ts >= from && ts < to) v.push(value(ts))
  return { mean: v.reduce((a, b) => a + b, 0) / v.length, max: Math.max(...v), min: Math.min(...v), count: v.length }
}

async function send (a: FakeAgent, seq: { n: number }, from: number, to: number): Promise<void> {
  for (let ts = from; ts < to;) {
    const pts = []
    for (let k = 0; k < 120 && ts < to; k++, ts += STEP) pts.push({ m: 'cpu', t: ts, tags: { cpu: 'total' }, f: { usage: value(ts) } })
    a.batch(++seq.n, pts)
    await a.waitFrame(m => m.type === 'ack' && m.seq === seq.n, `ack ${seq.n}`)
  }
}

t.test('the buckets a failover cut are repaired from raw data: 5-minute, hourly and daily rollups are exact', async t => {
  const influx = await withInfluxd(t)
  const dir = await tmpDir(t)
  const { agents, tokens } = agentEntries([{ id: 'fo', role: 'server', site: 's' }])
  const ports = [await freePort(), await freePort()]
  const dataDirs = [join(dir, 'c1'), join(dir, 'c2')]
  for (const i of [0, 1]) {
    writeConfig(join(dir, `c${i + 1}.yaml`), {
      listen: { host: '127.0.0.1', port: ports[i] }, dataDir: dataDirs[i],
      influx: { version: 1, url: influx.url, db: 'kanshi', flushInterval: '200ms' },
      ingest: { maxProtocol: 2 }, agents, api: viewerApi(),
      rollup: { repairDelay: '1s', repeatAfter: '2s' }
    })
  }
  const start = async (i: number): Promise<Program> => {
    const c = await spawnProgram(t, 'collector', ['--config', join(dir, `c${i + 1}.yaml`)])
    await c.waitForLine(l => l.includes('collector listening'), 20_000)
    return c
  }
  const seq = { n: 0 }
  const c1 = await start(0)
  const a1 = await connectAgent(t, `ws://127.0.0.1:${ports[0]!}/v1/agent`, { token: tokens['fo'], id: 'fo' })
  await a1.greet({}, 2)
  await send(a1, seq, T0, CUT)
  // Everything c1 acked is stored (the agent would delete it): not resent to c2.
  await a1.waitFrame(m => m.type === 'stored' && m.seq === seq.n, `stored through ${seq.n}`, 30_000)
  c1.kill('SIGKILL')
  await c1.waitExit()
  await rm(dataDirs[0]!, { recursive: true, force: true })

  const c2 = await start(1)
  const a2 = await connectAgent(t, `ws://127.0.0.1:${ports[1]!}/v1/agent`, { token: tokens['fo'], id: 'fo' })
  await a2.greet({}, 2)
  await send(a2, seq, CUT, END)
  await a2.waitFrame(m => m.type === 'stored' && m.seq === seq.n, `stored through ${seq.n}`, 30_000)

  const bucket = (size: number): number => Math.floor(CUT / size) * size
  const checks: Array<[string, string, number, number]> = [
    ['5-minute', 'cpu', bucket(300_000), 300_000],
    ['hourly', 'cpu_1h', bucket(3_600_000), 3_600_000],
    ['daily', 'cpu_1d', T0, DAY]
  ]
  const got = async (m: string, at: number): Promise<Agg | undefined> => {
    const r = await query(influx.url, 'kanshi', `SELECT usage_mean, usage_max, usage_min, usage_count FROM kanshi_5m."${m}" WHERE host = 'fo' AND time = ${at}ms`)
    const row = r.results[0].series?.[0]?.values?.[0]
    return row === undefined ? undefined : { mean: row[1], max: row[2], min: row[3], count: row[4] }
  }
  const close = (a: Agg | undefined, b: Agg): boolean => a !== undefined && Math.abs(a.mean - b.mean) < 1e-9 && a.max === b.max && a.min === b.min && a.count === b.count
  try {
    await waitFor(async () => {
      for (const [, m, at, size] of checks) if (!close(await got(m, at), expected(at, at + size))) return false
      return true
    }, 45_000, 500)
  } catch { /* the assertions below say which */ }
  for (const [name, m, at, size] of checks) t.same(await got(m, at), expected(at, at + size), `${name} bucket at ${new Date(at).toISOString()} equals the sent points`)
  // A bucket no failover touched is c2's own, exact from memory.
  const later = bucket(300_000) + 3 * 3_600_000
  t.same(await got('cpu', later), expected(later, later + 300_000), 'an untouched 5-minute bucket')
  const metrics = await (await fetch(`http://127.0.0.1:${ports[1]!}/metrics`, { headers: asViewer })).text()
  t.match(metrics, /kanshi_rollup_repairs_total\{result="done"\} [1-9]/, 'repairs counted')
  t.notMatch(metrics, /kanshi_rollup_repairs_total\{result="failed"\} [1-9]/, 'no repair failed')
  c2.kill('SIGTERM')
  await c2.waitExit()
})
