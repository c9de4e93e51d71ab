// A device's availability in the monthly report: ping results stamped by the collector's own
// stamp() (host = device, host_up from the ping), written to a real influxd, read back by the
// real kanshi-report. A silent poller is "no data" for the device, not down. Its interfaces'
// traffic (snmp_if) is in section 4 next to the hosts', the busiest report.topInterfaces of them.

import t from 'tap'
import { join } from 'node:path'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { stamp } from '../../collector/state/entry.js'
import { devicePolicy } from '../../collector/state/device-stamp.js'
import { entryToLines } from '../../collector/storage/line-protocol.js'
import type { Batch, Point } from '../../protocol/messages.js'
import { withReportDb, writeLines } from '../helpers/influxd.js'
import { runReport } from '../helpers/report-cli.js'
import { localDate, minutesInHours, sheetRows } from '../helpers/report-month.js'

const MIN = 60_000
const jst = (s: string): number => Date.parse(`${s}+09:00`)
const AUG = jst('2026-08-01T00:00:00')
const SEP = jst('2026-09-01T00:00:00')
// Down one business hour on Mon 3 Aug; the poller silent two hours on Tue 4 Aug.
const DOWN = [jst('2026-08-03T10:00:00'), jst('2026-08-03T11:00:00')] as const
const SILENT = [jst('2026-08-04T10:00:00'), jst('2026-08-04T12:00:00')] as const

t.test('a device pinged by a poller is in the monthly availability like a host', async t => {
  const { influx, dir } = await withReportDb(t)
  const poller = { id: 'poller-1', role: 'server', site: '本庁舎', devices: devicePolicy(true, new Set(['poller-1'])) }
  const lines: string[] = []
  let seq = 0
  for (let h = AUG; h < SEP; h += 3_600_000) {
    const points: Point[] = []
    for (let m = h; m < h + 3_600_000; m += MIN) {
      if (m >= SILENT[0] && m < SILENT[1]) continue
      const up = m >= DOWN[0] && m < DOWN[1] ? 0 : 1
      points.push({ m: 'service', t: m, tags: { device: 'sw-3f', host: 'sw-3f', check: 'ping', service: 'sw-3f' }, f: { up, rtt_ms: 1, loss_percent: up === 1 ? 0 : 100 } })
    }
    const e = stamp(poller, { type: 'batch', seq: ++seq, points } as Batch, h)
    e.p = e.p.filter(p => p.tags?.['host'] === 'sw-3f') // the poller's own host_up is not this test's
    entryToLines(e, lines)
  }
  t.ok(lines.some(l => l.startsWith('host_up,') && l.includes('host=sw-3f') && l.includes('poller=poller-1')), 'host_up for the device')
  const traffic = interfaceTraffic(poller, lines)
  // An agent's own host_up (no poller tag), up all month: its row stays a server.
  for (let m = AUG; m < SEP; m += MIN) lines.push(`host_up,host=ap01,role=server,site=本庁舎 up=1 ${m}`)
  await writeLines(influx.url, 'kanshi_raw', lines)
  const config = join(dir, 'collector.yaml')
  writeFileSync(config, `influx: { url: '${influx.url}' }\ndataDir: ./collector\nreport: { topInterfaces: 2 }\n`)
  const out = join(dir, 'aug')
  const r = await runReport(['--month', '2026-08', '--out', out, '--config', config, '--no-pdf'])
  t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`)
  const av = await sheetRows(join(out, 'report.xlsx'), 'Availability')
  const row = av.find(a => a['ホスト'] === 'sw-3f' && a['種別'] === '機器')
  t.ok(row, `a row of kind 機器 for the device (rows: ${av.map(a => `${String(a['ホスト'])}/${String(a['種別'])}`).join(', ')})`)
  t.same(av.filter(a => a['ホスト'] === 'ap01').map(a => a['種別']), ['サーバ'], 'the agent\'s own row stays サーバ')
  const silentMin = minutesInHours(SILENT[0], SILENT[1])
  const downMin = minutesInHours(DOWN[0], DOWN[1])
  const measured = minutesInHours(AUG, SEP) - silentMin
  t.equal(row!['データなし 分'], silentMin, 'the poller\'s silence is no data, not down')
  t.equal(row!['停止 分'], downMin, 'the hour of failed pings is down')
  t.equal(row!['計測 分'], measured)
  const want = (measured - downMin) / measured
  t.ok(Math.abs(Number(row!['稼働率 %']) - want) < 1e-9, `availability ${String(row!['稼働率 %'])} = ${want} (a fraction in the sheet)`)
  // Section 4: the busiest 2 of the 3 interfaces, GB like the hosts' traffic, figures computed here.
  const top = [...traffic.values()].sort((a, b) => b.rx + b.tx - a.rx - a.tx).slice(0, 2)
  const dev = await sheetRows(join(out, 'report.xlsx'), 'Device traffic')
  t.same(dev.map(d => `${String(d['機器'])}/${String(d['インターフェース'])}`), top.map(x => x.key), 'the busiest two interfaces, busiest first')
  top.forEach((x, i) => {
    const row = dev[i]!
    const near = (got: unknown, want: number, what: string): void => { t.ok(Math.abs(Number(got) - want) <= 1e-9 * Math.max(1, want), `${x.key} ${what}: ${String(got)} = ${want}`) }
    near(row['受信 GB'], x.rx / 1e9, 'received')
    near(row['送信 GB'], x.tx / 1e9, 'sent')
    near(row['合計 GB'], (x.rx + x.tx) / 1e9, 'total')
    near(row['1日平均 GB'], (x.rx + x.tx) / x.days.size / 1e9, 'daily mean')
    const peak = [...x.days].sort((a, b) => b[1] - a[1])[0]!
    t.equal(row['最大の日'], peak[0], `${x.key} busiest day`)
    near(row['最大日 GB'], peak[1] / 1e9, 'busiest day GB')
  })
  t.ok(existsSync(join(out, 'deviceTraffic.csv')), 'deviceTraffic.csv')
  t.match(readFileSync(join(out, 'report.html'), 'utf8'), /<h3>機器のインターフェース別通信量（SNMP、上位 2 \/ 3）<\/h3>/, 'the page says 2 of 3 interfaces')
  const en = join(dir, 'aug-en')
  const r2 = await runReport(['--month', '2026-08', '--out', en, '--config', config, '--no-pdf', '--lang', 'en'])
  t.equal(r2.code, 0, `en: exit 0 (stderr: ${r2.stderr})`)
  const kinds = (await sheetRows(join(en, 'report.xlsx'), 'Availability')).map(a => `${String(a['Host'])}/${String(a['Kind'])}`).sort()
  t.same(kinds, ['ap01/server', 'sw-3f/device', 'sw-3f/service'], 'en: device, server, and the device\'s ping service')
  const devEn = await sheetRows(join(en, 'report.xlsx'), 'Device traffic')
  t.same(devEn.map(d => `${String(d['Device'])}/${String(d['Interface'])}`), top.map(x => x.key), 'en: the same rows')
  t.match(readFileSync(join(en, 'report.html'), 'utf8'), /Device interface traffic \(SNMP, busiest 2 of 3\)/)
})

interface IfTotals { key: string, rx: number, tx: number, days: Map<string, number> }

/**
 * interfaceTraffic adds snmp_if points of two devices' interfaces on a few days (one a minute, the
 * rate changing every minute) as the poller sends them, and returns what section 4 must show: per
 * 5-minute slot the mean rate × 300 s, summed per interface and per local day.
 */
function interfaceTraffic (poller: Parameters<typeof stamp>[0], lines: string[]): Map<string, IfTotals> {
  const ifs = [{ device: 'sw-3f', ifname: 'ge-1', rx: 4e6, tx: 1e6 }, { device: 'sw-3f', ifname: 'ge-2', rx: 5e5, tx: 2e5 }, { device: 'sw-4f', ifname: 'ge-1', rx: 2e6, tx: 3e6 }]
  const spans = [[jst('2026-08-03T09:00:00'), jst('2026-08-03T12:00:00')], [jst('2026-08-05T13:00:00'), jst('2026-08-05T17:30:00')], [jst('2026-08-31T23:00:00'), SEP]] as const
  const out = new Map<string, IfTotals>()
  let seq = 1000
  for (const [from, to] of spans) {
    const points: Point[] = []
    for (const [k, x] of ifs.entries()) {
      const totals = out.get(`${x.device}/${x.ifname}`) ?? { key: `${x.device}/${x.ifname}`, rx: 0, tx: 0, days: new Map<string, number>() }
      out.set(totals.key, totals)
      for (let slot = from; slot < to; slot += 5 * MIN) {
        let rx = 0
        let tx = 0
        for (let m = slot; m < slot + 5 * MIN; m += MIN) {
          const wave = 1 + ((m / MIN + k) % 7) / 10
          points.push({ m: 'snmp_if', t: m, tags: { device: x.device, host: x.device, ifname: x.ifname }, f: { rx_bytes_per_sec: x.rx * wave, tx_bytes_per_sec: x.tx * wave, oper_up: 1 } })
          rx += x.rx * wave / 5
          tx += x.tx * wave / 5
        }
        totals.rx += rx * 300
        totals.tx += tx * 300
        totals.days.set(localDate(slot), (totals.days.get(localDate(slot)) ?? 0) + (rx + tx) * 300)
      }
    }
    const e = stamp(poller, { type: 'batch', seq: ++seq, points } as Batch, to)
    e.p = e.p.filter(p => p.m === 'snmp_if')
    entryToLines(e, lines)
  }
  return out
}
