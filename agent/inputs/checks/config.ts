// agent.yaml checks: one schema for every check type, then per-type rules
// with errors that name the check and the key; builds the runnable checks.

import { dirname, resolve } from 'node:path'
import { Type, type StaticDecode } from '@sinclair/typebox'
import { ConfigError, DurationMs, OneOf } from '../../../common/config.js'
import type { ServiceCheckSpec } from './service.js'
import { httpCheck } from './http.js'
import { tcpCheck } from './tcp.js'
import { processCheck } from './process.js'
import { fileCheck } from './file.js'
import { printerCheck, systemdCheck, windowsServiceCheck } from './command.js'
import { pingCheck, pingRunSeconds } from './ping.js'
import { buildSnmp, deviceTags, DeviceCheckKeys, refuseDeviceKeys } from '../snmp/config.js'
import { snmpCheck } from '../snmp/check.js'
import { defenderCheck } from './defender.js'
import { KILL_GRACE_MS, PluginCheckKeys, buildBackupCheck, buildCommandCheck } from './plugin-config.js'
import type { CalendarOptions } from '../../../common/calendar.js'

const Dur = (def: string, min: number) => DurationMs({ default: def, min, description: 'a duration such as "30s"' })

export const CheckSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128, description: 'a check name (the service tag)' }),
  type: OneOf(['http', 'tcp', 'process', 'systemd', 'windows', 'printer', 'file', 'ping', 'snmp', 'defender', 'command', 'backup']),
  interval: Dur('30s', 1000),
  timeout: Dur('10s', 100),
  url: Type.Optional(Type.String({ pattern: '^https?://', description: 'an http:// or https:// URL' })),
  expectStatus: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { description: 'a list of HTTP status codes' })),
  bodyMatch: Type.Optional(Type.String({ description: 'a regular expression' })),
  certMinDays: Type.Optional(Type.Integer({ minimum: 0, description: 'a number of days' })),
  insecureSkipVerify: Type.Optional(Type.Boolean({ description: 'true or false' })),
  host: Type.Optional(Type.String({ minLength: 1, description: 'a host name or address' })),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'a TCP port' })),
  match: Type.Optional(Type.String({ minLength: 1, description: 'a process name' })),
  pattern: Type.Optional(Type.String({ description: 'a regular expression over the command line' })),
  min: Type.Optional(Type.Integer({ minimum: 0, description: 'a whole number' })),
  max: Type.Optional(Type.Integer({ minimum: 0, description: 'a whole number' })),
  unit: Type.Optional(Type.String({ minLength: 1, description: 'a systemd unit or Windows service name' })),
  printer: Type.Optional(Type.String({ minLength: 1, description: 'a printer name' })),
  path: Type.Optional(Type.String({ minLength: 1, description: 'a file path; * and ? allowed in the file name' })),
  maxAge: Type.Optional(DurationMs({ min: 1000, description: 'a duration such as "26h"' })),
  minBytes: Type.Optional(Type.Integer({ minimum: 0, description: 'a number of bytes' })),
  ...DeviceCheckKeys,
  maxSignatureAgeDays: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'a number of days (default 3)' })),
  maxScanAgeDays: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'a number of days' })),
  ...PluginCheckKeys
}, { additionalProperties: false })

export type CheckEntry = StaticDecode<typeof CheckSchema>

function regex (file: string, key: string, v: string): RegExp {
  try { return new RegExp(v) } catch (err) { throw new ConfigError(file, key, `expected a valid regular expression, got ${JSON.stringify(v)} (${(err as Error).message})`) }
}

/** checkLabel names a check in errors: checks.N(name). */
export const checkLabel = (c: { name: string }, i: number): string => `checks.${i}(${c.name})`

/** buildChecks turns decoded entries into runnable checks, naming file, check and key on a mistake. */
export function buildChecks (file: string, checks: readonly CheckEntry[], platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env, timezone = 'Asia/Tokyo', calendar: CalendarOptions = {}): ServiceCheckSpec[] {
  const names = new Set<string>()
  return checks.map((c, i) => {
    const at = (k: string): string => `${checkLabel(c, i)}.${k}`
    const need = <T>(v: T | undefined, k: string, what: string): T => {
      if (v === undefined) throw new ConfigError(file, at(k), `expected ${what} for a ${c.type} check, got missing`)
      return v
    }
    if (names.has(c.name)) throw new ConfigError(file, at('name'), `expected a unique check name, got "${c.name}" again`)
    names.add(c.name)
    refuseDeviceKeys(file, at, c, c.type)
    let check
    let tags: Record<string, string> | undefined
    switch (c.type) {
      case 'http': check = httpCheck({ url: need(c.url, 'url', 'a URL'), ...(c.expectStatus !== undefined ? { expectStatus: c.expectStatus } : {}), ...(c.bodyMatch !== undefined ? { bodyMatch: regex(file, at('bodyMatch'), c.bodyMatch) } : {}), ...(c.certMinDays !== undefined ? { certMinDays: c.certMinDays } : {}), ...(c.insecureSkipVerify !== undefined ? { insecureSkipVerify: c.insecureSkipVerify } : {}) }); break
      case 'tcp': check = tcpCheck(need(c.host, 'host', 'a host'), need(c.port, 'port', 'a port')); break
      case 'process': {
        if (c.match === undefined && c.pattern === undefined) throw new ConfigError(file, at('match'), 'expected match (a process name) or pattern (a command-line regex) for a process check, got neither')
        check = processCheck({ ...(c.match !== undefined ? { name: c.match } : {}), ...(c.pattern !== undefined ? { pattern: regex(file, at('pattern'), c.pattern) } : {}), min: c.min ?? 1, ...(c.max !== undefined ? { max: c.max } : {}), platform })
        break
      }
      case 'systemd': check = systemdCheck(need(c.unit, 'unit', 'a unit name such as nginx.service')); break
      case 'windows': check = windowsServiceCheck(need(c.unit, 'unit', 'a Windows service name')); break
      case 'printer': check = printerCheck(need(c.printer, 'printer', 'a printer name'), platform); break
      case 'ping': {
        const count = c.count ?? 3
        const runS = pingRunSeconds(count, platform)
        if (runS * 1000 >= c.timeout) throw new ConfigError(file, at('timeout'), `expected more than ${runS}s for ${count} probes, got ${c.timeout}ms`)
        check = pingCheck({ host: need(c.host, 'host', 'a host name or address'), count, timeoutMs: c.timeout, platform })
        tags = deviceTags(c)
        break
      }
      case 'snmp': check = snmpCheck(buildSnmp(file, at, c, env)); tags = deviceTags(c); break
      case 'defender':
        if (platform !== 'win32') throw new ConfigError(file, at('type'), `expected a check this platform can run: defender (Get-MpComputerStatus) runs only on Windows, this is ${platform}`)
        check = defenderCheck({ maxSignatureAgeDays: c.maxSignatureAgeDays ?? 3, maxScanAgeDays: c.maxScanAgeDays })
        break
      case 'command': check = buildCommandCheck(file, c, at); break
      case 'backup': check = buildBackupCheck(file, c, at, timezone, calendar); break
      default: check = fileCheck({ path: resolve(dirname(resolve(file)), need(c.path, 'path', 'a file path')), maxAgeMs: need(c.maxAge, 'maxAge', 'a duration such as "26h"'), ...(c.minBytes !== undefined ? { minBytes: c.minBytes } : {}) })
    }
    return { name: c.name, type: c.type === 'file' ? 'job' : c.type, intervalMs: c.interval, timeoutMs: c.type === 'command' ? c.timeout + KILL_GRACE_MS : c.timeout, check, ...(tags !== undefined ? { tags } : {}) }
  })
}
