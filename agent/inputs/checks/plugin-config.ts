// agent.yaml keys and builders of the command (Nagios plugin) and backup checks,
// spread into CheckSchema and called from buildChecks (./config.ts).

import { dirname, isAbsolute, resolve } from 'node:path'
import { Type } from '@sinclair/typebox'
import { AnyKey } from '../../../protocol/messages.js'
import { ConfigError, OneOf, SizeBytes } from '../../../common/config.js'
import type { CalendarOptions } from '../../../common/calendar.js'
import { lazyCalendar } from './holidays.js'
import type { Check } from './types.js'
import { PLUGIN_ENCODINGS, commandCheck, type PluginEncoding } from './nagios.js'
import { backupCheck } from './backup.js'

export const PluginCheckKeys = {
  command: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'a program and its arguments as a list, such as [/usr/lib/nagios/plugins/check_tcp, -H, db01, -p, "1433"]' })),
  env: Type.Optional(Type.Record(AnyKey, Type.String(), { description: 'a map of environment variables' })),
  cwd: Type.Optional(Type.String({ minLength: 1, description: 'a directory path' })),
  maxOutput: Type.Optional(SizeBytes({ min: 1024, description: 'a size such as "64KiB"' })),
  encoding: Type.Optional(OneOf(PLUGIN_ENCODINGS)),
  schedule: Type.Optional(OneOf(['business-days', 'daily'])),
  maxAgeBusinessDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 366, description: 'a whole number of days from 0 to 366' })),
  minGenerations: Type.Optional(Type.Integer({ minimum: 1, description: 'a whole number of files' }))
}

interface Entry {
  type: string
  timeout: number
  command?: string[] | undefined
  env?: Record<string, string> | undefined
  cwd?: string | undefined
  maxOutput?: number | undefined
  encoding?: PluginEncoding | undefined
  path?: string | undefined
  schedule?: 'business-days' | 'daily' | undefined
  maxAgeBusinessDays?: number | undefined
  minGenerations?: number | undefined
}

/** Extra time the runner gives a command check past its own timeout, so the kill and its UNKNOWN are reported. */
export const KILL_GRACE_MS = 2000

export function buildCommandCheck (file: string, c: Entry, at: (k: string) => string): Check {
  if (c.command === undefined) throw new ConfigError(file, at('command'), 'expected a program and its arguments as a list for a command check, got missing')
  const program = c.command[0]!
  if (/[\s|;&<>]/.test(program) && c.command.length === 1) {
    throw new ConfigError(file, at('command'), `expected the program and each argument as separate list items (no shell runs it), got ${JSON.stringify(program)}`)
  }
  const base = dirname(resolve(file))
  return commandCheck({
    command: c.command,
    timeoutMs: c.timeout,
    ...(c.env !== undefined ? { env: c.env } : {}),
    ...(c.cwd !== undefined ? { cwd: isAbsolute(c.cwd) ? c.cwd : resolve(base, c.cwd) } : {}),
    ...(c.maxOutput !== undefined ? { maxOutputBytes: Math.min(c.maxOutput, 16 * 1024 * 1024) } : {}),
    ...(c.encoding !== undefined ? { encoding: c.encoding } : {})
  })
}

/** buildBackupCheck: business days on the agent's calendar (holidays, 29 Dec-3 Jan, closedDays, openDays). */
export function buildBackupCheck (file: string, c: Entry, at: (k: string) => string, timezone: string, calendar: CalendarOptions = {}): Check {
  if (c.path === undefined) throw new ConfigError(file, at('path'), 'expected a file pattern such as /backup/db-*.dump for a backup check, got missing')
  if (c.maxAgeBusinessDays === undefined) throw new ConfigError(file, at('maxAgeBusinessDays'), 'expected a whole number of days for a backup check, got missing')
  return backupCheck({
    path: resolve(dirname(resolve(file)), c.path),
    maxAgeDays: c.maxAgeBusinessDays,
    minGenerations: c.minGenerations ?? 1,
    calendar: c.schedule === 'daily' ? undefined : lazyCalendar({ ...calendar, timezone }),
    timezone
  })
}
