// kanshi-report at the edges: a month with raw data only (no rollups), a host
// that appeared mid-month and one that went away, no incident record, an
// empty previous month, an empty month in English, no Chromium, and bad
// report: settings — each a clear result, never a crash.

import t from 'tap'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { reportDb, withInfluxd } from '../helpers/influxd.js'
import { tmpDir } from '../helpers/tmp.js'
import { runReport } from '../helpers/report-cli.js'
import { minutesInHours, sheetRows } from '../helpers/report-month.js'

const MIN = 60_000
const jst = (s: string): number => Date.parse(`${s}+09:00`)
const AUG = jst('2026-08-01T00:00:00')
const SEP = jst('2026-09-01T00:00:00')
const LATE_FROM = jst('2026-08-20T12:00:00')
const GONE_AT = jst('2026-08-05T12:00:00')
// 山の日 (11 Aug) is the only national holiday in August 2026.

t.test('raw data only, hosts arriving and leaving mid-month, no incident record, empty months', async t => {
  const influx = await withInfluxd(t)
  const dir = await tmpDir(t)
  await reportDb(influx.url)
  // Raw points every minute (rollups off): late01 from 20 Aug 12:00, gone01 until 5 Aug 12:00.
  const lines: string[] = []
  for (let m = AUG; m < SEP; m += MIN) {
    if (m >= LATE_FROM) lines.push(`host_up,host=late01,role=server,site=a up=1 ${m}`, `cpu,host=late01,role=server,site=a usage_percent=40 ${m}`)
    if (m < GONE_AT) {
      lines.push(`host_up,host=gone01,role=server,site=a up=1 ${m}`, `cpu,host=gone01,role=server,site=a usage_percent=60 ${m}`,
        `service,host=gone01,role=server,site=a,service=api,check=http up=1,response_ms=120 ${m}`)
    }
  }
  for (let i = 0; i < lines.length; i += 5000) {
    const res = await fetch(`${influx.url}/write?db=kanshi&rp=kanshi_raw&precision=ms`, { method: 'POST', body: lines.slice(i, i + 5000).join('\n') })
    t.equal(res.status, 204, 'write')
  }
  mkdirSync(join(dir, 'collector'))
  const config = join(dir, 'collector.yaml')
  writeFileSync(config, `influx: { url: '${influx.url}' }\ndataDir: ./collector\n`)

  const out = join(dir, 'aug')
  const r = await runReport(['--month', '2026-08', '--out', out, '--config', config], { KANSHI_CHROMIUM: join(dir, 'no-such-chromium') })
  t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`)
  t.match(r.stderr, /no report\.pdf: Chromium not found/, 'no Chromium: said, not failed')
  const xlsx = join(out, 'report.xlsx')
  const hosts = await sheetRows(xlsx, 'Hosts')
  const late = hosts.find(h => h['ホスト'] === 'late01')!
  const gone = hosts.find(h => h['ホスト'] === 'gone01')!
  t.equal((late['データ開始'] as Date).toISOString().slice(0, 16), '2026-08-20T12:00', 'late01 first data')
  t.equal((gone['データ終了'] as Date).toISOString().slice(0, 16), '2026-08-05T11:55', 'gone01 last 5-minute slot')
  t.equal(late['CPU 平均 %'], 40)
  t.equal(gone['CPU p95 %'], 60)
  const av = await sheetRows(xlsx, 'Availability')
  const avLate = av.find(a => a['ホスト'] === 'late01')!
  const avGone = av.find(a => a['ホスト'] === 'gone01' && a['種別'] === 'サーバ')!
  t.equal(avLate['サービス時間 分'], minutesInHours(LATE_FROM, SEP), 'late01: service hours from its first sample only')
  t.equal(avLate['データなし 分'], 0, 'no "no data" before it existed')
  t.equal(avLate['稼働率 %'], 1)
  t.equal(avGone['サービス時間 分'], minutesInHours(AUG, GONE_AT), 'gone01: service hours until its last sample only')
  t.equal(avGone['データなし 分'], 0)
  const api = (await sheetRows(xlsx, 'Services')).find(s => s['サービス'] === 'api')!
  t.equal(api['応答 p95 ms'], 120, 'response time from raw data')
  t.same(await sheetRows(xlsx, 'Incidents'), [], 'no alerting.db: no incident rows')
  const sum = await sheetRows(xlsx, 'Summary')
  const host = sum.find(s => String(s['項目']).startsWith('サーバ稼働率'))!
  t.equal(host['実績'], 100)
  t.equal(host['前月'], null, 'July is empty: no previous figure, no change')
  t.equal(host['前月比'], null)
  t.match(String(sum.find(s => String(s['項目']).startsWith('障害通知'))!['備考']), '障害記録なし')
  const html = readFileSync(join(out, 'report.html'), 'utf8')
  t.match(html, 'host_up: 生データ（5分に集約）', 'the page says the figures come from raw data')
  t.match(html, '障害記録なし')
  t.notMatch(html, 'id="no-data"')

  const empty = join(dir, 'jun')
  const e = await runReport(['--month', '2026-06', '--out', empty, '--config', config, '--lang', 'en', '--no-pdf'])
  t.equal(e.code, 0, `an empty month is not an error (stderr: ${e.stderr})`)
  t.match(e.stderr, /2026-06: InfluxDB at http:\/\/127\.0\.0\.1:\d+ \(db kanshi\) holds no data for this month/)
  const ehtml = readFileSync(join(empty, 'report.html'), 'utf8')
  t.match(ehtml, '<html lang="en">')
  t.match(ehtml, 'InfluxDB holds no monitoring data for this month')
  t.match(ehtml, 'Monthly report (capacity and service levels) — 2026-06')
  const wb = new ExcelJS.Workbook()
  await wb.xlsx.readFile(join(empty, 'report.xlsx'))
  t.equal(wb.worksheets.length, 12, 'every sheet is there (Device traffic too)')
  t.equal(wb.getWorksheet('Hosts')!.rowCount, 1, 'headers only')
  t.equal(wb.getWorksheet('Hosts')!.getRow(1).getCell(1).value, 'Host', 'English headers')
})

t.test('bad report settings and arguments: one line naming the file, the key and the expectation', async t => {
  const dir = await tmpDir(t)
  const cases: Array<[string, string, RegExp]> = [
    ['availability-range', 'report: { targets: { availability: 120 } }', /: report\.targets\.availability: expected a percentage 0-100 \(availability target\), got 120$/],
    ['unknown-schedule', 'report: { serviceHours: night-shift }', /: report\.serviceHours: expected the name of a schedule \(business-hours, kiosk-hours\) or \{ days, hours \}, got "night-shift"$/],
    ['bad-hours', "report: { serviceHours: { days: business, hours: ['18:00-09:00'] } }", /: report\.serviceHours\.hours\.0: expected HH:MM-HH:MM with the start before the end, got "18:00-09:00"$/],
    ['bad-duration', 'report: { major: { minDuration: soon } }', /: report\.major\.minDuration: expected a duration such as "10s", "5m" or "1h", got "soon"$/],
    ['bad-severity', 'report: { major: { severities: [fatal] } }', /: report\.major\.severities\.0: expected one of info, warning, critical, got "fatal"$/],
    ['typo', 'report: { tagets: { availability: 99 } }', /: report\.tagets: unknown key \(a typo\?\); expected one of timezone, serviceHours, overrides, targets, thresholds, diskFullWithinDays, topInterfaces, major, jobs, daily, inventory$/],
    ['override-hours', 'report: { overrides: [ { match: { role: kiosk }, serviceHours: kiosk-time } ] }', /: report\.overrides\.0\.serviceHours: expected the name of a schedule \(business-hours, kiosk-hours\) or \{ days, hours \}, got "kiosk-time"$/],
    ['bad-timezone', 'report: { timezone: Mars/Olympus }', /: report\.timezone: expected an IANA timezone such as Asia\/Tokyo, got "Mars\/Olympus"$/],
    ['custom-schedule', 'alerting: { schedules: [ { name: night, days: all, hours: [\'00:00-06:00\'] } ] }\nreport: { serviceHours: kiosk-hours }', /: report\.serviceHours: expected the name of a schedule \(night\) or \{ days, hours \}, got "kiosk-hours"$/]
  ]
  for (const [name, yaml, want] of cases) {
    const file = join(dir, `${name}.yaml`)
    writeFileSync(file, yaml + '\n')
    const r = await runReport(['--month', '2026-10', '--out', join(dir, 'out'), '--config', file])
    t.equal(r.code, 2, `${name}: exit 2`)
    const lines = r.stderr.trim().split('\n')
    t.equal(lines.length, 1, `${name}: one line`)
    t.match(lines[0], new RegExp(`^kanshi-report: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`), `${name}: names the file`)
    t.match(lines[0], want, `${name}: ${lines[0]}`)
  }
  const month = await runReport(['--month', '2026-13', '--out', join(dir, 'out')])
  t.equal(month.code, 2)
  t.equal(month.stderr, 'kanshi-report: --month: expected a month YYYY-MM, got "2026-13"\n')
  const noOut = await runReport(['--month', '2026-10'])
  t.equal(noOut.code, 2)
  t.match(noOut.stderr, /--out: expected an output directory, got missing/)
  const help = await runReport(['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /kanshi-report --month YYYY-MM --out DIR \[--config FILE\] \[--lang ja\|en\]/)
  const down = await runReport(['--month', '2026-10', '--out', join(dir, 'out2'), '--config', writeConfig(dir, 'influx: { url: "http://127.0.0.1:9" }\n')])
  t.equal(down.code, 1, 'InfluxDB unreachable: exit 1')
  t.match(down.stderr, /^kanshi-report: InfluxDB at http:\/\/127\.0\.0\.1:9 did not answer: .+\n$/, 'one line saying so')
})

function writeConfig (dir: string, yaml: string): string {
  const f = join(dir, 'down.yaml')
  writeFileSync(f, yaml)
  return f
}
