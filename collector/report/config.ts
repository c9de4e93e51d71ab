// The `report:` section of collector.yaml: SLA targets, service hours,
// thresholds and what counts as a major incident, for kanshi-report.

import { Type, type Static, type StaticDecode } from '@sinclair/typebox'
import { ConfigError, DurationMs, Strict } from '../../common/config.js'
import { AnyKey } from '../../protocol/messages.js'
import { isValidTimeZone } from '../../common/calendar.js'
import { parseHours } from '../calendar/schedules.js'
import { openingHours } from '../calendar/opening-hours.js'

const Percent = (def: number, what: string) => Type.Number({ default: def, minimum: 0, maximum: 100, description: `a percentage 0-100 (${what})` })

const HoursSchema = Type.Object({
  days: Type.Union([Type.Literal('business'), Type.Literal('all'), Type.Array(Type.Integer({ minimum: 0, maximum: 6 }))], { description: 'business, all, or a list of weekdays 0-6 (0 = Sunday)' }),
  hours: Type.Array(Type.String({ pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$', description: 'a time range HH:MM-HH:MM' }), { default: [] })
}, Strict)

const ServiceHours = (o: object) => Type.Union([Type.String({ minLength: 1 }), HoursSchema],
  { description: 'the name of a schedule (alerting.schedules) or { days, hours }', ...o })

export const ReportSchema = Type.Object({
  // Unset: alerting.timezone (checkReport fills it in).
  timezone: Type.Optional(Type.String({ description: 'an IANA timezone such as Asia/Tokyo' })),
  serviceHours: ServiceHours({ default: 'business-hours' }),
  overrides: Type.Array(Type.Object({
    match: Type.Record(AnyKey, Type.String(), { description: 'a map of tags (host, role, site, service, check) to values; "~regex" for a pattern' }),
    serviceHours: Type.Optional(ServiceHours({})),
    availability: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'a percentage 0-100 (availability target)' }))
  }, Strict), { default: [], description: 'a list of { match, serviceHours, availability }; the first match wins' }),
  targets: Type.Object({
    availability: Percent(99.5, 'availability target'),
    notifyWithinMin: Type.Number({ default: 15, exclusiveMinimum: 0, description: 'a number of minutes greater than 0' }),
    notifyRatio: Percent(100, 'share of incidents notified in time'),
    batchOnTime: Percent(99, 'share of batch runs finished on time'),
    majorIncidents: Type.Integer({ default: 0, minimum: 0, description: 'a whole number of major incidents allowed per month' }),
    responseMs: Type.Number({ default: 3000, exclusiveMinimum: 0, description: 'a response time in milliseconds greater than 0' })
  }, { ...Strict, default: {} }),
  thresholds: Type.Object({
    cpu: Percent(80, 'CPU warning threshold'),
    mem: Percent(85, 'memory warning threshold'),
    disk: Percent(80, 'disk warning threshold')
  }, { ...Strict, default: {} }),
  diskFullWithinDays: Type.Integer({ default: 90, minimum: 1, description: 'a whole number of days (at least 1)' }),
  topInterfaces: Type.Integer({ default: 20, minimum: 1, description: 'a whole number of device interfaces (at least 1)' }),
  major: Type.Object({
    severities: Type.Array(Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')], { description: 'one of info, warning, critical' }), { default: ['critical'], minItems: 1, description: 'a list of severities' }),
    minDuration: DurationMs({ default: '30m' })
  }, { ...Strict, default: {} }),
  // The daily report (kanshi-report --day): batch jobs expected on their days, and its thresholds.
  jobs: Type.Array(Type.Object({
    name: Type.String({ minLength: 1, description: 'the job name given to kanshi-agent job run --name' }),
    host: Type.Optional(Type.String({ minLength: 1, description: 'the host that runs it (default: any host)' })),
    deadline: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'a local time HH:MM by which the run must have finished' }),
    days: Type.Union([Type.Literal('business'), Type.Literal('all'), Type.Array(Type.Integer({ minimum: 0, maximum: 6 }))], { default: 'business', description: 'business, all, or a list of weekdays 0-6 (0 = Sunday)' })
  }, Strict), { default: [], description: 'a list of { name, host, deadline, days }: the runs the daily report expects' }),
  daily: Type.Object({
    diskFullWithinDays: Type.Integer({ default: 30, minimum: 1, description: 'a whole number of days (at least 1)' }),
    certDays: Type.Integer({ default: 30, minimum: 0, description: 'a whole number of days' }),
    spoolBatches: Type.Integer({ default: 10, minimum: 1, description: 'a whole number of spooled batches (at least 1)' }),
    clockSkewMs: Type.Number({ default: 2000, exclusiveMinimum: 0, description: 'milliseconds greater than 0' }),
    staleAfter: DurationMs({ default: '15m' }),
    topMessages: Type.Integer({ default: 3, minimum: 1, maximum: 20, description: 'a whole number 1-20' })
  }, { ...Strict, default: {} }),
  // 構成管理 in the monthly report and GET /api/v1/inventory (sections/inventory.ts).
  inventory: Type.Object({
    maxUpdateAgeDays: Type.Integer({ default: 45, minimum: 1, description: 'a whole number of days (at least 1)' }),
    eolWarnDays: Type.Integer({ default: 180, minimum: 0, description: 'a whole number of days' })
  }, { ...Strict, default: {} })
}, { ...Strict, default: {} })

/** ScheduleLike is service hours resolved: a schedule's name with its days and hours. */
export type ScheduleLike = Static<typeof HoursSchema> & { name: string }

type Decoded = StaticDecode<typeof ReportSchema>
type Override = Decoded['overrides'][number]

/** ReportConfig is the decoded section with its timezone filled in and every service hours resolved to a schedule. */
export type ReportConfig = Omit<Decoded, 'timezone' | 'serviceHours' | 'overrides'> & {
  timezone: string
  serviceHours: ScheduleLike
  overrides: Array<Omit<Override, 'serviceHours'> & { serviceHours?: ScheduleLike | undefined }>
}

/** What the report section is resolved against: the rest of collector.yaml. */
export interface ReportContext {
  /** the schedules in force (alerting.schedules, or their defaults) */
  schedules: readonly ScheduleLike[]
  /** the default schedules, so that the default service hours exist even where alerting.schedules lacks them */
  defaultSchedules: readonly ScheduleLike[]
  /** alerting.timezone, or its default */
  timezone: string
  agents: ReadonlyArray<{ id: string, role: string, schedule?: string | undefined }>
}

/** checkReport resolves the report section against the schedules and adds the agents' opening hours; it throws ConfigError. */
export function checkReport (file: string, r: Decoded, ctx: ReportContext): ReportConfig {
  const timezone = r.timezone ?? ctx.timezone
  if (!isValidTimeZone(timezone)) throw new ConfigError(file, 'report.timezone', `expected an IANA timezone such as Asia/Tokyo, got ${JSON.stringify(timezone)}`)
  const defaultName = ReportSchema.properties.serviceHours.default as string
  const resolveHours = (v: Decoded['serviceHours'], key: string, name: string): ScheduleLike => {
    if (typeof v === 'string') {
      // The default name falls back to its built-in definition, so a collector whose own
      // schedules lack it still starts; any other name written in the file must exist.
      const s = ctx.schedules.find(x => x.name === v) ?? (v === defaultName ? ctx.defaultSchedules.find(x => x.name === v) : undefined)
      if (s === undefined) throw new ConfigError(file, key, `expected the name of a schedule (${ctx.schedules.map(x => x.name).join(', ')}) or { days, hours }, got ${JSON.stringify(v)}`)
      return { name: s.name, days: s.days, hours: s.hours }
    }
    v.hours.forEach((h, j) => {
      if (parseHours(h) === undefined) throw new ConfigError(file, `${key}.hours.${j}`, `expected HH:MM-HH:MM with the start before the end, got ${JSON.stringify(h)}`)
    })
    return { name, days: v.days, hours: v.hours }
  }
  const overrides = r.overrides.map((o, i) => ({
    ...o,
    serviceHours: o.serviceHours === undefined ? undefined : resolveHours(o.serviceHours, `report.overrides.${i}.serviceHours`, `override ${i}`)
  }))
  return {
    ...r,
    timezone,
    serviceHours: resolveHours(r.serviceHours, 'report.serviceHours', 'report'),
    overrides: [...overrides, ...openingHoursOverrides(ctx)]
  }
}

/**
 * openingHoursOverrides turns each agent's opening hours (agents[].schedule; kiosks default
 * to kiosk-hours) into report overrides, placed after the written ones: a kiosk switched off
 * after closing is not unavailable in the report either. One override per schedule, since
 * the report runs its queries once per distinct service hours.
 */
function openingHoursOverrides (ctx: ReportContext): ReportConfig['overrides'] {
  const bySchedule = new Map<string, string[]>()
  for (const a of ctx.agents) {
    const name = openingHours(a)
    if (name === undefined || !ctx.schedules.some(x => x.name === name)) continue
    const hosts = bySchedule.get(name)
    if (hosts === undefined) bySchedule.set(name, [a.id])
    else hosts.push(a.id)
  }
  return [...bySchedule].map(([name, hosts]) => {
    const s = ctx.schedules.find(x => x.name === name)!
    const alt = hosts.map(h => h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')
    return { match: { host: `~^(?:${alt})$` }, serviceHours: { name: s.name, days: s.days, hours: s.hours } }
  })
}
