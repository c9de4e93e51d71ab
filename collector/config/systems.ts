// systems: the business systems (業務システム) the contracts measure — which hosts and service
// checks make each one, how redundancy counts, its service hours and its service-level targets.

import { Type, type StaticDecode } from '@sinclair/typebox'
import { ConfigError, Strict } from '../../common/config.js'
import { AnyKey } from '../../protocol/messages.js'

const MonthDay = (what: string): ReturnType<typeof Type.String> => Type.String({ pattern: '^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$', description: `${what} as MM-DD` })

const TargetsSchema = Type.Object({
  availability: Type.Number({ minimum: 0, maximum: 100, default: 99.5, description: 'availability in service hours, percent' }),
  responseMs: Type.Number({ exclusiveMinimum: 0, default: 3000, description: 'response-time target in milliseconds' }),
  responseCompliance: Type.Number({ minimum: 0, maximum: 100, default: 95, description: 'percent of checks within responseMs' }),
  recoveryMinutes: Type.Number({ exclusiveMinimum: 0, default: 240, description: 'minutes from detection to recovery per incident' }),
  majorPerYear: Type.Integer({ minimum: 0, default: 2, description: 'major incidents allowed per fiscal year' }),
  noticeMinutes: Type.Number({ exclusiveMinimum: 0, default: 15, description: 'minutes from detection to the notice' })
}, { ...Strict, default: {} })

const BusySeasonSchema = Type.Object({
  from: MonthDay('the first day'),
  to: MonthDay('the last day (inclusive; may be before from, wrapping the year end)'),
  responseMs: Type.Number({ exclusiveMinimum: 0, description: 'the response-time target in the season, in milliseconds' })
}, Strict)

const SystemSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128, description: 'the system\'s name, e.g. 共通基盤' }),
  hosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'a list of host names' })),
  where: Type.Optional(Type.Record(AnyKey, Type.String(), { description: 'tag selectors such as { role: server, site: honcho }' })),
  services: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'a list of service check names' }),
  redundancy: Type.Union([Type.Literal('any'), Type.Literal('all')], { default: 'all', description: 'any (up while any host is up) or all (up only while all are up)' }),
  schedule: Type.String({ default: 'business-hours', minLength: 1, description: 'always or the name of a schedule: the system\'s service hours' }),
  targets: TargetsSchema,
  busySeason: Type.Array(BusySeasonSchema, { default: [], description: 'a list of { from: MM-DD, to: MM-DD, responseMs }' })
}, Strict)

export const SystemsSchema = Type.Array(SystemSchema, { default: [], description: 'a list of business systems { name, hosts | where, services, redundancy, schedule, targets }' })

export type SystemConfig = StaticDecode<typeof SystemSchema>

/** checkSystems wants unique names, hosts or where (not both), and known schedules; it throws ConfigError. */
export function checkSystems (file: string, systems: readonly SystemConfig[], scheduleNames: readonly string[]): void {
  const names = new Set<string>()
  for (const [i, s] of systems.entries()) {
    if (names.has(s.name)) throw new ConfigError(file, `systems.${i}.name`, `expected a unique system name, got a second "${s.name}"`)
    names.add(s.name)
    if ((s.hosts === undefined) === (s.where === undefined)) throw new ConfigError(file, `systems.${i}`, 'expected exactly one of hosts (a list of host names) or where (tag selectors)')
    if (s.schedule !== 'always' && !scheduleNames.includes(s.schedule)) {
      throw new ConfigError(file, `systems.${i}.schedule`, `expected always or one of the schedules (${scheduleNames.join(', ') || 'none configured'}), got ${JSON.stringify(s.schedule)}`)
    }
  }
}

/** hostInSystem: the host (with its tags: role, site, labels) belongs to the system. */
export function hostInSystem (s: SystemConfig, host: string, tags: Readonly<Record<string, string>>): boolean {
  if (s.hosts !== undefined) return s.hosts.includes(host)
  return Object.entries(s.where ?? {}).every(([k, v]) => (k === 'host' ? host : tags[k]) === v)
}

/**
 * systemsOf names the systems an alert on this host (and service check, when it is one) belongs
 * to: a service check named in a system's services counts for it whatever the host.
 */
export function systemsOf (systems: readonly SystemConfig[], host: string, tags: Readonly<Record<string, string>>, service?: string): string[] {
  return systems.filter(s => hostInSystem(s, host, tags) || (service !== undefined && s.services.includes(service))).map(s => s.name)
}
