// Devices end to end with real processes: a kanshi-agent poller pings
// loopback, polls a real snmpd (interfaces) and receives a trap sent with
// snmptrap; the collector stores it all in a real influxd, each point with
// its device tag and the trap as a log event with source snmptrap:<device>.

import t from 'tap'
import { execFile } from 'node:child_process'
import { withInfluxd, query } from '../helpers/influxd.js'
import { waitFor } from '../helpers/procs.js'
import { makeStack } from '../helpers/stack.js'
import { freeUdpPort, startSnmpd } from '../helpers/snmpd.js'

const rows = async (url: string, q: string): Promise<unknown[][]> => (await query(url, 'kanshi', q)).results[0].series?.[0]?.values ?? []

t.test('ping, snmp interfaces and a trap reach InfluxDB through agent and collector', async t => {
  const influxd = await withInfluxd(t)
  const snmpd = await startSnmpd(t)
  const trapPort = await freeUdpPort()
  const trapCommunity = 'trap-' + Math.random().toString(36).slice(2, 10)
  const stack = await makeStack(t, {
    influx: { version: 1, url: influxd.url, db: 'kanshi' },
    agentId: 'poller-1',
    devices: true,
    inputs: [],
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
  t.notOk(agent.lines.some(l => l.includes(snmpd.community) || l.includes(trapCommunity)), 'no community in the agent\'s log')
})
