// The defender check and the Windows inventory run their PowerShell as a real
// child process (a stand-in for powershell.exe that answers with captured
// output): the arguments, the parsing, and a Defender that is not there
// (Get-MpComputerStatus failing with a Japanese message) reported down with
// the reason. The classifier's cost per line is printed, not bounded: speed belongs in benchmarks.

import t from 'tap'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { defenderCheck } from '../../agent/inputs/checks/defender.js'
import { windowsInventory } from '../../agent/inputs/inventory.js'
import { classify } from '../../agent/inputs/logs/security.js'

const fx = resolve(import.meta.dirname, '..', 'fixtures', 'security')
const fake = join(fx, 'fake-powershell.mjs')

t.test('defender: healthy from the stand-in, down with the first error line when the cmdlet fails', async t => {
  const now = Date.UTC(2026, 11, 6)
  const r = await defenderCheck({ maxSignatureAgeDays: 3, command: fake }, () => now)(new AbortController().signal)
  t.equal(r.up, true)
  t.equal(r.fields!['signature_age_days'], Math.round((now - Date.UTC(2026, 11, 4, 8)) / 864_000) / 100)
  process.env['FAKE_PS_FAIL'] = '1'
  t.teardown(() => { delete process.env['FAKE_PS_FAIL'] })
  await t.rejects(defenderCheck({ maxSignatureAgeDays: 3, command: fake }, () => now)(new AbortController().signal),
    { message: `Get-MpComputerStatus failed: ${readFileSync(join(fx, 'defender-ja-error.txt'), 'utf8').split(/\r?\n/)[0]}` }, 'the runner reports this as down with the message')
})

t.test('windows inventory through the stand-in', async t => {
  t.match(await windowsInventory(fake), { os_id: 'windows', os_name: 'Microsoft Windows Server 2019 Standard', os_build: '17763.6414', pending_reboot: true })
})

t.test('classifier: 200,000 ordinary lines stay untagged, 200,000 sshd lines are tagged (cost printed)', async t => {
  const lines = Array.from({ length: 1000 }, (_, i) => `2026-12-06 10:00:${String(i % 60).padStart(2, '0')} INFO request ${i} served in ${i % 97} ms`)
  const n = 200_000
  let tagged = 0
  const a = performance.now()
  for (let i = 0; i < n; i++) if (classify('/var/log/app/app.log', lines[i % 1000]!) !== undefined) tagged++
  const perLineNs = (performance.now() - a) * 1e6 / n
  const ssh = 'Dec  6 10:00:01 web01 sshd[1234]: Failed password for root from 192.0.2.7 port 22 ssh2'
  const b = performance.now()
  for (let i = 0; i < n; i++) if (classify('/var/log/auth.log', ssh) !== undefined) tagged++
  const sshNs = (performance.now() - b) * 1e6 / n
  t.equal(tagged, n, 'only the sshd lines were tagged')
  t.comment(`classify: ${perLineNs.toFixed(0)} ns per ordinary line, ${sshNs.toFixed(0)} ns per sshd line`)
})
