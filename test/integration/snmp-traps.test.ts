// snmpTraps: traps sent with Net-SNMP's snmptrap (v2c, v3 authPriv, v1) to the
// agent's receiver, built from agent.yaml through the input registry, become
// log events with source snmptrap:<device> and the trap's level; a trap with
// a wrong community is refused and counted, and its community never shown.

import t from 'tap'
import { execFile } from 'node:child_process'
import { checkAgentConfig } from '../../agent/config.js'
import { INPUTS } from '../../agent/inputs/registry.js'
import { LogInput } from '../../agent/inputs/logs/input.js'
import { TrapSource } from '../../agent/inputs/snmp/traps.js'
import type { LogEvent } from '../../protocol/messages.js'
import { PointAccumulator } from '../../agent/inputs/input.js'
import { freeUdpPort } from '../helpers/snmpd.js'
import { waitFor } from '../helpers/procs.js'

const env = { ...process.env, MIBS: '', MIBDIRS: '/nonexistent' }
function snmptrap (args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile('snmptrap', args, { env }, (err, _o, stderr) => err !== null ? reject(new Error(`snmptrap ${args.join(' ')}: ${stderr}`)) : resolve()))
}

t.test('v2c, v3 and v1 traps become events; a wrong community is refused', async t => {
  const port = await freeUdpPort()
  const community = 'trap-' + Math.random().toString(36).slice(2, 10)
  const user = { name: 'trapper', authKey: 'trap-auth-' + Math.random().toString(36).slice(2, 8), privKey: 'trap-priv-' + Math.random().toString(36).slice(2, 8) }
  process.env['KANSHI_TEST_TRAP_PRIV'] = user.privKey
  t.teardown(() => { delete process.env['KANSHI_TEST_TRAP_PRIV'] })
  const config = checkAgentConfig('/etc/kanshi/agent.yaml', {
    collector: { url: 'ws://127.0.0.1:1/v1/agent', token: 'x' },
    snmpTraps: {
      listen: `127.0.0.1:${port}`,
      communities: [community],
      users: [{ name: user.name, authProtocol: 'sha', authKey: user.authKey, privProtocol: 'aes', privKeyEnv: 'KANSHI_TEST_TRAP_PRIV' }],
      devices: { '127.0.0.1': 'core-switch' },
      levels: { '1.3.6.1.4.1.99999.0.7': 'crit' },
      redact: [{ preset: 'email' }]
    }
  })
  const made = await INPUTS['logs']!(config)
  t.same(made.map(i => i.name), ['logs'], 'snmpTraps alone makes the log input')
  const events: LogEvent[] = []
  const errors: string[] = []
  let source: TrapSource | undefined
  const input = new LogInput([], { pollIntervalMs: 100, onError: (_s, err) => errors.push(String((err as Error).message)) }, [(stamp, now, onError) => (source = new TrapSource(config.snmpTraps!, stamp, now, err => onError('snmptrap', err)))])
  input.attach({ enqueue: async (_p, ev) => { events.push(...ev); return 1 }, saveCursors: async () => {} }, undefined)
  t.teardown(async () => await input.close())
  await source!.listen()

  await snmptrap(['-v', '2c', '-c', community, `127.0.0.1:${port}`, '', '1.3.6.1.6.3.1.1.5.3',
    '1.3.6.1.2.1.2.2.1.1.2', 'i', '2', '1.3.6.1.2.1.2.2.1.7.2', 'i', '1', '1.3.6.1.2.1.2.2.1.8.2', 'i', '2', '1.3.6.1.2.1.2.2.1.2.2', 's', 'Gi0/2'])
  await snmptrap(['-v', '3', '-e', '0x80001f8880aabbccdd', '-u', user.name, '-l', 'authPriv', '-a', 'SHA', '-A', user.authKey, '-x', 'AES', '-X', user.privKey, `127.0.0.1:${port}`, '', '1.3.6.1.6.3.1.1.5.1'])
  await snmptrap(['-v', '2c', '-c', community, `127.0.0.1:${port}`, '', '1.3.6.1.4.1.99999.0.7', '1.3.6.1.4.1.99999.1.1', 's', 'fan 2 failed', '1.3.6.1.4.1.99999.1.3', 's', 'call yamada.taro@example.lg.jp'])
  await snmptrap(['-v', '1', '-c', community, `127.0.0.1:${port}`, '1.3.6.1.4.1.8072.3.2.10', '127.0.0.1', '6', '17', '', '1.3.6.1.4.1.99999.1.2', 'i', '5'])
  await snmptrap(['-v', '2c', '-c', 'wrong-' + community, `127.0.0.1:${port}`, '', '1.3.6.1.6.3.1.1.5.4'])
  await waitFor(async () => { await input.pollOnce(); return events.length >= 4 && errors.length >= 1 }, 10_000, 100)

  const byMessage = (re: RegExp) => events.find(e => re.test(e.message))
  const linkDown = byMessage(/^linkDown/)
  t.same([linkDown?.source, linkDown?.level], ['snmptrap:core-switch', 'warning'])
  t.equal(linkDown?.message, 'linkDown (1.3.6.1.6.3.1.1.5.3) from core-switch: ifIndex.2=2 ifAdminStatus.2=up(1) ifOperStatus.2=down(2) ifDescr.2="Gi0/2"')
  const cold = byMessage(/^coldStart/)
  t.same([cold?.source, cold?.level], ['snmptrap:core-switch', 'notice'], 'a v3 authPriv trap')
  const custom = byMessage(/99999\.0\.7/)
  t.equal(custom?.level, 'crit', 'snmpTraps.levels by OID')
  t.match(custom?.message, /^trap 1\.3\.6\.1\.4\.1\.99999\.0\.7 from core-switch: 1\.3\.6\.1\.4\.1\.99999\.1\.1="fan 2 failed" 1\.3\.6\.1\.4\.1\.99999\.1\.3="call [^"]+"$/)
  t.notMatch(custom?.message, /yamada\.taro@example\.lg\.jp/, 'snmpTraps.redact masked the address')
  const v1 = byMessage(/8072\.3\.2\.10\.0\.17/)
  t.ok(v1, 'a v1 enterprise trap gets the OID enterprise.0.specific')
  t.equal(events.filter(e => /linkUp/.test(e.message)).length, 0, 'the trap with a wrong community is not an event')
  t.match(errors.join('\n'), /refused a trap from 127\.0\.0\.1: unknown community/)
  t.notMatch(errors.join('\n'), community, 'the community it carried is not quoted')
  const acc = new PointAccumulator(Date.now())
  await input.gather(acc)
  t.match(acc.points.find(p => p.tags?.['source'] === 'snmptrap')?.f, { lines: 4, errors: 1, redacted: 1 }, 'log_input counts the trap events, the refused one and the redaction')
  t.same(source!.counts, { received: 4, refused: 1, dropped: 0 })
})

t.test('traps beyond the queue are dropped, counted and reported in one event', async t => {
  const port = await freeUdpPort()
  const config = checkAgentConfig('/etc/kanshi/agent.yaml', { collector: { url: 'ws://127.0.0.1:1/v1/agent', token: 'x' }, snmpTraps: { listen: `127.0.0.1:${port}`, communities: ['public-test'] } })
  let source: TrapSource | undefined
  const input = new LogInput([], { pollIntervalMs: 100, onError: () => {} }, [(stamp, now, onError) => (source = new TrapSource({ ...config.snmpTraps!, maxQueue: 2 }, stamp, now, err => onError('snmptrap', err)))])
  const events: LogEvent[] = []
  input.attach({ enqueue: async (_p, ev) => { events.push(...ev); return 1 }, saveCursors: async () => {} }, undefined)
  t.teardown(async () => await input.close())
  await source!.listen()
  const sent = 5
  for (let i = 1; i <= sent; i++) await snmptrap(['-v', '2c', '-c', 'public-test', `127.0.0.1:${port}`, '', '1.3.6.1.6.3.1.1.5.4', '1.3.6.1.2.1.2.2.1.1.' + i, 'i', String(i)])
  await waitFor(() => source!.counts.received === sent, 10_000, 50)
  await input.pollOnce()
  t.equal(events.filter(e => /^linkUp/.test(e.message)).length, 2, 'the queue held 2')
  t.same(events.filter(e => /dropped/.test(e.message)).map(e => [e.level, e.message]), [['warning', `kanshi: ${sent - 2} SNMP traps dropped: the queue of 2 was full`]])
  t.same(source!.counts, { received: sent, refused: 0, dropped: sent - 2 })
  const acc = new PointAccumulator(Date.now())
  await input.gather(acc)
  t.match(acc.points.find(p => p.tags?.['source'] === 'snmptrap')?.f, { lines: 3, dropped_rate_limit: sent - 2 }, 'log_input counts the drops')
})
