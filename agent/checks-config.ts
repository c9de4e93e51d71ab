// agent.yaml checks: one schema for every check type, then per-type rules
// with errors that name the check and the key; builds the runnable checks.

import { dirname, resolve } from 'node:path'
import { Type, type Static } from '@sinclair/typebox'
import { ConfigError, durationAt } from '../common/config.js'
import type { ServiceCheckSpec } from './inputs/service.js'
import { httpCheck } from './inputs/checks/http.js'
import { tcpCheck } from './inputs/checks/tcp.js'
import { processCheck } from './inputs/checks/process.js'
import { fileCheck } from './inputs/checks/file.js'
import { printerCheck, systemdCheck, windowsServiceCheck } from './inputs/checks/command.js'

const Dur = (def: string) => Type.Union([Type.String(), Type.Number()], { default: def, description: 'a duration such as "30s"' })

export const CheckSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128, description: 'a check name (the service tag)' }),
  type: Type.Union(['http', 'tcp', 'process', 'systemd', 'windows', 'printer', 'file'].map(t => Type.Literal(t)), { description: 'one of http, tcp, process, systemd, windows, printer, file' }),
  interval: Dur('30s'),
  timeout: Dur('10s'),
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
  maxAge: Type.Optional(Type.Union([Type.String(), Type.Number()], { description: 'a duration such as "26h"' })),
  minBytes: Type.Optional(Type.Integer({ minimum: 0, description: 'a number of bytes' }))
}, { additionalProperties: false })

export type CheckConfig = Static<typeof CheckSchema>

function regex (file: string, key: string, v: string): RegExp {
  try { return new RegExp(v) } catch (err) { throw new ConfigError(file, key, `expected a valid regular expression, got ${JSON.stringify(v)} (${(err as Error).message})`) }
}

/** buildChecks turns checked entries into runnable checks, naming file, check and key on a mistake. */
export function buildChecks (file: string, checks: readonly CheckConfig[], platform: NodeJS.Platform = process.platform): ServiceCheckSpec[] {
  const names = new Set<string>()
  return checks.map((c, i) => {
    const at = (k: string): string => `checks.${i}(${c.name}).${k}`
    const need = <T>(v: T | undefined, k: string, what: string): T => {
      if (v === undefined) throw new ConfigError(file, at(k), `expected ${what} for a ${c.type} check, got missing`)
      return v
    }
    if (names.has(c.name)) throw new ConfigError(file, at('name'), `expected a unique check name, got "${c.name}" again`)
    names.add(c.name)
    const intervalMs = durationAt(file, at('interval'), c.interval, 1000)
    const timeoutMs = durationAt(file, at('timeout'), c.timeout, 100)
    let check
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
      default: check = fileCheck({ path: resolve(dirname(resolve(file)), need(c.path, 'path', 'a file path')), maxAgeMs: durationAt(file, at('maxAge'), need(c.maxAge, 'maxAge', 'a duration such as "26h"'), 1000), ...(c.minBytes !== undefined ? { minBytes: c.minBytes } : {}) })
    }
    return { name: c.name, type: c.type === 'file' ? 'job' : c.type, intervalMs, timeoutMs, check }
  })
}
