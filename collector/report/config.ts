// The `report:` section of collector.yaml: SLA targets, service hours,
// thresholds and what counts as a major incident, for kanshi-report.
// Defaults live here once; collector/config.ts checks and freezes them.

import { Type, type Static } from '@sinclair/typebox'
import { ConfigError, durationAt } from '../../common/config.js'
import { AnyKey } from '../../protocol/messages.js'
import { isValidTimeZone } from '../calendar/calendar.js'
import { parseHours } from '../calendar/schedules.js'

const Strict = { additionalProperties: false } as const
const Percent = (def: number, what: string) => Type.Number({ default: def, minimum: 0, maximum: 100, description: `a percentage 0-100 (${what})` })

const ServiceHours = (o: object) => Type.Union([
  Type.String({ minLength: 1 }),
  Type.Object({
    days: Type.Union([Type.Literal('business'), Type.Literal('all'), Type.Array(Type.Integer({ minimum: 0, maximum: 6 }))], { description: 'business, all, or a list of weekdays 0-6 (0 = Sunday)' }),
    hours: Type.Array(Type.String({ pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$', description: 'a time range HH:MM-HH:MM' }), { default: [] })
  }, Strict)
], { description: 'the name of a schedule (alerting.schedules) or { days, hours }', ...o })

export const ReportSchema = Type.Object({
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
  major: Type.Object({
    severities: Type.Array(Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')], { description: 'one of info, warning, critical' }), { default: ['critical'], minItems: 1, description: 'a list of severities' }),
    minDuration: Type.Union([Type.String(), Type.Number()], { default: '30m', description: 'a duration such as "30m"' })
  }, { ...Strict, default: {} })
}, { ...Strict, default: {} })

export type RawReportConfig = Static<typeof ReportSchema>

/** ReportConfig is the checked report section. */
export interface ReportConfig {
  /** IANA zone of the month, days and service hours; default alerting.timezone, else Asia/Tokyo */
  timezone: string
  /** a schedule name (resolved against the alerting schedules) or explicit days and hours */
  serviceHours: ScheduleLike
  /** per host or service (by tags): other service hours or another availability goal; first match wins */
  overrides: Array<{ match: Record<string, string>, serviceHours: ScheduleLike | undefined, availability: number | undefined }>
  targets: RawReportConfig['targets']
  thresholds: RawReportConfig['thresholds']
  diskFullWithinDays: number
  major: { severities: readonly string[], minDurationMs: number }
}

const BUSINESS_HOURS = { name: 'business-hours', days: 'business', hours: ['08:30-17:45'] } as const

export interface ScheduleLike { name: string, days: 'business' | 'all' | readonly number[], hours: readonly string[] }

/** checkReport resolves the report section against the alerting schedules; it throws ConfigError. */
export function checkReport (file: string, r: RawReportConfig, schedules: readonly ScheduleLike[], alertingTz: string | undefined): ReportConfig {
  const timezone = r.timezone ?? alertingTz ?? 'Asia/Tokyo'
  if (!isValidTimeZone(timezone)) throw new ConfigError(file, 'report.timezone', `expected an IANA timezone such as Asia/Tokyo, got ${JSON.stringify(timezone)}`)
  const resolveHours = (v: RawReportConfig['serviceHours'], key: string, name: string): ScheduleLike => {
    if (typeof v === 'string') {
      // The default name falls back to its built-in definition, so a collector whose own
      // schedules lack "business-hours" still starts; a name written in the file must exist.
      const s = schedules.find(x => x.name === v) ?? (v === 'business-hours' ? BUSINESS_HOURS : undefined)
      if (s === undefined) throw new ConfigError(file, key, `expected the name of a schedule (${schedules.map(x => x.name).join(', ')}) or { days, hours }, got ${JSON.stringify(v)}`)
      return { name: s.name, days: s.days, hours: s.hours }
    }
    v.hours.forEach((h, j) => {
      if (parseHours(h) === undefined) throw new ConfigError(file, `${key}.hours.${j}`, `expected HH:MM-HH:MM with the start before the end, got ${JSON.stringify(h)}`)
    })
    return { name, days: v.days, hours: v.hours }
  }
  return {
    timezone,
    serviceHours: resolveHours(r.serviceHours, 'report.serviceHours', 'report'),
    overrides: r.overrides.map((o, i) => ({
      match: o.match,
      serviceHours: o.serviceHours === undefined ? undefined : resolveHours(o.serviceHours, `report.overrides.${i}.serviceHours`, `override ${i}`),
      availability: o.availability
    })),
    targets: r.targets,
    thresholds: r.thresholds,
    diskFullWithinDays: r.diskFullWithinDays,
    major: { severities: r.major.severities, minDurationMs: durationAt(file, 'report.major.minDuration', r.major.minDuration) }
  }
}
