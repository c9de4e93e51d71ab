// A log file to an on-call mail, all real: Shift_JIS lines appended to a file
// the agent tails → log_event → the collector's log rule → a real SMTP server.
// The mail quotes the first matching lines, decoded.

import t from 'tap'
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import iconv from 'iconv-lite'
import { withSmtp } from '../helpers/smtp.js'
import { makeStack } from '../helpers/stack.js'
import { waitFor } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

t.test('three error lines in a Shift_JIS log within a minute → one mail quoting them', async t => {
  const smtp = await withSmtp(t)
  const rules = await tmpDir(t)
  writeFileSync(join(rules, 'logs.yaml'), JSON.stringify([{
    name: 'app_errors', type: 'log', level: ['crit', 'error'], count: 3, window: '1m', for: '0s', severity: 'critical',
    summary: { ja: '{{host}} {{source}} でエラー {{value}} 件', en: '{{host}} {{source}}: {{value}} errors' }
  }]))
  const stack = await makeStack(t, {
    influx: { url: undefined, embedded: { enabled: false } }, agentId: 'madoguchi-01', inputs: [],
    alerting: {
      rulesDir: rules,
      smtp: { host: '127.0.0.1', port: smtp.port, from: 'kanshi@example.jp', timeout: '2s' },
      receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }],
      routes: [{ receiver: 'oncall' }],
      groupWait: '0s', groupInterval: '1s', repeatInterval: '1h', publicUrl: 'http://127.0.0.1:1'
    },
    agent: { logPollInterval: '200ms', logs: [{ path: 'logs/app.log', encoding: 'shift_jis' }] }
  })
  mkdirSync(join(stack.dir, 'logs'))
  const f = join(stack.dir, 'logs', 'app.log')
  writeFileSync(f, iconv.encode('2026-11-23 08:00:00 INFO 起動しました\n', 'cp932'))
  await stack.startCollector()
  const agent = await stack.startAgent()
  await agent.waitForLine(l => l.includes('connected to collector'), 20_000)
  await new Promise(resolve => setTimeout(resolve, 600)) // startAt: end — the first read has happened
  const sjis = (s: string): Buffer => iconv.encode(s, 'cp932')
  appendFileSync(f, sjis('2026-11-23 09:00:01 INFO 住民票 発行 受付番号 101\n'))
  appendFileSync(f, sjis('2026-11-23 09:00:02 ERROR 住民票 発行失敗 受付番号 102: 印刷サーバ応答なし\n'))
  appendFileSync(f, sjis('2026-11-23 09:00:03 ERROR 住民票 発行失敗 受付番号 103: 印刷サーバ応答なし\n'))
  t.equal(smtp.mails.length, 0)
  appendFileSync(f, sjis('2026-11-23 09:00:04 エラー 証明書発行 異常終了 ①\n'))
  await waitFor(() => smtp.mails.length >= 1, 20_000, 100)
  const mail = smtp.mails[0]!
  t.equal(mail.subject, `[CRITICAL] madoguchi-01 ${f} でエラー 3 件`)
  t.match(mail.text, /該当ログ \(先頭\):/)
  t.match(mail.text, /\| 2026-11-23 09:00:02 ERROR 住民票 発行失敗 受付番号 102: 印刷サーバ応答なし/)
  t.match(mail.text, /\| 2026-11-23 09:00:04 エラー 証明書発行 異常終了 ①/)
  t.notMatch(mail.text, /起動しました|受付番号 101/, 'lines before the agent started and info lines are not quoted')
  await new Promise(resolve => setTimeout(resolve, 1500))
  t.equal(smtp.mails.length, 1, 'one mail for the burst')
})
