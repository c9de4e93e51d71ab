// A Nagios plugin's WARNING end to end, with real processes: the agent runs
// check_disk (thresholds forcing WARNING) as a command check, the collector
// stores status and perfdata in a real influxd and the default rule
// command_warning mails a warning with the plugin's message to a real SMTP server.

import t from 'tap'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeStack } from '../helpers/stack.js'
import { withInfluxd, query } from '../helpers/influxd.js'
import { withSmtp } from '../helpers/smtp.js'
import { waitFor } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

const CHECK_DISK = '/usr/lib/nagios/plugins/check_disk'
const skip = existsSync(CHECK_DISK) ? false : 'monitoring-plugins-basic is not installed (scripts/test.sh installs it)'

t.test('check_disk WARNING → service.status 1 with perfdata in influxd → one warning mail', { skip }, async t => {
  const influxd = await withInfluxd(t)
  const smtp = await withSmtp(t)
  // The default rules, with the command rules' `for: 1m` shortened so the test need not wait a minute.
  const rules = join(await tmpDir(t), 'rules')
  mkdirSync(rules)
  const defaults = readFileSync(fileURLToPath(new URL('../../alert-rules/default.yaml', import.meta.url)), 'utf8')
  const shortened = defaults.replace(/(- name: command_\w+\n(?:.+\n)*?\s+for: )1m/g, '$12s')
  t.equal(shortened.split('for: 2s').length - 1, 3, 'the three command rules, shortened')
  writeFileSync(join(rules, 'default.yaml'), shortened)
  const stack = await makeStack(t, {
    influx: { version: 1, url: influxd.url, db: 'kanshi' }, agentId: 'db01', site: '本庁舎', inputs: ['system'],
    alerting: {
      rulesDir: rules,
      smtp: { host: '127.0.0.1', port: smtp.port, from: 'kanshi@example.jp', timeout: '2s' },
      receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }],
      routes: [{ receiver: 'oncall' }],
      groupWait: '0s', groupInterval: '1s', repeatInterval: '1h'
    },
    agent: { checks: [{ name: 'root-disk', type: 'command', command: [CHECK_DISK, '-w', '100%', '-c', '0%', '-p', '/'], interval: '1s', timeout: '5s' }] }
  })
  await stack.startCollector()
  await stack.startAgent()
  await waitFor(() => smtp.mails.some(m => m.subject.includes('root-disk')), 40_000, 200)
  const mail = smtp.mails.find(m => m.subject.includes('root-disk'))!
  t.match(mail.subject, /^\[WARNING\] db01 root-disk 警告 \(WARNING\): DISK WARNING - free space: \//, 'the plugin\'s message is in the subject')
  let row: Record<string, unknown> = {}
  await waitFor(async () => {
    const r = await query(influxd.url, 'kanshi', "SELECT * FROM service WHERE host = 'db01' AND service = 'root-disk' ORDER BY time DESC LIMIT 1")
    const s = r.results[0].series?.[0]
    if (s === undefined) return false
    row = Object.fromEntries(s.columns.map((c: string, i: number) => [c, s.values[0][i]]))
    return true
  }, 20_000, 500)
  t.same([row['check'], row['status'], row['up'], row['site']], ['command', 1, 0, '本庁舎'])
  t.match(row['message'], /^DISK WARNING - free space: \//)
  t.ok(typeof row['/_bytes'] === 'number' && (row['/_bytes'] as number) > 0, `used bytes of / stored as "/_bytes": ${String(row['/_bytes'])}`)
  t.ok(typeof row['/_bytes_max'] === 'number' && (row['/_bytes_max'] as number) >= (row['/_bytes'] as number), 'and the file system size as its max')
  t.equal(smtp.mails.filter(m => m.subject.includes('root-disk')).length, 1, 'one mail')
})
