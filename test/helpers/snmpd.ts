// A real Net-SNMP snmpd for tests: a temp config listening on a free loopback
// UDP port with a v2c read community, a read-write community (to change the
// overridden UPS-MIB values mid-test) and a v3 authPriv user (SHA/AES).
// Debian: apt-get install snmpd snmp (scripts/test.sh does).

import type { Test } from 'tap'
import { spawn, execFile } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { tmpDir } from './tmp.js'

export interface Snmpd {
  port: number
  community: string
  rwCommunity: string
  user: { name: string, authKey: string, privKey: string }
  sysName: string
  sysLocation: string
  /** set writes an overridden object with snmpset (type i: integer) */
  set(oid: string, value: number): Promise<void>
  stop(): Promise<void>
  /** env for the net-snmp command-line tools: no MIB loading noise */
  env: NodeJS.ProcessEnv
}

/** freeUdpPort asks the OS for a UDP port that is free now. */
export async function freeUdpPort (): Promise<number> {
  const s = createSocket('udp4')
  await new Promise<void>(resolve => s.bind(0, '127.0.0.1', resolve))
  const port = s.address().port
  await new Promise<void>(resolve => s.close(() => resolve()))
  return port
}

/** The UPS-MIB objects snmpd serves (override -rw), with their starting values. */
export const UPS_START: Readonly<Record<string, number>> = {
  '1.3.6.1.2.1.33.1.2.1.0': 2, // upsBatteryStatus: batteryNormal
  '1.3.6.1.2.1.33.1.2.2.0': 0, // upsSecondsOnBattery
  '1.3.6.1.2.1.33.1.2.3.0': 45, // upsEstimatedMinutesRemaining
  '1.3.6.1.2.1.33.1.2.4.0': 100, // upsEstimatedChargeRemaining
  '1.3.6.1.2.1.33.1.4.1.0': 3 // upsOutputSource: normal
}

/** ifOperStatus of ifIndex 1 (lo), overridable so a test can take the interface down with set(). */
export const IF_OPER_LO = '1.3.6.1.2.1.2.2.1.8.1'

/**
 * startSnmpd starts snmpd; teardown stops it. withUps adds the UPS-MIB objects; overrides serves
 * more objects (integers) that set() changes, e.g. { [IF_OPER_LO]: 1 }.
 */
export async function startSnmpd (t: Test, o: { withUps?: boolean, overrides?: Record<string, number> } = {}): Promise<Snmpd> {
  const dir = await tmpDir(t)
  const persist = join(dir, 'persist')
  await mkdir(persist)
  const port = await freeUdpPort()
  const s = { community: 'ro-' + Math.random().toString(36).slice(2, 10), rwCommunity: 'rw-' + Math.random().toString(36).slice(2, 10), user: { name: 'kanshi', authKey: 'auth-pass-' + Math.random().toString(36).slice(2, 8), privKey: 'priv-pass-' + Math.random().toString(36).slice(2, 8) }, sysName: 'test-switch-01', sysLocation: 'サーバ室 3F' }
  const conf = [
    `agentAddress udp:127.0.0.1:${port}`,
    `rocommunity ${s.community} 127.0.0.1`,
    `rwcommunity ${s.rwCommunity} 127.0.0.1`,
    `createUser ${s.user.name} SHA "${s.user.authKey}" AES "${s.user.privKey}"`,
    `rouser ${s.user.name} priv`,
    `sysName ${s.sysName}`,
    `sysLocation ${s.sysLocation}`,
    ...Object.entries({ ...(o.withUps === true ? UPS_START : {}), ...o.overrides }).map(([oid, v]) => `override -rw ${oid} integer ${v}`)
  ].join('\n') + '\n'
  const file = join(dir, 'snmpd.conf')
  await writeFile(file, conf, { mode: 0o600 })
  const env = { ...process.env, SNMP_PERSISTENT_DIR: persist, MIBS: '', MIBDIRS: persist }
  const child = spawn('snmpd', ['-f', '-Lo', '-C', '-c', file], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  child.once('error', err => { out += `\nspawn snmpd: ${err.message} (apt-get install snmpd snmp)` })
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGTERM'); await exited }
  }
  t.teardown(stop)
  const snmpd: Snmpd = {
    port, env, ...s,
    stop,
    set: (oid, value) => new Promise((resolve, reject) => {
      execFile('snmpset', ['-v2c', '-c', s.rwCommunity, `127.0.0.1:${port}`, oid, 'i', String(value)], { env }, err => err !== null ? reject(err) : resolve())
    })
  }
  // Ready when it answers a GET of sysName.
  const end = Date.now() + 15_000
  for (;;) {
    const ok = await new Promise<boolean>(resolve => execFile('snmpget', ['-v2c', '-c', s.community, '-t', '0.3', '-r', '0', `127.0.0.1:${port}`, '1.3.6.1.2.1.1.5.0'], { env }, err => resolve(err === null)))
    if (ok) return snmpd
    if (child.exitCode !== null || Date.now() > end) throw new Error(`snmpd did not start on udp 127.0.0.1:${port}:\n${out.slice(-2000)}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}
