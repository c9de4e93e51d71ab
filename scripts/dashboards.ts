// Generates the Grafana dashboards in dashboards/*.json from one place, so uids,
// units, thresholds (matching alert-rules/default.yaml) and the datasource stay
// consistent. Run: npm run dashboards. A test keeps the committed files in step.

import { writeFileSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'

export const DATASOURCE = { type: 'influxdb', uid: 'kanshi-influxdb' }
const ROLL = '"kanshi_5m"'

type Json = Record<string, unknown>
interface Panel extends Json { id: number, gridPos: { x: number, y: number, w: number, h: number } }

const thresholds = (steps: Array<[number | null, string]>) => ({ mode: 'absolute', steps: steps.map(([value, color]) => ({ value, color })) })
const PCT_WARN_CRIT = thresholds([[null, 'green'], [80, 'orange'], [90, 'red']])
const MEM = thresholds([[null, 'green'], [85, 'orange'], [95, 'red']])

function target (query: string, refId = 'A', format: 'time_series' | 'table' | 'logs' = 'time_series'): Json {
  return { refId, datasource: DATASOURCE, query, rawQuery: true, resultFormat: format }
}

class Layout {
  private id = 0
  private x = 0
  private y = 0
  private rowH = 0
  readonly panels: Panel[] = []

  add (w: number, h: number, p: Json): void {
    if (this.x + w > 24) { this.x = 0; this.y += this.rowH; this.rowH = 0 }
    this.panels.push({ ...p, id: ++this.id, gridPos: { x: this.x, y: this.y, w, h }, datasource: DATASOURCE } as Panel)
    this.x += w
    this.rowH = Math.max(this.rowH, h)
  }

  row (title: string): void {
    if (this.x > 0) { this.x = 0; this.y += this.rowH; this.rowH = 0 }
    this.panels.push({ id: ++this.id, type: 'row', title, collapsed: false, gridPos: { x: 0, y: this.y, w: 24, h: 1 }, panels: [] } as unknown as Panel)
    this.y += 1
  }
}

function timeseries (title: string, unit: string, queries: string[], extra: Json = {}): Json {
  return {
    type: 'timeseries', title,
    targets: queries.map((q, i) => target(q, String.fromCharCode(65 + i))),
    fieldConfig: { defaults: { unit, custom: { lineWidth: 1, fillOpacity: 10, spanNulls: false }, ...extra }, overrides: [] },
    options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi' } }
  }
}

function stat (title: string, unit: string, query: string, extra: Json = {}, options: Json = {}): Json {
  return {
    type: 'stat', title, targets: [target(query)],
    fieldConfig: { defaults: { unit, ...extra }, overrides: [] },
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none', textMode: 'value_and_name', ...options }
  }
}

function table (title: string, queries: string[], extra: Json = {}): Json {
  return { type: 'table', title, targets: queries.map((q, i) => target(q, String.fromCharCode(65 + i), 'table')), fieldConfig: { defaults: { ...extra }, overrides: [] }, options: { showHeader: true } }
}

function bargauge (title: string, unit: string, query: string, th: Json): Json {
  return {
    type: 'bargauge', title, targets: [target(query)],
    fieldConfig: { defaults: { unit, min: 0, max: 100, thresholds: th }, overrides: [] },
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, orientation: 'horizontal', displayMode: 'gradient', showUnfilled: true }
  }
}

const UPDOWN = {
  mappings: [{ type: 'value', options: { 1: { text: 'UP', color: 'green', index: 0 }, 0: { text: 'DOWN', color: 'red', index: 1 } } }],
  thresholds: thresholds([[null, 'red'], [1, 'green']])
}

function variable (name: string, label: string, query: string): Json {
  return { name, label, type: 'query', datasource: DATASOURCE, query, refresh: 2, includeAll: true, multi: true, allValue: '.*', current: { text: 'All', value: '$__all' }, sort: 1 }
}

function dashboard (uid: string, title: string, layout: Layout, o: { refresh?: string, time?: string, vars?: Json[], annotations?: Json[], tags?: string[] } = {}): Json {
  return {
    uid, title, tags: ['kanshi', ...(o.tags ?? [])], timezone: 'Asia/Tokyo', schemaVersion: 39, version: 1, editable: true,
    refresh: o.refresh ?? '30s', time: { from: o.time ?? 'now-6h', to: 'now' },
    templating: { list: o.vars ?? [] },
    annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' }, ...(o.annotations ?? [])] },
    panels: layout.panels,
    links: [{ title: 'kanshi', type: 'dashboards', tags: ['kanshi'], asDropdown: true }]
  }
}

const HOST = `"host" =~ /^$host$/`
const SCOPE = `"site" =~ /^$site$/ AND "role" =~ /^$role$/`
const ALERT_ANNOTATION = (filter: string): Json => ({
  name: 'Alerts', datasource: DATASOURCE, enable: true, iconColor: 'red',
  query: `SELECT "summary", "value" FROM "alert" WHERE ${filter} AND "state" = 'firing' AND $timeFilter`,
  textColumn: 'summary', tagsColumn: 'rule,severity'
})

function noc (): Json {
  const l = new Layout()
  l.add(24, 8, stat('Hosts and kiosks / ホスト稼働状況', 'none', `SELECT last("up") FROM "host_up" WHERE $timeFilter GROUP BY "host"`, UPDOWN, { textMode: 'name', text: { titleSize: 16, valueSize: 24 } }))
  l.add(12, 8, { ...table('Firing alerts / 発生中のアラート', [`SELECT last("active") AS "active", last("value") AS "value", last("summary") AS "summary" FROM "alert" WHERE $timeFilter GROUP BY "host", "rule", "severity"`]), transformations: [{ id: 'filterByValue', options: { type: 'include', match: 'any', filters: [{ fieldName: 'active', config: { id: 'equal', options: { value: 1 } } }] } }] })
  l.add(12, 8, bargauge('Agents spooling / 未送信データ (batches)', 'none', `SELECT last("spool_batches") FROM "agent" WHERE $timeFilter GROUP BY "host"`, thresholds([[null, 'green'], [5, 'orange'], [30, 'red']])))
  l.add(8, 9, bargauge('Top CPU / CPU使用率', 'percent', `SELECT last("usage_percent") FROM "cpu" WHERE $timeFilter GROUP BY "host"`, PCT_WARN_CRIT))
  l.add(8, 9, bargauge('Top memory / メモリ使用率', 'percent', `SELECT last("used_percent") FROM "mem" WHERE $timeFilter GROUP BY "host"`, MEM))
  l.add(8, 9, bargauge('Top disk / ディスク使用率', 'percent', `SELECT last("used_percent") FROM "disk" WHERE $timeFilter GROUP BY "host", "mount"`, PCT_WARN_CRIT))
  l.add(24, 6, stat('Up per site / 拠点別 稼働数', 'none', `SELECT sum("last") FROM (SELECT last("up") FROM "host_up" WHERE $timeFilter GROUP BY "host", "site") GROUP BY "site"`, { thresholds: thresholds([[null, 'blue']]) }, { colorMode: 'value' }))
  return dashboard('kanshi-noc', 'kanshi NOC overview / 監視 全体', l, { refresh: '10s', time: 'now-1h', tags: ['noc'] })
}

function host (): Json {
  const l = new Layout()
  l.row('System')
  l.add(12, 8, timeseries('CPU / CPU使用率', 'percent', [`SELECT mean("usage_percent") AS "usage", mean("user_percent") AS "user", mean("system_percent") AS "system", mean("iowait_percent") AS "iowait" FROM "cpu" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "host" fill(null)`], { min: 0, max: 100, thresholds: PCT_WARN_CRIT }))
  l.add(12, 8, timeseries('Load / ロードアベレージ', 'short', [`SELECT mean("load1") AS "load1", mean("load5") AS "load5", mean("load15") AS "load15" FROM "cpu" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "host" fill(null)`]))
  l.add(12, 8, timeseries('Memory / メモリ使用率', 'percent', [`SELECT mean("used_percent") AS "used", mean("swap_used_percent") AS "swap" FROM "mem" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "host" fill(null)`], { min: 0, max: 100, thresholds: MEM }))
  l.add(12, 8, timeseries('Disk used per mount / ディスク使用率', 'percent', [`SELECT last("used_percent") FROM "disk" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "host", "mount" fill(null)`], { min: 0, max: 100, thresholds: PCT_WARN_CRIT }))
  l.add(12, 8, timeseries('Disk I/O / ディスクI/O', 'Bps', [`SELECT mean("read_bytes_per_sec") AS "read", mean("write_bytes_per_sec") AS "write" FROM "diskio" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "device" fill(null)`]))
  l.add(12, 8, timeseries('Network / 通信量', 'Bps', [`SELECT mean("rx_bytes_per_sec") AS "rx", mean("tx_bytes_per_sec") AS "tx" FROM "net" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "iface" fill(null)`]))
  l.row('Services and logs')
  l.add(24, 6, { type: 'state-timeline', title: 'Services / サービス状態', targets: [target(`SELECT last("up") FROM "service" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "service" fill(previous)`)], fieldConfig: { defaults: UPDOWN, overrides: [] }, options: { showValue: 'never', mergeValues: true } })
  l.add(12, 8, timeseries('Response time / 応答時間', 'ms', [`SELECT mean("response_ms") FROM "service" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "service" fill(null)`]))
  l.add(12, 8, timeseries('Agent / エージェント', 'none', [`SELECT last("spool_batches") AS "spooled", last("clock_skew_ms") AS "skew_ms", last("rss_bytes") / 1048576 AS "rss_mib" FROM "agent" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval) fill(null)`]))
  l.add(12, 8, timeseries('Log events by level / ログ件数 (レベル別)', 'short', [`SELECT count("message") FROM "log_event" WHERE ${HOST} AND $timeFilter GROUP BY time($__interval), "level" fill(0)`]))
  // Nothing dropped silently: rate-limited, truncated and lost lines, and what is still unread.
  l.add(12, 8, table('Log collection / ログ収集状況', [`SELECT last("lines") AS "lines", last("dropped_rate_limit") AS "dropped (rate limit)", last("truncated") AS "truncated", last("lost_files") AS "lost files", last("lag_bytes") AS "unread bytes", last("errors") AS "errors" FROM "log_input" WHERE ${HOST} AND $timeFilter GROUP BY "source"`]))
  l.add(24, 10, { type: 'logs', title: 'Recent log events / ログ', targets: [target(`SELECT "level", "source", "message" FROM "log_event" WHERE ${HOST} AND $timeFilter ORDER BY time DESC LIMIT 500`, 'A', 'logs')], options: { showTime: true, wrapLogMessage: true, sortOrder: 'Descending' } })
  return dashboard('kanshi-host', 'kanshi host detail / ホスト詳細', l, {
    vars: [
      variable('site', 'Site / 拠点', 'SHOW TAG VALUES FROM "host_up" WITH KEY = "site"'),
      variable('role', 'Role / 役割', 'SHOW TAG VALUES FROM "host_up" WITH KEY = "role" WHERE "site" =~ /^$site$/'),
      { ...variable('host', 'Host / ホスト', `SHOW TAG VALUES FROM "host_up" WITH KEY = "host" WHERE ${SCOPE}`), includeAll: false, multi: false, current: {} }
    ],
    annotations: [ALERT_ANNOTATION(HOST)], tags: ['host']
  })
}

function kiosk (): Json {
  const l = new Layout()
  const KIOSK = `"role" = 'kiosk' AND "site" =~ /^$site$/`
  l.add(24, 7, stat('Kiosks / 発券機 稼働状況', 'none', `SELECT last("up") FROM "host_up" WHERE ${KIOSK} AND $timeFilter GROUP BY "host"`, UPDOWN, { textMode: 'name' }))
  l.add(12, 8, { type: 'state-timeline', title: 'Printers / プリンタ状態', targets: [target(`SELECT last("up") FROM "service" WHERE ${KIOSK} AND "check" = 'printer' AND $timeFilter GROUP BY time($__interval), "host" fill(previous)`)], fieldConfig: { defaults: { ...UPDOWN, mappings: [{ type: 'value', options: { 1: { text: 'READY', color: 'green', index: 0 }, 0: { text: 'ERROR', color: 'red', index: 1 } } }] }, overrides: [] }, options: { showValue: 'never' } })
  l.add(12, 8, table('Printer problems / 用紙切れ・エラー', [`SELECT last("message") AS "message", last("up") AS "up" FROM "service" WHERE ${KIOSK} AND "check" = 'printer' AND $timeFilter GROUP BY "host"`]))
  l.add(12, 8, timeseries('Kiosks online in opening hours / 開庁時間中の稼働率', 'percent', [`SELECT mean("up") * 100 FROM "host_up" WHERE ${KIOSK} AND $timeFilter GROUP BY time(1h), "site" fill(null)`], { min: 0, max: 100 }))
  l.add(12, 8, timeseries('App metrics (kiosk_app) / 発券数・待ち人数', 'short', [`SELECT mean(*) FROM "kiosk_app" WHERE "site" =~ /^$site$/ AND $timeFilter GROUP BY time($__interval), "host" fill(null)`]))
  return dashboard('kanshi-kiosk', 'kanshi kiosk fleet / 発券機', l, { vars: [variable('site', 'Site / 拠点', `SHOW TAG VALUES FROM "host_up" WITH KEY = "site" WHERE "role" = 'kiosk'`)], tags: ['kiosk'] })
}

function capacity (): Json {
  const l = new Layout()
  const RH = `"host" =~ /^$host$/`
  // Year-long panels read the hourly tier (<measurement>_1h): 12 times fewer points than 5-minute rollups;
  // the daily CPU and memory panels the daily tier (_1d), 24 times fewer again (issue 8: a year of 200 hosts).
  l.add(12, 9, timeseries('CPU daily mean and max (rollups) / CPU 日次', 'percent', [`SELECT mean("usage_percent_mean") AS "mean", max("usage_percent_max") AS "max" FROM ${ROLL}."cpu_1d" WHERE ${RH} AND $timeFilter GROUP BY time(1d), "host" fill(null)`], { min: 0, max: 100, thresholds: PCT_WARN_CRIT }))
  l.add(12, 9, timeseries('Memory daily mean and max (rollups) / メモリ 日次', 'percent', [`SELECT mean("used_percent_mean") AS "mean", max("used_percent_max") AS "max" FROM ${ROLL}."mem_1d" WHERE ${RH} AND $timeFilter GROUP BY time(1d), "host" fill(null)`], { min: 0, max: 100, thresholds: MEM }))
  l.add(12, 9, table('CPU and memory p95 / max per host', [
    `SELECT percentile("usage_percent_mean", 95) AS "cpu_p95", max("usage_percent_max") AS "cpu_max" FROM ${ROLL}."cpu_1h" WHERE ${RH} AND $timeFilter GROUP BY "host"`,
    `SELECT percentile("used_percent_mean", 95) AS "mem_p95", max("used_percent_max") AS "mem_max" FROM ${ROLL}."mem_1h" WHERE ${RH} AND $timeFilter GROUP BY "host"`
  ], { unit: 'percent', decimals: 1 }))
  l.add(12, 9, timeseries('Disk used per mount (rollups) / ディスク推移', 'percent', [`SELECT max("used_percent_max") FROM ${ROLL}."disk_1h" WHERE ${RH} AND $timeFilter GROUP BY time(1d), "host", "mount" fill(null)`], { min: 0, max: 100, thresholds: PCT_WARN_CRIT }))
  l.add(12, 9, table('Disk growth per day and room left / ディスク増加量', [
    `SELECT derivative(mean("used_bytes_mean"), 1d) AS "growth_per_day" FROM ${ROLL}."disk_1h" WHERE ${RH} AND $timeFilter GROUP BY time(1d), "host", "mount"`,
    `SELECT last("free_bytes_mean") AS "free" FROM ${ROLL}."disk_1h" WHERE ${RH} AND $timeFilter GROUP BY "host", "mount"`
  ], { unit: 'bytes' }))
  l.add(12, 9, timeseries('Traffic per day / 日次通信量', 'bytes', [`SELECT sum("rx_bytes_per_sec_mean") * 3600 AS "rx", sum("tx_bytes_per_sec_mean") * 3600 AS "tx" FROM ${ROLL}."net_1h" WHERE ${RH} AND $timeFilter GROUP BY time(1d), "host" fill(0)`], { custom: { drawStyle: 'bars', fillOpacity: 60 } }))
  return dashboard('kanshi-capacity', 'kanshi capacity review / キャパシティ', l, {
    refresh: '', time: 'now-90d',
    vars: [{ ...variable('host', 'Host / ホスト', `SHOW TAG VALUES FROM ${ROLL}."cpu_1h" WITH KEY = "host"`) }], tags: ['capacity']
  })
}

function sla (): Json {
  const l = new Layout()
  l.add(12, 8, timeseries('Incidents per day / 日次インシデント', 'none', [`SELECT count("value") FROM "alert" WHERE "state" = 'firing' AND $timeFilter GROUP BY time(1d), "severity" fill(0)`], { custom: { drawStyle: 'bars', fillOpacity: 70, stacking: { mode: 'normal' } } }))
  l.add(12, 8, table('Time to resolve / 復旧時間', [`SELECT count("duration_s") AS "incidents", mean("duration_s") AS "mean_s", max("duration_s") AS "max_s" FROM "alert" WHERE "state" = 'resolved' AND $timeFilter GROUP BY "rule"`], { unit: 's' }))
  l.add(12, 9, bargauge('Host availability / ホスト稼働率', 'percent', `SELECT mean("up") * 100 FROM "host_up" WHERE $timeFilter GROUP BY "host"`, thresholds([[null, 'red'], [99, 'orange'], [99.9, 'green']])))
  l.add(12, 9, bargauge('Service availability / サービス稼働率', 'percent', `SELECT mean("up") * 100 FROM "service" WHERE $timeFilter GROUP BY "host", "service"`, thresholds([[null, 'red'], [99, 'orange'], [99.9, 'green']])))
  l.add(24, 8, table('Alert history / アラート履歴', [`SELECT "summary", "value", "threshold", "duration_s" FROM "alert" WHERE $timeFilter ORDER BY time DESC LIMIT 200`]))
  return dashboard('kanshi-sla', 'kanshi alerts and SLA / アラートとSLA', l, { refresh: '1m', time: 'now-30d', tags: ['sla'], annotations: [ALERT_ANNOTATION('"severity" = \'critical\'')] })
}

/** dashboards returns every dashboard by file name. */
export function dashboards (): Record<string, Json> {
  return { 'noc.json': noc(), 'host.json': host(), 'kiosk.json': kiosk(), 'capacity.json': capacity(), 'sla.json': sla() }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = resolve(import.meta.dirname, '..', '..', 'dashboards')
  mkdirSync(dir, { recursive: true })
  for (const [name, d] of Object.entries(dashboards())) writeFileSync(resolve(dir, name), JSON.stringify(d, null, 2) + '\n')
  process.stdout.write(`wrote ${Object.keys(dashboards()).length} dashboards to ${dir}\n`)
}
