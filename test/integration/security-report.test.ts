// Security events and inventory end to end, with real parts: Windows Security
// and Defender events in the shape Get-WinEvent's script prints (parsed by
// winevent.ts, passed through the agent's gate that tags `kind`), and sshd
// lines in a real auth.log read by the agent's file input, sent over a real
// WebSocket to a real collector writing to a real influxd. The monthly
// report's security and login tables equal what was sent (counted here from
// the generated input); a lockout now fires account_lockout from the shipped
// alert-rules/security.yaml as one mail to a real SMTP server; the inventory
// of this machine (its real /etc/os-release) and of a Windows host come back
// from GET /api/v1/inventory and the report's 構成管理 table.

import t from 'tap'
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { LogEvent } from '../../protocol/messages.js'
import { buildLogs } from '../../agent/inputs/logs/config.js'
import { Batch, Gate } from '../../agent/inputs/logs/gate.js'
import { LogInput } from '../../agent/inputs/logs/input.js'
import { parseWinEventOutput } from '../../agent/inputs/logs/winevent.js'
import { inventoryFields, linuxInventory, parseWindowsInventory } from '../../agent/inputs/inventory.js'
import { localTime } from '../../common/calendar.js'
import { japanCalendar } from '../../common/holidays.js'
import { lastMonth, makeMonth, zonedTime, type Month } from '../../collector/report/period.js'
import { runReport } from '../../collector/report/report.js'
import { judgeInventory } from '../../collector/report/sections/inventory.js'
import { startCollector } from '../helpers/collector.js'
import { connectAgent, type FakeAgent } from '../helpers/fake-agent.js'
import { query, withInfluxd } from '../helpers/influxd.js'
import { withSmtp } from '../helpers/smtp.js'
import { asViewer, viewerApi } from '../helpers/config.js'
import { waitFor } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

const root = resolve(import.meta.dirname, '..', '..')
const TZ = 'Asia/Tokyo'

/** One Windows record as the Get-WinEvent script prints it: a compressed JSON line. */
interface WinSpec { day: number, eventId: number, provider: string, message: string, n: number, kind?: 'logon' | 'logon_failure' | 'lockout' | 'malware' | 'malware_action' }

const en4624 = (type: number): string => `An account was successfully logged on.\r\n\r\nLogon Information:\r\n\tLogon Type:\t\t${type}\r\n\tRestricted Admin Mode:\t-`
const ja4624 = (type: number): string => `アカウントが正常にログオンしました。\r\n\r\nログオン情報:\r\n\tログオン タイプ:\t\t${type}`
const WIN: WinSpec[] = [
  { day: 1, eventId: 4624, provider: 'Microsoft-Windows-Security-Auditing', message: en4624(2), n: 3, kind: 'logon' },
  { day: 1, eventId: 4624, provider: 'Microsoft-Windows-Security-Auditing', message: en4624(3), n: 4 },
  { day: 1, eventId: 4625, provider: 'Microsoft-Windows-Security-Auditing', message: 'An account failed to log on.\r\n\r\nLogon Type:\t\t\t3', n: 2, kind: 'logon_failure' },
  { day: 2, eventId: 4624, provider: 'Microsoft-Windows-Security-Auditing', message: en4624(10), n: 2, kind: 'logon' },
  { day: 2, eventId: 4625, provider: 'Microsoft-Windows-Security-Auditing', message: 'アカウントがログオンに失敗しました。\r\n\r\nログオン タイプ:\t\t\t10', n: 5, kind: 'logon_failure' },
  { day: 3, eventId: 4624, provider: 'Microsoft-Windows-Security-Auditing', message: ja4624(11), n: 1, kind: 'logon' },
  { day: 3, eventId: 4740, provider: 'Microsoft-Windows-Security-Auditing', message: 'ユーザー アカウントがロックアウトされました。', n: 1, kind: 'lockout' }
]
const DEFENDER: WinSpec[] = [
  { day: 2, eventId: 1116, provider: 'Microsoft-Windows-Windows Defender', message: 'Microsoft Defender Antivirus has detected malware or other potentially unwanted software.', n: 1, kind: 'malware' },
  { day: 2, eventId: 1117, provider: 'Microsoft-Windows-Windows Defender', message: 'Microsoft Defender Antivirus has taken action to protect this machine from malware.', n: 1, kind: 'malware_action' }
]
/** sshd lines on web01, per day, with what each counts as. */
const SSH: Array<{ day: number, line: string, n: number, kind?: 'logon' | 'logon_failure' | 'lockout' }> = [
  { day: 4, line: 'sshd[2101]: Failed password for invalid user admin from 192.0.2.7 port 51236 ssh2', n: 4, kind: 'logon_failure' },
  { day: 4, line: 'sshd[2102]: Invalid user admin from 192.0.2.7 port 51236', n: 1 },
  { day: 4, line: 'sshd[2103]: Accepted publickey for unyo from 192.0.2.8 port 40001 ssh2: ED25519 SHA256:x', n: 2, kind: 'logon' },
  { day: 5, line: 'sshd[2104]: Accepted password for unyo from 192.0.2.8 port 40002 ssh2', n: 1, kind: 'logon' },
  { day: 5, line: 'sudo: pam_faillock(sudo:auth): Consecutive login failures for user tanaka account temporarily locked', n: 1, kind: 'lockout' }
]

const at = (m: Month, day: number, minute: number): number => zonedTime(m.year, m.month, day, 10 * 60 + minute, TZ)

/** winRecords prints the specs as the PowerShell script would, and parses them back as winevent.ts does. */
function winRecords (specs: WinSpec[], m: Month, channel: string, firstId: number): ReturnType<typeof parseWinEventOutput>['records'] {
  let id = firstId
  const lines = specs.flatMap(s => Array.from({ length: s.n }, (_, i) => JSON.stringify({ id: id++, t: new Date(at(m, s.day, i)).toISOString(), level: 0, provider: s.provider, eventId: s.eventId, message: s.message })))
  return parseWinEventOutput(lines.join('\r\n') + '\r\n', channel).records
}

/** gated runs records through the agent's gate for a winevent entry, as QueuedSource.poll does. */
function gated (records: ReturnType<typeof winRecords>, channel: string): LogEvent[] {
  const spec = buildLogs('C:/kanshi/agent.yaml', [{ type: 'winevent', channel, encoding: 'utf8', startAt: 'end', rateLimit: 0, tags: {}, security: true }]).winevent[0]!
  const gate = new Gate(spec, (_s, x) => x, 0)
  const b = new Batch(10_000, 1 << 24)
  for (const r of records) gate.pass(b, r.message, r.source, r.t, { level: r.level, t: r.t })
  return b.events
}

async function send (a: FakeAgent, seq: number, points: unknown[], events: LogEvent[]): Promise<void> {
  a.batch(seq, points, { events })
  await a.waitFrame(f => f.type === 'ack' && f.seq === seq, `ack ${seq}`)
}

t.test('security events, daily logins, a lockout mail, and the inventory', async t => {
  const influx = await withInfluxd(t)
  const smtp = await withSmtp(t)
  const rules = await tmpDir(t)
  copyFileSync(join(root, 'alert-rules', 'security.yaml'), join(rules, 'security.yaml'))
  const col = await startCollector(t, {
    agents: [{ id: 'win01', role: 'server', site: 'honcho' }, { id: 'web01', role: 'server', site: 'honcho' }],
    config: {
      // Last month may be older than the raw retention (35 days): the default policy keeps it.
      influx: { version: 1, url: influx.url, db: 'kanshi', flushInterval: '100ms', retention: { manage: false }, rollups: false },
      api: viewerApi(),
      alerting: {
        rulesDir: rules,
        smtp: { host: '127.0.0.1', port: smtp.port, from: 'kanshi@example.jp', timeout: '2s' },
        receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }],
        routes: [{ receiver: 'oncall' }],
        groupWait: '0s', groupInterval: '1s', repeatInterval: '1h', publicUrl: 'http://127.0.0.1:1'
      }
    }
  })
  const month = lastMonth(Date.now(), TZ)

  // Windows: the Security and Defender channels of win01, all in last month.
  const winEvents = [...gated(winRecords(WIN, month, 'Security', 9000), 'Security'), ...gated(winRecords(DEFENDER, month, 'Microsoft-Windows-Windows Defender/Operational', 500), 'Microsoft-Windows-Windows Defender/Operational')]
  t.equal(winEvents.filter(e => e.tags?.['kind'] !== undefined).length, [...WIN, ...DEFENDER].filter(s => s.kind !== undefined).reduce((a, s) => a + s.n, 0), 'the gate tagged each security record')

  // Linux: a real auth.log read by the agent's file input, its clock injected per day.
  const dir = await tmpDir(t)
  const authLog = join(dir, 'auth.log')
  writeFileSync(authLog, '')
  const sshEvents: LogEvent[] = []
  let clock = at(month, 1, 0)
  const input = new LogInput(buildLogs(join(dir, 'agent.yaml'), [{ type: 'file', path: authLog, startAt: 'beginning', encoding: 'utf8', rateLimit: 0, tags: {}, security: true }]).files, { pollIntervalMs: 60_000, now: () => clock })
  input.attach({ enqueue: async (_p, ev) => { sshEvents.push(...ev); return 0 }, saveCursors: async () => {} }, undefined)
  await input.pollOnce()
  for (const day of [4, 5]) {
    clock = at(month, day, 0)
    for (const s of SSH.filter(x => x.day === day)) for (let i = 0; i < s.n; i++) appendFileSync(authLog, `${localTime(clock, TZ).date}T10:00:0${i}+09:00 web01 ${s.line}\n`)
    await input.pollOnce()
  }
  await input.close()
  t.equal(sshEvents.length, SSH.reduce((a, s) => a + s.n, 0), 'every auth.log line became an event')

  // Inventory: this machine for web01, the captured Windows output for win01.
  const linuxInv = inventoryFields(await linuxInventory('/', false))
  const winInv = inventoryFields(parseWindowsInventory(readFileSync(join(root, 'test', 'fixtures', 'security', 'inventory-windows.json'), 'utf8')))
  const win = await connectAgent(t, col.agentUrl, { token: col.tokens['win01']!, id: 'win01' })
  await win.greet({ os: 'win32' })
  const web = await connectAgent(t, col.agentUrl, { token: col.tokens['web01']!, id: 'web01' })
  await web.greet()
  // The defender check's results on win01 last month, one an hour: healthy except when the signatures were old.
  const DEF_UP = [1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1]
  const defender = DEF_UP.map((up, i) => ({ m: 'service', t: at(month, 6, 0) + i * 3_600_000, tags: { service: 'defender', check: 'defender' }, f: { up, message: up === 1 ? 'healthy' : 'signatures old', signature_age_days: up === 1 ? 0.5 + i / 10 : 4 + i / 10 } }))
  await send(win, 1, [{ m: 'inventory', t: Date.now(), f: winInv }, ...defender], winEvents)
  await send(web, 1, [{ m: 'inventory', t: Date.now(), f: linuxInv }], sshEvents)
  t.equal(smtp.mails.length, 0, 'last month\'s events are past every rule\'s window: no mail')

  // A lockout now: account_lockout fires once.
  const live = gated(winRecords([{ ...WIN[6]!, day: 1 }], month, 'Security', 9999), 'Security').map(e => ({ ...e, t: Date.now() }))
  await send(win, 2, [], live)
  await waitFor(() => smtp.mails.length >= 1, 20_000, 100)
  t.equal(smtp.mails[0]!.subject, '[WARNING] win01 でアカウントがロックアウトされました')
  let seen: unknown[] = []
  await waitFor(async () => {
    const r = await query(influx.url, 'kanshi', "SELECT count(\"active\") FROM \"alert\" WHERE \"rule\" = 'account_lockout' AND \"state\" = 'firing'")
    const lines = await query(influx.url, 'kanshi', 'SELECT count("message") FROM "log_event"')
    seen = [r.results[0].series?.[0]?.values?.[0]?.[1], lines.results[0].series?.[0]?.values?.[0]?.[1]]
    return seen[0] === 1 && seen[1] === winEvents.length + sshEvents.length + live.length
  }, 30_000, 200).catch(err => { throw new Error(`${(err as Error).message}: alert firings and log_event rows ${JSON.stringify(seen)}, expected [1, ${winEvents.length + sshEvents.length + live.length}]`) })
  await new Promise(resolve => setTimeout(resolve, 1500))
  t.equal(smtp.mails.length, 1, 'one mail for the lockout')

  // The report for last month: every count from the input above.
  const out = await tmpDir(t)
  const r = await runReport({ config: col.config, month, outDir: out, lang: 'ja', pdf: false, now: Date.now() })
  const table = (id: string) => r.tables.find(x => x.id === id)!
  const sum = (list: Array<{ n: number, kind?: string }>, kind: string): number => list.filter(s => s.kind === kind).reduce((a, s) => a + s.n, 0)
  const winAll = [...WIN, ...DEFENDER]
  t.same(table('security').rows, [
    { host: 'web01', failures: sum(SSH, 'logon_failure'), lockouts: sum(SSH, 'lockout'), malware: 0, suspicious: 0, logins: sum(SSH, 'logon'), avHealthy: null, sigAge: null },
    { host: 'win01', failures: sum(winAll, 'logon_failure'), lockouts: sum(winAll, 'lockout'), malware: sum(winAll, 'malware'), suspicious: 0, logins: sum(winAll, 'logon'), avHealthy: 100 * (DEF_UP.reduce((a, u) => a + u, 0) / DEF_UP.length), sigAge: defender.at(-1)!.f.signature_age_days }
  ], 'per host: failed logons, lockouts, malware, suspicious matches, logins')

  const cal = japanCalendar({ timezone: TZ })
  const perDay = (day: number, kind: string): number => sum([...WIN.filter(s => s.day === day), ...SSH.filter(s => s.day === day)], kind)
  const hostsOn = (day: number): number => (WIN.some(s => s.day === day && s.kind === 'logon') ? 1 : 0) + (SSH.some(s => s.day === day && s.kind === 'logon') ? 1 : 0)
  const expectDays = month.days.map((date, i) => {
    const day = i + 1
    const business = cal.isBusinessDay(at(month, day, 0))
    return { date, dayKind: business ? '開庁日' : '閉庁日', logins: perDay(day, 'logon'), hosts: hostsOn(day), failures: perDay(day, 'logon_failure'), business }
  }).filter(d => d.business || d.logins > 0 || d.failures > 0).map(({ business: _b, ...d }) => d)
  t.same(table('logins').rows, expectDays, '日別ログイン数: every business day, closed days only with logins')
  // The attention list (今月の確認事項) carries the malware, the lockouts and logins on closed days.
  t.ok(r.attention.includes(`win01 でマルウェアを ${sum(winAll, 'malware')} 件検知しました`), 'malware in the attention list')
  t.ok(r.attention.includes(`アカウントのロックアウト ${sum(SSH, 'lockout') + sum(winAll, 'lockout')} 件: web01, win01`), 'lockouts in the attention list')
  const closedLogins = expectDays.filter(d => d.dayKind === '閉庁日' && d.logins > 0)
  t.equal(r.attention.some(a => a.startsWith('閉庁日のログイン')), closedLogins.length > 0, 'logins on closed days are flagged when there are any')

  // The default setup (retention.manage on): log events land in the kanshi_logs policy (400 days, so last
  // month is still there) and the security section reads them from it. Log events only: last month's other
  // points may be past kanshi_raw's 35 days, so the antivirus columns stay empty here.
  const managed = await startCollector(t, {
    agents: [{ id: 'win01', role: 'server', site: 'honcho' }, { id: 'web01', role: 'server', site: 'honcho' }],
    config: { influx: { version: 1, url: influx.url, db: 'kanshi_m', flushInterval: '100ms' } }
  })
  t.equal(managed.config.influx.retention.manage, true, 'retention.manage is on by default')
  const win2 = await connectAgent(t, managed.agentUrl, { token: managed.tokens['win01']!, id: 'win01' })
  await win2.greet({ os: 'win32' })
  const web2 = await connectAgent(t, managed.agentUrl, { token: managed.tokens['web01']!, id: 'web01' })
  await web2.greet()
  await send(win2, 1, [], winEvents)
  await send(web2, 1, [], sshEvents)
  const logRows = async (rp: string): Promise<unknown> => (await query(influx.url, 'kanshi_m', `SELECT count("message") FROM "${rp}"."log_event"`)).results[0].series?.[0]?.values?.[0]?.[1] ?? 0
  await waitFor(async () => await logRows('kanshi_logs') === winEvents.length + sshEvents.length, 30_000, 200)
  t.equal(await logRows('kanshi_raw'), 0, 'no log event in kanshi_raw')
  const m = await runReport({ config: managed.config, month, outDir: join(out, 'managed'), lang: 'ja', pdf: false, now: Date.now() })
  t.same(m.tables.find(x => x.id === 'security')!.rows, [
    { host: 'web01', failures: sum(SSH, 'logon_failure'), lockouts: sum(SSH, 'lockout'), malware: 0, suspicious: 0, logins: sum(SSH, 'logon'), avHealthy: null, sigAge: null },
    { host: 'win01', failures: sum(winAll, 'logon_failure'), lockouts: sum(winAll, 'lockout'), malware: sum(winAll, 'malware'), suspicious: 0, logins: sum(winAll, 'logon'), avHealthy: null, sigAge: null }
  ], 'kanshi_logs: the same per-host security figures')
  t.same(m.tables.find(x => x.id === 'logins')!.rows, expectDays, 'kanshi_logs: the same 日別ログイン数')

  // The current month holds the live lockout and its alert: a suspicious log match on win01.
  const now = Date.now()
  const l = localTime(now, TZ)
  const cur = await runReport({ config: col.config, month: makeMonth(l.year, l.month, TZ), outDir: join(out, 'cur'), lang: 'en', pdf: false, now })
  t.same(cur.tables.find(x => x.id === 'security')!.rows, [{ host: 'win01', failures: 0, lockouts: 1, malware: 0, suspicious: 1, logins: 0, avHealthy: null, sigAge: null }])
  t.match(readFileSync(join(out, 'cur', 'report.html'), 'utf8'), /9\. Security \(failed logons, lockouts, malware\)/)
  t.match(readFileSync(join(out, 'security.csv'), 'utf8'), /win01/, 'the tables go to CSV like the others')

  // Inventory: the API (viewer only) and the report's table as of the current month.
  const osr = Object.fromEntries(readFileSync('/etc/os-release', 'utf8').split('\n').filter(x => x.includes('=')).map(x => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1).replace(/^"|"$/g, '')]))
  t.equal((await fetch(`${col.url}/api/v1/inventory`)).status, 401, 'no token, no inventory')
  const res = await fetch(`${col.url}/api/v1/inventory`, { headers: asViewer })
  t.equal(res.status, 200)
  const body = await res.json() as { hosts: Array<Record<string, unknown>> }
  t.same(body.hosts.map(h => h['host']), ['web01', 'win01'])
  const w1 = body.hosts[0]!
  t.same([w1['osId'], w1['osName'], w1['osVersion'], w1['agentVersion']], [osr['ID'], osr['NAME'], osr['VERSION_ID'] ?? '', linuxInv['agent_version']], 'web01 is this Debian machine')
  t.match(body.hosts[1]!, { osName: 'Microsoft Windows Server 2019 Standard', osBuild: '17763.6414', eol: '2029-01-09', pendingReboot: true, lastUpdate: Date.parse('2026-10-09T15:00:00Z') })
  t.equal(body.hosts[1]!['pastEol'], now > Date.parse('2029-01-09T15:00:00Z'))
  const inv = cur.tables.find(x => x.id === 'inventory')!
  t.same(inv.rows.map(x => x['host']).sort(), ['web01', 'win01'])
  // An injected "now" after Windows Server 2019's end of support flags it, and its update as stale.
  const rows = body.hosts.map(h => ({ ...h })) as unknown as Parameters<typeof judgeInventory>[0]
  const later = judgeInventory(rows, Date.parse('2029-01-10T03:00:00Z'), TZ, { maxUpdateAgeDays: 45, eolWarnDays: 180 })
  t.match(later.find(j => j.row.host === 'win01')!, { pastEol: true, eolSoon: false, staleUpdate: true })
  const before = judgeInventory(rows, Date.parse('2028-12-01T03:00:00Z'), TZ, { maxUpdateAgeDays: 45, eolWarnDays: 180 })
  t.match(before.find(j => j.row.host === 'win01')!, { pastEol: false, eolSoon: true })
})
