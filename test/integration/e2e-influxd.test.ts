// The spine end to end with real processes: kanshi-agent → WebSocket →
// kanshi-collector → WAL → a real influxd (Debian influxdb 1.x), and the same
// through influx.version 2 into a real VictoriaMetrics (/api/v2/write).

import t, { type Test } from 'tap'
import { withInfluxd, query } from '../helpers/influxd.js'
import { withVictoria, vmExport } from '../helpers/victoria.js'
import { waitFor } from '../helpers/procs.js'
import { makeStack } from '../helpers/stack.js'

async function startPair (t: Test, influx: Record<string, unknown>): Promise<void> {
  const stack = await makeStack(t, { influx, agentId: 'e2e-host', site: '本庁舎' })
  await stack.startCollector()
  const agent = await stack.startAgent()
  await agent.waitForLine(l => l.includes('connected to collector'), 20_000)
}

t.test('agent → collector → influxd 1.x: system measurements with identity tags', async t => {
  const influxd = await withInfluxd(t)
  await startPair(t, { version: 1, url: influxd.url, db: 'kanshi' })
  const want = ['cpu', 'mem', 'disk', 'net', 'system', 'agent', 'host_up']
  await waitFor(async () => {
    const r = await query(influxd.url, 'kanshi', 'SHOW MEASUREMENTS')
    const have = new Set((r.results?.[0]?.series?.[0]?.values ?? []).map((v: unknown[]) => v[0]))
    return want.every(m => have.has(m))
  }, 30_000, 500)
  for (const m of want) {
    const r = await query(influxd.url, 'kanshi', `SELECT * FROM "${m}" WHERE host = 'e2e-host' ORDER BY time DESC LIMIT 1`)
    const s = r.results[0].series?.[0]
    t.ok(s !== undefined, `${m} has points for host e2e-host`)
    const row = Object.fromEntries(s.columns.map((c: string, i: number) => [c, s.values[0][i]]))
    t.equal(row.role, 'server', `${m}: role tag`)
    t.equal(row.site, '本庁舎', `${m}: site tag in Japanese`)
  }
  // usage needs two readings of /proc/stat, so it appears from the second interval on
  let v = -1
  await waitFor(async () => {
    const cpu = await query(influxd.url, 'kanshi', "SELECT last(usage_percent) FROM cpu WHERE host = 'e2e-host'")
    v = cpu.results[0].series?.[0]?.values?.[0]?.[1] ?? -1
    return v >= 0
  }, 15_000, 500)
  t.ok(v >= 0 && v <= 100, `cpu usage_percent ${v} within 0..100`)
  const disk = await query(influxd.url, 'kanshi', "SHOW TAG VALUES FROM disk WITH KEY = mount WHERE host = 'e2e-host'")
  t.ok((disk.results[0].series?.[0]?.values ?? []).length >= 1, 'at least one mount reported')
})

t.test('agent → collector → influx.version 2 client → VictoriaMetrics /api/v2/write', async t => {
  const vm = await withVictoria(t)
  await startPair(t, { version: 2, url: vm.url, token: 'unused-by-vm', org: 'kanshi', bucket: 'kanshi' })
  await waitFor(async () => {
    const rows = await vmExport(vm.url, '{__name__=~"cpu_usage_percent|mem_used_percent",host="e2e-host"}')
    return new Set(rows.map(r => r.metric.__name__)).size === 2
  }, 30_000, 500)
  const rows = await vmExport(vm.url, '{__name__="mem_used_percent",host="e2e-host"}')
  t.equal(rows[0]!.metric.site, '本庁舎')
  t.equal(rows[0]!.metric.role, 'server')
})
