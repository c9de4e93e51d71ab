// The Windows Event Log source: the PowerShell script it sends, the parser on
// the output that script produces (test/fixtures/winevent, in the shape the
// script's ConvertTo-Json -Compress lines take), and the source itself run
// against a stand-in for powershell.exe as a real child process.

import t from 'tap'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { LogEvent } from '../../protocol/messages.js'
import { parseWinEventOutput, winEventScript, winLevel, WinEventSource } from '../../agent/inputs/logs/winevent.js'
import type { WinEventSpec } from '../../agent/inputs/logs/config.js'
import { DEFAULT_LEVELS } from '../../agent/inputs/logs/logline.js'
import { waitFor } from '../helpers/procs.js'
import { pumpInto } from '../helpers/logs.js'

const fixtures = resolve(import.meta.dirname, '..', 'fixtures', 'winevent')

t.test('the script asks for UTF-8 output, records after the cursor, oldest first, per provider', async t => {
  const s = winEventScript({ channel: "O'Brien Log", providers: ['Application Error', 'TicketKiosk'] }, 48210)
  t.match(s, /\[Console\]::OutputEncoding = \[Text\.Encoding\]::UTF8/)
  t.match(s, /-LogName 'O''Brien Log'/, 'the channel is quoted for PowerShell')
  t.match(s, /EventRecordID>48210\) and \(Provider\[@Name='Application Error' or @Name='TicketKiosk'\]\)/)
  t.match(s, /-Oldest/)
  t.match(winEventScript({ channel: 'System', providers: [] }, undefined), /-MaxEvents 1/, 'the first start only asks for the newest record id')
})

t.test('parser: levels, providers, times, Japanese text, CRLF, junk lines', async t => {
  const out = parseWinEventOutput(readFileSync(join(fixtures, 'application.jsonl'), 'utf8') + 'WARNING: not json\r\n', 'Application')
  t.same(out.records.map(r => [r.id, r.level, r.source]), [
    [48211, 'info', 'winevent:Application/MsiInstaller'],
    [48212, 'error', 'winevent:Application/Application Error'],
    [48213, 'warning', 'winevent:Application/Microsoft-Windows-PrintService'],
    [48214, 'crit', 'winevent:Application/Microsoft-Windows-Kernel-Power'],
    [48215, 'info', 'winevent:Application/EventLog']
  ])
  t.equal(out.records[1]!.message, '[1000] 障害が発生しているアプリケーション名: TicketKiosk.exe、バージョン: 3.2.1.0\n例外コード: 0xc0000005')
  t.equal(out.records[0]!.t, Date.parse('2026-11-20T00:15:02.123Z'))
  t.equal(out.records[4]!.message, '[6005] ', 'an event without a message keeps its id')
  t.same(parseWinEventOutput(readFileSync(join(fixtures, 'first-run.txt'), 'utf8'), 'Application'), { last: 48210, records: [] })
  t.same([1, 2, 3, 4, 0, 5, undefined].map(winLevel), ['crit', 'error', 'warning', 'info', 'info', 'debug', 'info'])
})

t.test('source: starts at the newest record, then hands out each later record once, resuming from its cursor', async t => {
  const spec: WinEventSpec = {
    name: 'app', channel: 'Application', providers: [], command: join(fixtures, 'fake-powershell.mjs'), intervalMs: 200,
    levels: DEFAULT_LEVELS, defaultLevel: 'info', minLevel: 'warning', include: [], exclude: [], rateLimit: 0, burst: 1, tags: {}
  }
  const errors: unknown[] = []
  const events: LogEvent[] = []
  const pump = pumpInto(events)
  let src = new WinEventSource(spec, (_s, at) => at, Date.now(), err => errors.push(err))
  src.start(undefined)
  await waitFor(async () => { await pump(src); return events.length >= 3 }, 10_000, 100)
  t.same(events.map(e => e.level), ['error', 'warning', 'crit'], 'minLevel warning keeps error, warning and critical records')
  t.equal(src.cursor(), 48215, 'the cursor passes filtered records too')
  await src.close()
  src = new WinEventSource(spec, (_s, at) => at, Date.now(), err => errors.push(err))
  src.start(48213)
  await waitFor(async () => { await pump(src); return events.length >= 4 }, 10_000, 100)
  t.equal(events[3]!.message, '[41] The system has rebooted without cleanly shutting down first.')
  await src.close()
  t.same(errors, [])
})
