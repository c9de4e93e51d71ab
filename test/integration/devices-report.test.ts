// A device's availability in the monthly report: ping results stamped by the collector's own
// stamp() (host = device, host_up from the ping), written to a real influxd, read back by the
// real kanshi-report. A silent poller is "no data" for the device, not down.

import t from 'tap'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { stamp } from '../../collector/state/entry.js'
import { devicePolicy } from '../../collector/state/device-stamp.js'
import { entryToLines } from '../../collector/storage/line-protocol.js'
import type { Batch, Point } from '../../protocol/messages.js'
import { withReportDb, writeLines } from '../helpers/influxd.js'
import { runReport } from '../helpers/report-cli.js'
import { minutesInHours, sheetRows } from '../helpers/report-month.js'

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
  // An agent's own host_up (no poller tag), up all month: its row stays a server.
  for (let m = AUG; m < SEP; m += MIN) lines.push(`host_up,host=ap01,role=server,site=本庁舎 up=1 ${m}`)
  await writeLines(influx.url, 'kanshi_raw', lines)
  const config = join(dir, 'collector.yaml')
  writeFileSync(config, `influx: { url: '${influx.url}' }\ndataDir: ./collector\n`)
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
  const en = join(dir, 'aug-en')
  const r2 = await runReport(['--month', '2026-08', '--out', en, '--config', config, '--no-pdf', '--lang', 'en'])
  t.equal(r2.code, 0, `en: exit 0 (stderr: ${r2.stderr})`)
  const kinds = (await sheetRows(join(en, 'report.xlsx'), 'Availability')).map(a => `${String(a['Host'])}/${String(a['Kind'])}`).sort()
  t.same(kinds, ['ap01/server', 'sw-3f/device', 'sw-3f/service'], 'en: device, server, and the device\'s ping service')
})
