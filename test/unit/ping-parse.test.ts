// The ping check's readers on recorded outputs: iputils (C locale) and
// busybox on Linux, ping.exe on Windows in English and in Japanese (CP932
// bytes as the console writes them), and the result a run of them gives.

import t from 'tap'
import { readFileSync } from 'node:fs'
import { parseLinuxPing, parseWindowsPing } from '../../agent/inputs/checks/ping-parse.js'
import { pingArgs, pingResult, pingRunSeconds } from '../../agent/inputs/checks/ping.js'

const fx = (f: string, enc: BufferEncoding = 'utf8'): string => readFileSync(new URL(`../fixtures/checks/${f}`, import.meta.url)).toString(enc)

t.test('iputils and busybox summaries', async t => {
  const up = parseLinuxPing(fx('ping-linux-up.txt'))
  t.match(up, { sent: 3, received: 3 })
  t.ok(up!.rttAvgMs! > 0 && up!.rttMinMs! <= up!.rttAvgMs! && up!.rttAvgMs! <= up!.rttMaxMs!, 'min ≤ avg ≤ max')
  t.same(parseLinuxPing(fx('ping-linux-down.txt')), { sent: 3, received: 0 }, 'no rtt when nothing came back')
  t.same(parseLinuxPing(fx('ping-linux-partial.txt')), { sent: 5, received: 3, rttMinMs: 1.201, rttAvgMs: 2.502, rttMaxMs: 4.81 }, '"+2 errors" between received and loss')
  t.same(parseLinuxPing(fx('ping-busybox-up.txt')), { sent: 3, received: 3, rttMinMs: 0.412, rttAvgMs: 0.53, rttMaxMs: 0.701 })
  t.equal(parseLinuxPing(fx('ping-linux-unknown.txt')), undefined, 'no summary: unknown host')
})

t.test('ping.exe: English, Japanese in CP932, unreachable is not a reply', async t => {
  t.same(parseWindowsPing(fx('ping-win-en.txt', 'latin1'), 4), { sent: 4, received: 2, rttAvgMs: 2, rttMinMs: 1, rttMaxMs: 3 }, 'time<1ms counts as 1; the unreachable line is not a reply')
  t.same(parseWindowsPing(fx('ping-win-ja-cp932.txt', 'latin1'), 3), { sent: 3, received: 2, rttAvgMs: 6, rttMinMs: 5, rttMaxMs: 7 }, '応答 lines read through their ASCII parts')
  t.same(parseWindowsPing(fx('ping-win-ja-unreachable-cp932.txt', 'latin1'), 3), { sent: 3, received: 0 }, '宛先ホストに到達できません is no reply')
  t.same(parseWindowsPing(fx('ping-win-en-ipv6.txt', 'latin1'), 3), { sent: 3, received: 2, rttAvgMs: 1.5, rttMinMs: 1, rttMaxMs: 2 }, 'IPv6 replies carry no TTL; the summary line is not a reply')
})

t.test('results and command lines', async t => {
  t.same(pingResult('sw1', { sent: 4, received: 3, rttAvgMs: 1.23456, rttMaxMs: 2 }), { up: true, message: '3/4 replies from sw1, rtt avg 1.235 ms', fields: { loss_percent: 25, rtt_ms: 1.235, rtt_max_ms: 2 } })
  t.same(pingResult('sw1', { sent: 3, received: 0 }), { up: false, message: 'no reply from sw1 (3 probes, 100% loss)', fields: { loss_percent: 100 } })
  t.same(pingArgs({ host: '-oops', count: 3, timeoutMs: 5000 }, 'linux')[1].slice(-2), ['--', '-oops'], 'the host can never be read as an option')
  t.same(pingArgs({ host: 'sw1', count: 5, timeoutMs: 5000 }, 'win32'), ['ping.exe', ['-n', '5', '-w', '1000', 'sw1']])
  t.equal(pingRunSeconds(3, 'linux'), Math.ceil(2 * 0.2 + 1 + 1))
  t.equal(pingRunSeconds(3, 'win32'), 2 * 1 + 1 + 1, 'ping.exe: one probe a second')
})
