// Every query of the Grafana dashboards — panels, variables, annotations — run
// with Grafana's macros substituted against a real influxd that holds data from
// a real agent and collector plus generated history. Their structure and their
// generator are checked in test/unit/dashboards.test.ts.

import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { withInfluxd, query } from '../helpers/influxd.js'
import { makeStack } from '../helpers/stack.js'
import { waitFor } from '../helpers/procs.js'

const dir = new URL('../../dashboards/', import.meta.url).pathname
const files = readdirSync(dir).filter(f => f.endsWith('.json')).sort()
type Json = Record<string, any>
const parsed: Record<string, Json> = Object.fromEntries(files.map(f => [f, JSON.parse(readFileSync(join(dir, f), 'utf8'))]))

/** grafana substitutes macros and variables the way Grafana's InfluxQL datasource does. */
function grafana (q: string, vars: Record<string, string>): string {
  return q.replace(/\$timeFilter/g, 'time > now() - 35d').replace(/\$__interval/g, '10m')
    .replace(/\$(\w+)/g, (m, name: string) => vars[name] ?? m)
}

t.test('every query runs on real data and returns series', async t => {
  const influxd = await withInfluxd(t)
  const stack = await makeStack(t, { influx: { version: 1, url: influxd.url, db: 'kanshi' }, agentId: 'dash-01', role: 'kiosk', site: '本庁舎', inputs: ['cpu', 'mem', 'disk', 'diskio', 'net', 'system'] })
  await stack.startCollector()
  await stack.startAgent()
  await waitFor(async () => {
    const r = await query(influxd.url, 'kanshi', `SELECT count(usage_percent) FROM cpu WHERE host = 'dash-01'`)
    // diskio is a rate: its first point needs a second sample
    const d = await query(influxd.url, 'kanshi', `SELECT count(read_bytes_per_sec) FROM diskio WHERE host = 'dash-01'`)
    return (r.results[0].series?.[0]?.values?.[0]?.[1] ?? 0) >= 2 && (d.results[0].series?.[0]?.values?.[0]?.[1] ?? 0) >= 1
  }, 30_000, 500)
  // Generated history for what a short agent run cannot produce: services, printers, logs, alerts, kiosk apps, 30 days of rollups.
  const now = Date.now()
  const lines: string[] = []
  // Log events live in their own retention policy (influx.retention.logsPolicy), which the log panels read.
  const logEvents: string[] = []
  const tags = 'host=dash-01,role=kiosk,site=本庁舎'
  for (let i = 0; i < 60; i++) {
    const ts = now - i * 60_000
    lines.push(`service,${tags},service=printer,check=printer up=${i % 10 === 0 ? 0 : 1},message="${i % 10 === 0 ? '用紙切れ' : 'ready'}" ${ts}`)
    lines.push(`service,${tags},service=portal,check=http up=1,response_ms=${20 + i} ${ts}`)
    lines.push(`kiosk_app,${tags},counter=1番窓口 tickets_issued=${i},queue_length=${i % 7} ${ts}`)
    logEvents.push(`log_event,${tags},source=/var/log/kiosk.log,level=error message="プリンタ エラー ${i}",count=1 ${ts}`)
    lines.push(`log_input,${tags},source=kiosk-logs lines=${100 + i},dropped_rate_limit=0,truncated=0,lost_files=0,lag_bytes=0,errors=0 ${ts}`)
  }
  // A device polled by dash-01 (ping, SNMP interfaces, a UPS): the devices and network panels.
  const dev = 'host=sw-3f,device=sw-3f,role=device,site=本庁舎,poller=dash-01'
  for (let i = 0; i < 60; i++) {
    const ts = now - i * 60_000
    lines.push(`service,${dev},service=sw-3f,check=ping up=1,rtt_ms=${1 + i / 100},loss_percent=0 ${ts}`)
    lines.push(`snmp_if,${dev},ifname=ge-0/0/1 rx_bytes_per_sec=${1000 + i},tx_bytes_per_sec=500,rx_errors=0,tx_errors=0,rx_errors_per_sec=0,tx_errors_per_sec=0,oper_up=1,admin_up=1 ${ts}`)
    lines.push(`ups,host=ups-1,device=ups-1,role=ups,site=本庁舎,poller=dash-01 on_battery=0,charge_percent=100,runtime_s=1800 ${ts}`)
    // an SNMP-only device (no ping check): the NOC's devices table lists it too
    lines.push(`service,host=sw-snmp,device=sw-snmp,role=device,site=別館,poller=dash-01,service=sw-snmp,check=snmp up=1,uptime_s=${86_400 + i * 60} ${ts}`)
  }
  lines.push(`alert,${tags},rule=kiosk_printer_error,severity=critical,state=firing summary="発券機 dash-01 プリンタ異常",value=0,threshold=0,active=1 ${now - 3_600_000}`)
  lines.push(`alert,${tags},rule=kiosk_printer_error,severity=critical,state=resolved summary="発券機 dash-01 プリンタ異常",value=1,threshold=0,active=0,duration_s=1200 ${now - 2_400_000}`)
  lines.push(`alert,${tags},rule=cpu_high_critical,severity=critical,state=firing summary="dash-01 CPU 95%",value=95,threshold=90,active=1 ${now - 600_000}`)
  const rollups: string[] = []
  for (let i = 0; i < 30 * 24; i++) {
    const ts = now - i * 3_600_000
    rollups.push(`cpu,${tags} usage_percent_mean=${20 + (i % 24)},usage_percent_max=${40 + (i % 24)},usage_percent_min=1,usage_percent_count=30 ${ts}`)
    rollups.push(`mem,${tags} used_percent_mean=50,used_percent_max=60,used_percent_min=40,used_percent_count=30 ${ts}`)
    rollups.push(`disk,${tags},mount=/,fstype=ext4 used_percent_mean=${70 - i * 0.01},used_percent_max=${70 - i * 0.01},used_bytes_mean=${7e9 - i * 1e6},free_bytes_mean=${3e9 + i * 1e6} ${ts}`)
    rollups.push(`net,${tags},iface=eth0 rx_bytes_per_sec_mean=1000,tx_bytes_per_sec_mean=500 ${ts}`)
    rollups.push(`snmp_if_1h,${dev},ifname=ge-0/0/1 rx_bytes_per_sec_mean=${1000 + i % 24},rx_bytes_per_sec_max=2000,tx_bytes_per_sec_mean=500,tx_bytes_per_sec_max=900 ${ts}`)
  }
  // The same history as the hourly and the daily tier (the daily panels read *_1d): the queries only need data to answer.
  rollups.push(...rollups.flatMap(l => [l.replace(/^(cpu|mem|disk|net),/, '$1_1h,'), l.replace(/^(cpu|mem|disk|net),/, '$1_1d,')]))
  for (const [rp, body] of [['', lines], ['kanshi_5m', rollups], ['kanshi_logs', logEvents]] as const) {
    const res = await fetch(`${influxd.url}/write?db=kanshi&precision=ms${rp === '' ? '' : `&rp=${rp}`}`, { method: 'POST', body: body.join('\n') })
    t.equal(res.status, 204, `generated history written${rp === '' ? '' : ' (rollups)'}`)
  }
  const vars = { host: 'dash\\-01', site: '.*', role: '.*' }
  for (const f of files) {
    const d = parsed[f]!
    const queries: Array<[string, string]> = []
    for (const p of d['panels'] as Json[]) for (const target of p['targets'] ?? []) queries.push([`panel ${p['id']} "${p['title']}" ${target.refId}`, target.query])
    for (const v of d['templating'].list as Json[]) queries.push([`variable $${v['name']}`, v['query']])
    for (const a of d['annotations'].list as Json[]) if (typeof a['query'] === 'string') queries.push([`annotation ${a['name']}`, a['query']])
    for (const [what, q] of queries) {
      let series: unknown[] = []
      try {
        const r = await query(influxd.url, 'kanshi', grafana(q, vars))
        series = r.results[0].series ?? []
      } catch (err) {
        t.fail(`${f} ${what}: ${(err as Error).message}`)
        continue
      }
      t.ok(series.length > 0, `${f} ${what} returns series`)
    }
  }
  const devices = (parsed['noc.json']!['panels'] as Json[]).find(p => String(p['title']).startsWith('Devices'))!
  const rows = (await query(influxd.url, 'kanshi', grafana(devices['targets'][0].query, vars))).results[0].series as Json[]
  t.same(rows.map(s => `${s.tags.host}/${s.tags.check}`).sort(), ['sw-3f/ping', 'sw-snmp/snmp'], 'the NOC devices table lists the pinged and the SNMP-only device')
})
