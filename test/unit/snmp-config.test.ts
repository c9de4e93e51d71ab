// agent.yaml for ping, snmp and snmpTraps: defaults, device tags, and errors
// that name the check and the key and never show a community or a key; and
// traps written as events (names, levels, varbinds).

import t from 'tap'
import { checkAgentConfig } from '../../agent/config.js'
import { readFileSync } from 'node:fs'
import { formatTrap, objectName, v1TrapOid } from '../../agent/inputs/snmp/trap-format.js'
import { DeviceCheckKeys, SnmpTrapsSchema } from '../../agent/inputs/snmp/config.js'

const FILE = '/etc/kanshi/agent.yaml'
const base = { collector: { url: 'ws://127.0.0.1:1/v1/agent', token: 'x' } }
const load = (extra: object, env: NodeJS.ProcessEnv = {}) => checkAgentConfig(FILE, { ...base, ...extra }, env)
const check = (c: object, env: NodeJS.ProcessEnv = {}) => load({ checks: [{ name: 'sw1', ...c }] }, env)
const SECRET = 'Zq9-very-secret-community'

t.test('ping and snmp checks: defaults and device tags', async t => {
  const ping = check({ type: 'ping', host: '192.0.2.1' }).checks[0]!
  t.same([ping.type, ping.tags], ['ping', { device: 'sw1', host: 'sw1', role: 'device' }])
  const snmp = check({ type: 'snmp', host: '192.0.2.1', community: SECRET, preset: 'interfaces', device: 'core-switch', role: 'switch', site: 'honcho', parent: 'router-1' }).checks[0]!
  t.same(snmp.tags, { device: 'core-switch', host: 'core-switch', role: 'switch', site: 'honcho', parent: 'router-1' })
  t.equal(snmp.type, 'snmp')
  const v3 = check({ type: 'snmp', host: 'ups1', version: 3, user: 'kanshi', authKey: 'auth-pass-1', privKeyEnv: 'UPS_PRIV', preset: 'ups' }, { UPS_PRIV: 'priv-pass-1' })
  t.equal(v3.checks.length, 1, 'version 3 as a YAML number; privKey from the environment')
  t.equal(check({ type: 'snmp', host: 'h', community: 12345 }).checks.length, 1, 'a numeric community is a community')
})

t.test('errors name the check and key, and say what was expected', async t => {
  const cases: Array<[object, RegExp]> = [
    [{ type: 'snmp', host: 'h' }, /checks\.0\(sw1\)\.community: expected a community \(or communityEnv\) for SNMP v2c, got missing/],
    [{ type: 'snmp', community: 'c' }, /checks\.0\(sw1\)\.host: expected a host/],
    [{ type: 'snmp', host: 'h', version: 1, community: 'c' }, /version: expected 2c or 3 \(SNMPv1 is not supported\), got 1/],
    [{ type: 'snmp', host: 'h', version: '3', user: 'u', authKey: 'auth-pass-1' }, /checks\.0\(sw1\)\.privKey: expected a privKey \(or privKeyEnv\) for securityLevel authPriv, got missing/],
    [{ type: 'snmp', host: 'h', version: '3', user: 'u', securityLevel: 'authNoPriv' }, /authKey: expected an authKey \(or authKeyEnv\) for securityLevel authNoPriv/],
    [{ type: 'snmp', host: 'h', version: '3', authKey: 'auth-pass-1', privKey: 'priv-pass-1' }, /user: expected a user for SNMP v3/],
    [{ type: 'snmp', host: 'h', version: '3', user: 'u', authKey: 'short', privKey: 'priv-pass-1' }, /authKey: expected at least 8 characters \(RFC 3414\), got 5$/],
    [{ type: 'snmp', host: 'h', community: 'c', preset: 'switch' }, /checks\.0\.preset: expected one of system, interfaces, ups, got "switch"/],
    [{ type: 'snmp', host: 'h', community: 'c', oids: [{ oid: 'IF-MIB::ifInOctets.1', name: 'x' }] }, /oids\.0\.oid: expected a numeric OID such as 1\.3\.6\.1\.2\.1\.1\.3\.0 \(MIB names are not resolved\), got "IF-MIB::ifInOctets\.1"/],
    [{ type: 'snmp', host: 'h', community: 'c', oids: [{ oid: '1.3.6.1.2.1.1.3.0', name: 'a' }, { oid: '1.3.6.1.2.1.1.5.0', name: 'a', type: 'string' }] }, /oids\.1\.name: expected a unique name, got "a" twice/],
    [{ type: 'snmp', host: 'h', communityEnv: 'NOPE' }, /communityEnv: expected the environment variable NOPE to hold the community, got it unset or empty/],
    [{ type: 'snmp', host: 'h', community: 'c', interfaces: ['Gi*'] }, /interfaces: expected interfaces only with preset: interfaces/],
    [{ type: 'http', url: 'http://x/', community: 'c' }, /checks\.0\(sw1\)\.community: expected no community for a http check \(it applies to snmp checks\)/],
    [{ type: 'ping' }, /checks\.0\(sw1\)\.host: expected a host name or address for a ping check, got missing/],
    [{ type: 'ping', host: 'h', count: 20, timeout: '3s' }, /timeout: expected more than 6s for 20 probes, got 3000ms/]
  ]
  for (const [c, re] of cases) t.throws(() => check(c), re, JSON.stringify(c))
})

t.test('a secret in a config error is never shown', async t => {
  const errors: string[] = []
  for (const c of [{ type: 'snmp', host: 'h', community: [SECRET] }, { type: 'snmp', host: 'h', community: { x: SECRET } }, { type: 'snmp', host: 'h', version: '3', user: 'u', authKey: [SECRET], privKey: 'priv-pass-1' }]) {
    try { check(c) } catch (err) { errors.push((err as Error).message) }
  }
  try { load({ snmpTraps: { listen: '127.0.0.1:9162', communities: [{ a: SECRET }] } }) } catch (err) { errors.push((err as Error).message) }
  t.equal(errors.length, 4)
  for (const e of errors) {
    t.notMatch(e, SECRET)
    t.match(e, /not shown: it is a secret/)
  }
})

t.test('snmpTraps: listen, communities from the environment, users, levels', async t => {
  const c = load({ snmpTraps: { listen: '0.0.0.0:162', communitiesEnv: 'TRAP_COMMUNITIES', users: [{ name: 'trap', authKey: 'auth-pass-1', privKey: 'priv-pass-1' }], devices: { '192.0.2.1': 'core-switch' }, levels: { linkUp: 'info', '.1.3.6.1.4.1.9.9.41.2.0.1': 'error' } } }, { TRAP_COMMUNITIES: 'one, two' })
  t.match(c.snmpTraps, { host: '0.0.0.0', port: 162, communities: ['one', 'two'], users: [{ name: 'trap', level: 'authPriv', authProtocol: 'sha', privProtocol: 'aes' }], devices: { '192.0.2.1': 'core-switch' }, trapLevels: { linkUp: 'info', '1.3.6.1.4.1.9.9.41.2.0.1': 'error' }, rateLimit: 100 })
  t.throws(() => load({ snmpTraps: { listen: '0.0.0.0:162' } }), /snmpTraps\.communities: expected at least one community or v3 user/)
  t.throws(() => load({ snmpTraps: { listen: '162', communities: ['c'] } }), /snmpTraps\.listen: expected host:port/)
  t.throws(() => load({ snmpTraps: { listen: 'h:1', communities: ['c'], levels: { 'not an oid': 'info' } } }), /snmpTraps\.levels\.not an oid: expected a numeric OID/)
  t.equal(load({}).snmpTraps, undefined)
})

t.test('traps as events', async t => {
  t.same(formatTrap('1.3.6.1.6.3.1.1.5.3', [{ oid: '1.3.6.1.2.1.1.3.0', value: 100 }, { oid: '1.3.6.1.6.3.1.1.4.1.0', value: '1.3.6.1.6.3.1.1.5.3' }, { oid: '1.3.6.1.2.1.2.2.1.8.7', value: 7 }], 'sw1'),
    { name: 'linkDown', level: 'warning', message: 'linkDown (1.3.6.1.6.3.1.1.5.3) from sw1: ifOperStatus.7=lowerLayerDown(7)' })
  t.equal(formatTrap('1.3.6.1.2.1.33.2.1', [], 'ups1').level, 'crit', 'UPS on battery')
  t.equal(formatTrap('1.3.6.1.4.1.1.2', [], 'x').level, 'warning', 'an unknown trap: warning')
  t.equal(formatTrap('1.3.6.1.6.3.1.1.5.4', [], 'x', { linkUp: 'info' }).level, 'info', 'levels by name')
  t.equal(objectName('1.3.6.1.2.1.31.1.1.1.1.12'), 'ifName.12')
  t.equal(objectName('1.3.6.1.4.1.9.1'), '1.3.6.1.4.1.9.1')
  t.equal(v1TrapOid('1.3.6.1.4.1.9', 2, 0), '1.3.6.1.6.3.1.1.5.3', 'generic 2 = linkDown')
  t.equal(v1TrapOid('1.3.6.1.4.1.9', 6, 17), '1.3.6.1.4.1.9.0.17')
})

t.test('docs/configuration.md has a row for every device and snmpTraps key, with its default', async t => {
  const md = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')
  const rows = new Map<string, string>()
  for (const m of md.matchAll(/^\| `([^`]+)` \|[^|]*\| ([^|]*) \|/gm)) rows.set(m[1]!, m[2]!)
  const keys = [...Object.keys(DeviceCheckKeys).map(k => [`checks[].${k}`, undefined] as const), ...Object.entries(SnmpTrapsSchema.properties).map(([k, s]) => [`snmpTraps.${k}`, (s as { default?: unknown }).default] as const)]
  for (const [key, def] of keys) {
    const row = rows.get(key)
    t.ok(row !== undefined, `${key} has a row`)
    if (def !== undefined && row !== undefined) t.ok(row.includes(`\`${Array.isArray(def) ? `[${def.join(', ')}]` : typeof def === 'object' ? JSON.stringify(def) : String(def)}\``), `${key}: default shown in "${row.trim()}"`)
  }
  t.ok(rows.has('snmpTraps'), 'snmpTraps itself')
})
