// Rollups against a real influxd: a generated month of 10-second data goes
// through the real collector (WAL → storage writer, WAL → rollup stage), and
// every closed 5-minute rollup equals the aggregate InfluxDB computes from the
// raw points. Retention policies are created by the collector.

import t from 'tap'
import { startCollector } from '../helpers/collector.js'
import { connectAgent } from '../helpers/fake-agent.js'
import { withInfluxd, query } from '../helpers/influxd.js'
import { waitFor } from '../helpers/procs.js'
import { toColumns } from '../../protocol/columns.js'

t.test('a month of data across a collector restart: 5-minute and hourly rollups equal aggregates of the raw data', async t => {
  const influxd = await withInfluxd(t)
  let col = await startCollector(t, {
    config: { influx: { version: 1, url: influxd.url, db: 'kanshi', flushInterval: '50ms' } },
    agents: [{ id: 'gen01', token: 'gen-token', role: 'server', site: 's' }]
  })

  await waitFor(async () => (await query(influxd.url, 'kanshi', 'SHOW RETENTION POLICIES ON kanshi')).results[0].series[0].values.length >= 3, 10_000)
  const policies = (await query(influxd.url, 'kanshi', 'SHOW RETENTION POLICIES ON kanshi')).results[0].series[0].values as unknown[][]
  t.same(policies.filter(v => v[0] === 'kanshi_raw').map(v => [v[1], v[4]]), [['840h0m0s', true]], 'raw: 35 days, the default')
  t.same(policies.filter(v => v[0] === 'kanshi_5m').map(v => [v[1], v[4]]), [['17520h0m0s', false]], 'rollups: 730 days')

  // 30 days at 10 s, ending an hour ago, in order, as an agent would send after a long outage.
  const step = 10_000
  const end = Math.floor((Date.now() - 3_600_000) / 300_000) * 300_000
  const start = end - 30 * 86_400_000
  let seed = 42
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
  let seq = 0
  let total = 0
  let acked = 0
  // Two connections, with a collector restart between them half-way through the month:
  // the open rollup buckets are checkpointed with the WAL cursor and resumed.
  // The second half goes as protocol 3's columns: stored and rolled up as the points of the first.
  const sendRange = async (from: number, to: number, protocol = 1): Promise<void> => {
    const agent = await connectAgent(t, col.agentUrl, { token: 'gen-token', id: 'gen01' })
    t.equal((await agent.greet({}, protocol)).protocol, protocol, `welcome says protocol ${protocol}`)
    for (let ts = from; ts < to;) {
      const points = []
      for (let i = 0; i < 5000 && ts < to; i++, ts += step) {
        points.push({ m: 'gen', t: ts, tags: {}, f: { v: Math.round(rnd() * 10000) / 100 } })
      }
      total += points.length
      if (protocol >= 3) agent.batch(++seq, [], toColumns(points))
      else agent.batch(++seq, points)
      const want = seq
      await agent.waitFrame(m => m.type === 'ack' && m.seq === want, `ack ${want}`)
      acked++
    }
    await agent.close()
  }
  const middle = start + 15 * 86_400_000 + 17 * 60_000 + 30_000 // mid-bucket and mid-hour
  await sendRange(start, middle)
  col = await col.restart()
  await sendRange(middle, end, 3)
  t.equal(acked, seq, `${total} points in ${seq} batches acked`)

  // every bucket but the last closes (the series has not moved a grace period past it)
  const buckets = (end - start) / 300_000
  await waitFor(async () => {
    const r = await query(influxd.url, 'kanshi', 'SELECT count(v_mean) FROM "kanshi_5m"."gen"')
    return r.results[0].series?.[0]?.values?.[0]?.[1] === buckets - 1
  }, 60_000, 500)
  await waitFor(async () => {
    const r = await query(influxd.url, 'kanshi', 'SELECT count(v) FROM "kanshi_raw"."gen"')
    return r.results[0].series?.[0]?.values?.[0]?.[1] === total
  }, 60_000, 500)
  const lastClosed = end - 300_000
  const raw = await query(influxd.url, 'kanshi', `SELECT mean(v), max(v), min(v), count(v) FROM "kanshi_raw"."gen" WHERE time >= ${start}ms AND time < ${lastClosed}ms GROUP BY time(5m)`)
  const roll = await query(influxd.url, 'kanshi', `SELECT v_mean, v_max, v_min, v_count FROM "kanshi_5m"."gen" WHERE time >= ${start}ms AND time < ${lastClosed}ms`)
  const rawRows = raw.results[0].series[0].values as number[][]
  const rollRows = roll.results[0].series[0].values as number[][]
  t.equal(rollRows.length, rawRows.length, `${rollRows.length} buckets in both`)
  let worst = 0
  let mismatched = 0
  for (let i = 0; i < rawRows.length; i++) {
    const a = rawRows[i]!
    const b = rollRows[i]!
    if (a[0] !== b[0] || a[2] !== b[2] || a[3] !== b[3] || a[4] !== b[4]) mismatched++
    worst = Math.max(worst, Math.abs(a[1]! - b[1]!))
  }
  t.equal(mismatched, 0, 'time, max, min and count identical in every bucket')
  t.ok(worst < 1e-9, `means agree to ${worst}`)
  // the hourly tier, for year-long panels: every hour but the last, equal to raw aggregates too
  // An hour closes once the series is 5 minutes past its end; the month need not start on the hour.
  const H = 3_600_000
  const firstHour = Math.floor(start / H) * H
  const hours = Math.floor((end - step - 5 * 60_000 - H - firstHour) / H) + 1
  await waitFor(async () => {
    const r = await query(influxd.url, 'kanshi', 'SELECT count(v_mean) FROM "kanshi_5m"."gen_1h"')
    return r.results[0].series?.[0]?.values?.[0]?.[1] === hours
  }, 60_000, 500)
  const lastHour = firstHour + hours * H
  const rawH = (await query(influxd.url, 'kanshi', `SELECT mean(v), max(v), min(v), count(v) FROM "kanshi_raw"."gen" WHERE time >= ${firstHour}ms AND time < ${lastHour}ms GROUP BY time(1h) fill(none)`)).results[0].series[0].values as number[][]
  const rollH = (await query(influxd.url, 'kanshi', `SELECT v_mean, v_max, v_min, v_count FROM "kanshi_5m"."gen_1h" WHERE time >= ${firstHour}ms AND time < ${lastHour}ms`)).results[0].series[0].values as number[][]
  t.equal(rollH.length, rawH.length, `${rollH.length} hours in both`)
  t.equal(rawH.filter((a, i) => a[0] !== rollH[i]![0] || a[2] !== rollH[i]![2] || a[3] !== rollH[i]![3] || a[4] !== rollH[i]![4] || Math.abs(a[1]! - rollH[i]![1]!) > 1e-9).length, 0, 'hourly rollups equal raw aggregates')
  const host = await query(influxd.url, 'kanshi', 'SHOW TAG VALUES FROM "kanshi_5m"."gen" WITH KEY = host')
  t.same(host.results[0].series[0].values, [['host', 'gen01']], 'rollups carry the identity tags')
})
