// Devices end to end with real processes: a kanshi-agent poller pings
// loopback, polls a real snmpd (interfaces) and receives a trap sent with
// snmptrap; the collector stores it all in a real influxd, each point with
// its device tag and the trap as a log event with source snmptrap:<device>
// carrying the device's identity, on which the trap rule of docs/devices.md
// section 5 mails naming the device.

import t from 'tap'
import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { withInfluxd, query } from '../helpers/influxd.js'
import { waitFor } from '../helpers/procs.js'
import { makeStack } from '../helpers/stack.js'
import { freeUdpPort, IF_OPER_LO, startSnmpd } from '../helpers/snmpd.js'
import { runReport } from '../helpers/report-cli.js'
import { sheetRows } from '../helpers/report-month.js'
import { withSmtp } from '../helpers/smtp.js'
import { tmpDir } from '../helpers/tmp.js'

const rows = async (url: string, q: string): Promise<unknown[][]> => (await query(url, 'kanshi', q)).results[0].series?.[0]?.values ?? []

/** alerting to the test's SMTP server: one receiver (noc, English), every alert routed to it, mailed at once. */
function nocAlerting (rulesDir: string, smtpPort: number): Record<string, unknown> {
  return {
    rulesDir,
    smtp: { host: '127.0.0.1', port: smtpPort, from: 'kanshi@example.jp', timeout: '2s' },
    receivers: [{ name: 'noc', email: ['noc@example.jp'], locale: 'en' }],
    routes: [{ receiver: 'noc' }],
    groupWait: '0s', groupInterval: '1s', repeatInterval: '1h'
  }
}

t.test('ping, snmp interfaces and a trap reach InfluxDB through agent and collector', async t => {
  const influxd = await withInfluxd(t)
  const snmpd = await startSnmpd(t)
  const trapPort = await freeUdpPort()
  const trapCommunity = 'trap-' + Math.random().toString(36).slice(2, 10)
  const smtp = await withSmtp(t)
  // The default rules and the trap rule exactly as docs/devices.md section 5 shows it.
  const rules = join(await tmpDir(t), 'rules')
  mkdirSync(rules)
  const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url))
  copyFileSync(root('alert-rules/default.yaml'), join(rules, 'default.yaml'))
  const docRule = /```yaml\n(\s*- name: switch_link_down\n[\s\S]*?)```/.exec(readFileSync(root('docs/devices.md'), 'utf8'))
  t.ok(docRule, 'docs/devices.md has the trap rule')
  writeFileSync(join(rules, 'traps.yaml'), docRule![1]!.split('\n').map(l => l.replace(/^ {2}/, '')).join('\n'))
  const stack = await makeStack(t, {
    influx: { version: 1, url: influxd.url, db: 'kanshi' },
    agentId: 'poller-1',
    devices: true,
    inputs: [],
    alerting: nocAlerting(rules, smtp.port),
    agent: {
      logPollInterval: '200ms',
      checks: [
        { name: 'lab-switch', type: 'ping', host: '127.0.0.1', interval: '1s', timeout: '5s', role: 'switch', site: 'honcho' },
        { name: 'lab-switch-if', type: 'snmp', host: '127.0.0.1', port: snmpd.port, device: 'lab-switch', role: 'switch', communityEnv: 'KANSHI_TEST_SNMP_COMMUNITY', preset: 'interfaces', interval: '1s', timeout: '5s' }
      ],
      snmpTraps: { listen: `127.0.0.1:${trapPort}`, communities: [trapCommunity], devices: { '127.0.0.1': 'lab-switch' } }
    }
  })
  await stack.startCollector()
  const agent = await stack.startAgent({ KANSHI_TEST_SNMP_COMMUNITY: snmpd.community })
  await agent.waitForLine(l => l.includes('connected to collector'), 20_000)
  await new Promise<void>((resolve, reject) => execFile('snmptrap', ['-v', '2c', '-c', trapCommunity, `127.0.0.1:${trapPort}`, '', '1.3.6.1.6.3.1.1.5.3', '1.3.6.1.2.1.2.2.1.1.9', 'i', '9'], { env: snmpd.env }, err => err !== null ? reject(err) : resolve()))

  await waitFor(async () => (await rows(influxd.url, "SELECT rx_bytes_per_sec FROM snmp_if WHERE device = 'lab-switch' AND ifname = 'lo'")).length >= 1, 30_000, 500)
  const ping = await rows(influxd.url, "SELECT up, rtt_ms, loss_percent FROM service WHERE device = 'lab-switch' AND \"check\" = 'ping'")
  t.ok(ping.length >= 1, `${ping.length} ping results`)
  t.same(ping[0]!.slice(1, 2), [1], 'ping up')
  t.equal(ping[0]![3], 0, 'loss 0%')
  const snmp = await rows(influxd.url, "SELECT up, uptime_s FROM service WHERE device = 'lab-switch' AND \"check\" = 'snmp'")
  t.equal(snmp[0]?.[1], 1, 'snmp reachability up')
  const devices = await query(influxd.url, 'kanshi', 'SHOW TAG VALUES FROM snmp_if WITH KEY = "device"')
  t.same(devices.results[0].series[0].values.map((v: string[]) => v[1]), ['lab-switch'], 'snmp_if carries the device tag')
  // The collector keeps a device's own identity (agents[].devices allows it) and names the poller.
  const who = await query(influxd.url, 'kanshi', 'SHOW TAG VALUES FROM snmp_if WITH KEY IN ("host", "poller", "role")')
  t.same(Object.fromEntries(who.results[0].series[0].values as Array<[string, string]>), { host: 'lab-switch', poller: 'poller-1', role: 'switch' }, 'host = the device, poller = the agent, role from the check')
  await waitFor(async () => (await rows(influxd.url, "SELECT message FROM \"kanshi_logs\".\"log_event\" WHERE source = 'snmptrap:lab-switch'")).length >= 1, 20_000, 500)
  const trap = await rows(influxd.url, "SELECT message, level FROM \"kanshi_logs\".\"log_event\" WHERE source = 'snmptrap:lab-switch'")
  t.same(trap[0]!.slice(1), ['linkDown (1.3.6.1.6.3.1.1.5.3) from lab-switch: ifIndex.9=9', 'warning'])
  // The trap is the device's event: host = the device, its checks' role and site, the poller named.
  const trapWho = await query(influxd.url, 'kanshi', "SELECT message, host, poller, role, site FROM \"kanshi_logs\".\"log_event\" WHERE source = 'snmptrap:lab-switch'")
  t.same(trapWho.results[0].series[0].values[0].slice(2), ['lab-switch', 'poller-1', 'switch', 'honcho'], 'the trap carries the device identity, not the poller\'s')
  await waitFor(() => smtp.mails.some(m => m.subject.includes('link down')), 20_000, 200)
  const mails = smtp.mails.filter(m => m.subject.includes('link down'))
  t.equal(mails.length, 1, 'one trap mail')
  t.equal(mails[0]!.subject, '[WARNING] snmptrap:lab-switch link down')
  t.match(mails[0]!.text, /^ {2}Host: lab-switch \(Site: honcho\)$/m, 'the trap rule\'s incident is the device\'s (its site), not the poller\'s')
  t.match(mails[0]!.text, /linkDown \(1\.3\.6\.1\.6\.3\.1\.1\.5\.3\) from lab-switch/, 'with the trap as the matching line')
  t.notOk(agent.lines.some(l => l.includes(snmpd.community) || l.includes(trapCommunity)), 'no community in the agent\'s log')
})

// "Done when", sentence 1: a device with only SNMP (no ping check) is up in host_up, is a row of
// the NOC devices table, mails when its interface goes down, and is in the monthly availability.
t.test('an SNMP-only device: host_up, the NOC table, interface down mails, monthly availability', async t => {
  const influxd = await withInfluxd(t)
  const snmpd = await startSnmpd(t, { overrides: { [IF_OPER_LO]: 1 } })
  const smtp = await withSmtp(t)
  const rules = join(await tmpDir(t), 'rules')
  mkdirSync(rules)
  copyFileSync(fileURLToPath(new URL('../../alert-rules/default.yaml', import.meta.url)), join(rules, 'default.yaml'))
  const stack = await makeStack(t, {
    influx: { version: 1, url: influxd.url, db: 'kanshi' },
    agentId: 'poller-2',
    site: 'honcho',
    devices: ['lab-*'],
    inputs: [],
    alerting: nocAlerting(rules, smtp.port),
    // the month counted all day, so the report has the device whatever the hour the test runs
    collector: { report: { serviceHours: { days: 'all', hours: [] } } },
    agent: {
      checks: [{ name: 'lab-router', type: 'snmp', host: '127.0.0.1', port: snmpd.port, role: 'router', communityEnv: 'KANSHI_TEST_SNMP_COMMUNITY', preset: 'interfaces', interfaces: ['lo'], interval: '1s', timeout: '5s' }]
    }
  })
  await stack.startCollector()
  await stack.startAgent({ KANSHI_TEST_SNMP_COMMUNITY: snmpd.community })

  // Up by SNMP alone (the collector's host_up for a device without ping), with its poller.
  const upRows = (): Promise<unknown[][]> => rows(influxd.url, "SELECT up FROM host_up WHERE host = 'lab-router' AND poller = 'poller-2'")
  await waitFor(async () => (await upRows()).length >= 2, 20_000, 250)
  t.same([...new Set((await upRows()).map(r => r[1]))], [1], 'host_up = 1 from the SNMP reachability')
  await waitFor(async () => (await rows(influxd.url, "SELECT oper_up FROM snmp_if WHERE host = 'lab-router' AND ifname = 'lo'")).length >= 1, 20_000, 250)

  // The NOC dashboard's devices table, its query as Grafana runs it.
  const noc = JSON.parse(readFileSync(fileURLToPath(new URL('../../dashboards/noc.json', import.meta.url)), 'utf8')) as { panels: Array<{ title: string, targets?: Array<{ query: string }> }> }
  const table = noc.panels.find(p => p.title.startsWith('Devices'))!
  const res = await query(influxd.url, 'kanshi', table.targets![0]!.query.replace(/\$timeFilter/g, 'time > now() - 1h'))
  const row = (res.results[0].series as Array<{ tags: Record<string, string>, columns: string[], values: unknown[][] }>).find(s => s.tags['host'] === 'lab-router')
  t.ok(row, 'the NOC devices table has the SNMP-only device')
  t.same([row?.tags['site'], row?.tags['poller'], row?.tags['check'], row?.values[0]![row.columns.indexOf('up')]], ['honcho', 'poller-2', 'snmp', 1])

  // lo goes down (administratively still up): interface_down (count 2) mails once, naming device and port.
  t.same(smtp.mails.filter(m => m.subject.includes('lab-router')).map(m => m.subject), [], `no mail about the device while lo is up (mails: ${smtp.mails.map(m => m.subject).join(' | ')})`)
  await snmpd.set(IF_OPER_LO, 2)
  await waitFor(() => smtp.mails.some(m => m.subject.includes('interface lo')), 20_000, 200)
  const down = smtp.mails.filter(m => m.subject.includes('interface lo'))
  t.equal(down.length, 1, 'one interface mail')
  t.equal(down[0]!.subject, '[CRITICAL] Device lab-router interface lo is down (administratively up)')
  t.same(smtp.mails.filter(m => /not answering|応答/.test(m.subject)), [], 'the device itself is not down')

  // The monthly availability of the month now running: a row of kind device, never down.
  const month = new Date(Date.now() + 9 * 3_600_000).toISOString().slice(0, 7)
  const out = join(stack.dir, 'report')
  const r = await runReport(['--month', month, '--out', out, '--config', join(stack.dir, 'collector.yaml'), '--no-pdf', '--lang', 'en'])
  t.equal(r.code, 0, `kanshi-report exit 0 (stderr: ${r.stderr})`)
  const all = await sheetRows(join(out, 'report.xlsx'), 'Availability')
  const av = all.filter(a => a['Host'] === 'lab-router' && a['Kind'] === 'device')
  t.equal(av.length, 1, `one device row for lab-router (rows: ${all.map(a => `${String(a['Host'])}/${String(a['Kind'])}`).join(', ')})`)
  t.ok(Number(av[0]?.['Measured min']) > 0, `measured minutes: ${String(av[0]?.['Measured min'])}`)
  t.equal(Number(av[0]?.['Down min']), 0, 'never down: its SNMP answered throughout')
})
