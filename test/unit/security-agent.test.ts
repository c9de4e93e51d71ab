// The agent's security parts: the classifier that tags security log events
// with `kind` (Windows Security/Defender events in both languages, sshd and
// pam_faillock lines), the gate that applies it, the winevent event-id filter,
// the defender check's parser and judgement on captured JSON, and the
// inventory parsers (os-release, dpkg/apt/rpm, the Windows script's JSON).

import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { classify } from '../../agent/inputs/logs/security.js'
import { Batch, Gate } from '../../agent/inputs/logs/gate.js'
import { buildLogs } from '../../agent/inputs/logs/config.js'
import { winEventScript } from '../../agent/inputs/logs/winevent.js'
import { judgeDefender, parseDefenderJson, psDate } from '../../agent/inputs/checks/defender.js'
import { buildChecks } from '../../agent/inputs/checks/config.js'
import { checkAgentConfig } from '../../agent/config.js'
import { InventoryInput, inventoryFields, lastAptUpdate, lastDpkgUpdate, lastRpmUpdate, linuxInventory, parseOsRelease, parseWindowsInventory } from '../../agent/inputs/inventory.js'
import { PointAccumulator } from '../../agent/inputs/input.js'
import { VERSION } from '../../protocol/version.js'
import { tmpDir } from '../helpers/tmp.js'
import { mkdir, writeFile } from 'node:fs/promises'

const fx = resolve(import.meta.dirname, '..', 'fixtures', 'security')
const SEC = 'winevent:Security/Microsoft-Windows-Security-Auditing'
const DEF = 'winevent:Microsoft-Windows-Windows Defender/Operational/Microsoft-Windows-Windows Defender'

t.test('Windows events: failed logon, lockout, logins by type (English and Japanese), Defender', async t => {
  t.equal(classify(SEC, '[4625] An account failed to log on.\n\nLogon Type:\t\t\t3'), 'logon_failure')
  t.equal(classify(SEC, '[4625] アカウントがログオンに失敗しました。\n\nログオン タイプ:\t\t\t10'), 'logon_failure')
  t.equal(classify(SEC, '[4740] A user account was locked out.'), 'lockout')
  t.equal(classify(SEC, '[4740] ユーザー アカウントがロックアウトされました。'), 'lockout')
  for (const [type, want] of [[2, 'logon'], [10, 'logon'], [11, 'logon'], [3, undefined], [5, undefined], [7, undefined]] as const) {
    t.equal(classify(SEC, `[4624] An account was successfully logged on.\n\nLogon Information:\n\tLogon Type:\t\t${type}\n\tRestricted Admin Mode:\t-`), want, `English 4624 type ${type}`)
    t.equal(classify(SEC, `[4624] アカウントが正常にログオンしました。\n\nログオン情報:\n\tログオン タイプ:\t\t${type}\n\t制限付き管理モード:\t-`), want, `Japanese 4624 type ${type}`)
  }
  t.equal(classify(DEF, '[1116] Microsoft Defender Antivirus has detected malware or other potentially unwanted software.'), 'malware')
  t.equal(classify(DEF, '[1117] Microsoft Defender ウイルス対策は、マルウェアやその他の望ましくない可能性のあるソフトウェアからこのコンピューターを保護する操作を実行しました。'), 'malware_action')
  t.equal(classify(DEF, '[1118] failed'), 'malware_action_failed')
  t.equal(classify('winevent:Application/Application Error', '[4625] not the Security log'), undefined, 'the same id in another channel is not a logon')
  t.equal(classify(SEC, '[4672] Special privileges assigned to new logon.'), undefined)
  t.equal(classify(SEC, 'no id'), undefined)
})

t.test('sshd and pam lines: journald messages and auth.log/secure lines', async t => {
  const J = 'journald:ssh.service'
  t.equal(classify(J, 'Failed password for root from 192.0.2.7 port 51234 ssh2'), 'logon_failure')
  t.equal(classify(J, 'Failed password for invalid user admin from 192.0.2.7 port 51236 ssh2'), 'logon_failure')
  t.equal(classify(J, 'Failed publickey for alice from 192.0.2.8 port 40000 ssh2: ED25519 SHA256:abc'), 'logon_failure')
  t.equal(classify(J, 'Accepted publickey for alice from 192.0.2.8 port 40001 ssh2: ED25519 SHA256:abc'), 'logon')
  t.equal(classify(J, 'Invalid user admin from 192.0.2.7 port 51236'), undefined, 'counted once, on its Failed line')
  t.equal(classify(J, 'Connection closed by 192.0.2.7 port 51236 [preauth]'), undefined)
  const F = '/var/log/auth.log'
  t.equal(classify(F, 'Dec  6 10:00:01 web01 sshd[1234]: Failed password for root from 192.0.2.7 port 22 ssh2'), 'logon_failure')
  t.equal(classify(F, '2026-12-06T10:00:02.123456+09:00 web01 sshd[1234]: Accepted password for bob from 192.0.2.9 port 5022 ssh2'), 'logon')
  t.equal(classify('/var/log/secure', 'Dec  6 10:00:03 db01 sshd-session[88]: Failed keyboard-interactive/pam for carol from 192.0.2.10 port 1 ssh2'), 'logon_failure')
  t.equal(classify(F, 'Dec  6 10:00:04 web01 sshd[1]: message repeated 3 times: [ Failed password for root from 192.0.2.7 port 22 ssh2]'), 'logon_failure')
  t.equal(classify(F, 'Dec  6 10:00:05 web01 sudo: pam_faillock(sudo:auth): Consecutive login failures for user dave account temporarily locked'), 'lockout')
  t.equal(classify(F, 'Dec  6 10:00:06 web01 CRON[99]: pam_unix(cron:session): session opened for user root'), undefined)
  t.equal(classify('/var/log/app.log', 'ERROR Failed password for the database'), undefined, 'not sshd')
})

t.test('the gate tags security events with kind; security: false and entry tags win', async t => {
  const [on, off, tagged] = buildLogs('/etc/kanshi/agent.yaml', [
    { type: 'file', path: '/var/log/auth.log', name: 'a', encoding: 'utf8', startAt: 'end', rateLimit: 0, tags: {}, security: true },
    { type: 'file', path: '/var/log/auth.log', name: 'b', encoding: 'utf8', startAt: 'end', rateLimit: 0, tags: {}, security: false },
    { type: 'file', path: '/var/log/auth.log', name: 'c', encoding: 'utf8', startAt: 'end', rateLimit: 0, tags: { kind: 'mine' }, security: true }
  ]).files
  const line = 'Dec  6 10:00:01 web01 sshd[1234]: Failed password for root from 192.0.2.7 port 22 ssh2'
  const run = (spec: typeof on): unknown => { const b = new Batch(10, 1e6); new Gate(spec!, (_s, x) => x, 0).pass(b, line, '/var/log/auth.log', 1); return b.events[0]!.tags }
  t.same(run(on), { kind: 'logon_failure' })
  t.equal(run(off), undefined)
  t.same(run(tagged), { kind: 'mine' })
  const b = new Batch(10, 1e6)
  new Gate(on!, (_s, x) => x, 0).pass(b, 'an ordinary line', '/var/log/auth.log', 1)
  t.equal(b.events[0]!.tags, undefined, 'other lines carry no kind')
})

t.test('winevent eventIds become an XPath filter; they belong to winevent entries only', async t => {
  t.match(winEventScript({ channel: 'Security', providers: [], eventIds: [4624, 4625, 4740] }, 10), /EventRecordID>10\) and \(EventID=4624 or EventID=4625 or EventID=4740\)\]\]/)
  t.notMatch(winEventScript({ channel: 'Security', providers: [] }, 10), /EventID=/)
  const [w] = buildLogs('/etc/kanshi/agent.yaml', [{ type: 'winevent', channel: 'Security', eventIds: [4625], encoding: 'utf8', startAt: 'end', rateLimit: 0, tags: {}, security: true }]).winevent
  t.same(w!.eventIds, [4625])
  t.throws(() => buildLogs('/etc/kanshi/agent.yaml', [{ type: 'file', path: '/x.log', eventIds: [1], encoding: 'utf8', startAt: 'end', rateLimit: 0, tags: {}, security: true }]), { message: /agent\.yaml: logs\.0\(\/x\.log\)\.eventIds: expected no eventIds for a file source/ })
})

t.test('defender: captured Get-MpComputerStatus JSON, English (PS 5.1 dates) and Japanese (PS 7 ISO dates)', async t => {
  const now = Date.UTC(2026, 11, 6, 0, 0)
  const en = parseDefenderJson(readFileSync(join(fx, 'defender-en.json'), 'utf8'), now)!
  t.equal(psDate('/Date(1796371200000)/'), Date.UTC(2026, 11, 4, 8))
  t.equal(en.signatureAgeDays, (now - Date.UTC(2026, 11, 4, 8)) / 86_400_000, 'signature age from the last update, in fractional days')
  t.equal(en.scanAgeDays, 1, 'newest scan: the quick scan a day ago; the full scan never ran')
  const r = judgeDefender(en, { maxSignatureAgeDays: 3 })
  t.equal(r.up, true)
  t.match(r.message, /^healthy: signatures 1\.7 days \(1\.421\.1234\.0\)/)
  t.same(r.fields, { antivirus_enabled: 1, realtime_protection: 1, am_service_enabled: 1, tamper_protected: 1, signature_age_days: 1.67, scan_age_days: 1 })

  const ja = parseDefenderJson('\uFEFF' + readFileSync(join(fx, 'defender-ja.json'), 'utf8'), now)!
  const sig = (now - Date.parse('2026-11-30T00:15:00Z')) / 86_400_000
  t.equal(ja.signatureAgeDays, sig)
  t.equal(ja.scanAgeDays, (now - Date.parse('2026-11-23T17:00:00Z')) / 86_400_000, 'quick scan never (65535): the full scan counts')
  const bad = judgeDefender(ja, { maxSignatureAgeDays: 3, maxScanAgeDays: 7 })
  t.equal(bad.up, false)
  t.equal(bad.message, `real-time protection off; signatures ${sig.toFixed(1)} days old (> 3); last scan 12.3 days ago (> 7)`)
  t.equal(bad.fields!['realtime_protection'], 0)
  t.equal(judgeDefender(ja, { maxSignatureAgeDays: 7 }).message, 'real-time protection off', 'only what is wrong is named')
  t.equal(parseDefenderJson(readFileSync(join(fx, 'defender-ja-error.txt'), 'utf8'), now), undefined, 'an error text is no status')
})

t.test('defender: a config error on Linux, built on Windows with its default threshold', async t => {
  t.throws(() => buildChecks('/etc/kanshi/agent.yaml', [{ name: 'av', type: 'defender', interval: 300_000, timeout: 60_000 }], 'linux'),
    { message: 'agent.yaml: checks.0(av).type: expected a check this platform can run: defender (Get-MpComputerStatus) runs only on Windows, this is linux' })
  const [c] = buildChecks('C:/kanshi/agent.yaml', [{ name: 'av', type: 'defender', interval: 300_000, timeout: 60_000 }], 'win32')
  t.equal(c!.type, 'defender', 'its results are service points with check=defender')
})

t.test('inventory parsers: os-release, dpkg.log, apt history, rpm, the Windows script', async t => {
  t.same(parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n# c\n'), { PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)', NAME: 'Debian GNU/Linux', VERSION_ID: '12', ID: 'debian' })
  const dpkg = '2026-11-02 09:00:00 startup archives unpack\n2026-11-02 09:00:01 upgrade libc6:amd64 2.36-9 2.36-9+deb12u9\n2026-11-03 10:20:30 install curl:amd64 <none> 7.88\n2026-11-04 11:00:00 status installed curl:amd64 7.88\n'
  t.equal(lastDpkgUpdate(dpkg), new Date(2026, 10, 3, 10, 20, 30).getTime(), 'the newest install or upgrade, in local time')
  const apt = 'Start-Date: 2026-10-01  08:00:00\nCommandline: apt-get upgrade\nUpgrade: libc6:amd64 (1, 2)\nEnd-Date: 2026-10-01  08:01:00\n\nStart-Date: 2026-10-05  08:00:00\nCommandline: apt-get remove x\nRemove: x:amd64 (1)\nEnd-Date: 2026-10-05  08:00:05\n'
  t.equal(lastAptUpdate(apt), new Date(2026, 9, 1, 8, 1, 0).getTime(), 'a removal is not an update')
  t.equal(lastRpmUpdate('1700000000\n1790000000\n1600000000\n'), 1790000000 * 1000)
  const w = parseWindowsInventory('\uFEFF' + readFileSync(join(fx, 'inventory-windows.json'), 'utf8'))
  t.same(w, { os_id: 'windows', os_name: 'Microsoft Windows Server 2019 Standard', os_version: '10.0.17763 (1809)', os_build: '17763.6414', last_update: Date.parse('2026-10-09T15:00:00Z'), pending_reboot: true })
  t.throws(() => parseWindowsInventory('Get-CimInstance : アクセスが拒否されました。'), { message: /PowerShell printed no JSON: Get-CimInstance : アクセスが拒否されました。/ })
})

t.test('inventory of this machine: the real /etc/os-release, and a pending reboot file in a test root', async t => {
  const inv = await linuxInventory('/', false)
  const osr = Object.fromEntries(readFileSync('/etc/os-release', 'utf8').split('\n').filter(l => l.includes('=')).map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"|"$/g, '')]))
  t.equal(inv.os_id, osr['ID'])
  t.equal(inv.os_name, osr['NAME'])
  t.equal(inv.os_version, osr['VERSION_ID'] ?? '')
  const f = inventoryFields(inv)
  t.equal(f['agent_version'], VERSION)
  t.equal(f['pending_reboot'], existsSync('/var/run/reboot-required') || existsSync('/run/reboot-required') ? 1 : 0)

  const root = await tmpDir(t)
  await mkdir(join(root, 'etc'), { recursive: true })
  await mkdir(join(root, 'var/run'), { recursive: true })
  await mkdir(join(root, 'var/log/apt'), { recursive: true })
  await writeFile(join(root, 'etc/os-release'), 'NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nVERSION="22.04.5 LTS (Jammy Jellyfish)"\n')
  await writeFile(join(root, 'var/run/reboot-required'), '*** System restart required ***\n')
  await writeFile(join(root, 'var/log/dpkg.log'), '2026-11-20 03:00:00 upgrade openssl:amd64 3.0.2-0ubuntu1.17 3.0.2-0ubuntu1.18\n')
  await writeFile(join(root, 'var/log/apt/history.log'), 'Start-Date: 2026-11-25  03:00:00\nInstall: jq:amd64 (1.6)\nEnd-Date: 2026-11-25  03:00:09\n')
  const u = await linuxInventory(root, false)
  t.same({ ...u, kernel: undefined }, { os_id: 'ubuntu', os_name: 'Ubuntu', os_version: '22.04', os_build: '22.04.5 LTS (Jammy Jellyfish)', kernel: undefined, last_update: new Date(2026, 10, 25, 3, 0, 9).getTime(), pending_reboot: true })
})

t.test('inventory input: read at start, handed over once, again after the interval; on by default', async t => {
  let reads = 0
  const input = new InventoryInput({ intervalMs: 60_000, now: () => 1000, read: async () => { reads++; return { os_id: 'debian', os_name: 'Debian GNU/Linux', os_version: '12', os_build: '12.8' } } })
  const logger = (await import('pino')).pino({ level: 'silent' })
  input.start({ logger, enqueue: async () => 0, saveCursors: async () => {}, savedCursor: () => undefined })
  await input.collect()
  const a = new PointAccumulator(5000)
  await input.gather(a)
  t.same(a.points, [{ m: 'inventory', t: 1000, tags: {}, f: { os_id: 'debian', os_name: 'Debian GNU/Linux', os_version: '12', os_build: '12.8', agent_version: VERSION } }])
  const b = new PointAccumulator(6000)
  await input.gather(b)
  t.same(b.points, [], 'not again until the next reading')
  await input.close()
  t.ok(reads >= 1)
  const c = checkAgentConfig('/etc/kanshi/agent.yaml', { id: 'x', collector: { url: 'ws://127.0.0.1:1/v1/agent', token: 't' } }, {})
  t.same(c.inputs.inventory, { enabled: true, interval: 6 * 3_600_000 })
})

t.test('the Security entry documented in configuration.md keeps logins and failures, drops network logons', async t => {
  const { parse } = await import('yaml')
  const md = readFileSync(resolve(import.meta.dirname, '..', '..', 'docs', 'configuration.md'), 'utf8')
  const line = md.split('\n').find(l => l.includes('channel: Security, eventIds'))!
  const entry = parse(line.replace(/^\s*-\s*/, '')) as Record<string, unknown>
  const [spec] = buildLogs('C:/kanshi/agent.yaml', [{ encoding: 'utf8', startAt: 'end', rateLimit: 0, tags: {}, security: true, ...entry } as never]).winevent
  t.same(spec!.eventIds, [4624, 4625, 4740])
  const b = new Batch(100, 1e6)
  const gate = new Gate(spec!, (_s, x) => x, 0)
  const msgs = ['[4624] An account was successfully logged on.\n\tLogon Type:\t\t3', '[4624] An account was successfully logged on.\n\tLogon Type:\t\t10', '[4624] アカウントが正常にログオンしました。\n\tログオン タイプ:\t\t2', '[4625] An account failed to log on.\n\tLogon Type:\t\t3', '[4740] A user account was locked out.']
  for (const m of msgs) gate.pass(b, m, SEC, 1)
  t.same(b.events.map(e => e.tags?.['kind']), ['logon', 'logon', 'logon_failure', 'lockout'], 'the type 3 logon is filtered out, the rest are tagged')
})
