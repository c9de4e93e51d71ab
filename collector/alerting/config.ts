// The `alerting:` section of collector.yaml: one schema with its defaults, the type
// derived from it (durations decode to ms), and the checks that span several keys.

import { Type, type StaticDecode } from '@sinclair/typebox'
import { ConfigError, DurationMs, decodeConfig } from '../../common/config.js'
import { AnyKey } from '../../protocol/messages.js'
import { isValidTimeZone } from '../../common/calendar.js'
import { parseHours } from '../calendar/schedules.js'

const Strict = { additionalProperties: false } as const
const Matchers = (o: object = {}) => Type.Record(AnyKey, Type.String(), { description: 'a map of tag names (or rule, severity) to values; "~regex" for a pattern', ...o })
const Hours = Type.String({ pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$', description: 'a time range HH:MM-HH:MM' })
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a date YYYY-MM-DD' })

export const AlertingSchema = Type.Object({
  rulesDir: Type.String({ default: './alert-rules', description: 'a directory of rule files' }),
  timezone: Type.String({ default: 'Asia/Tokyo', description: 'an IANA timezone such as Asia/Tokyo' }),
  calendar: Type.Object({
    holidays: Type.Boolean({ default: true, description: 'true or false' }),
    yearEndClosure: Type.Boolean({ default: true, description: 'true or false' }),
    closedDays: Type.Array(Day, { default: [] }),
    openDays: Type.Array(Day, { default: [] })
  }, { ...Strict, default: {} }),
  schedules: Type.Array(Type.Object({
    name: Type.String({ minLength: 1, description: 'a schedule name' }),
    days: Type.Union([Type.Literal('business'), Type.Literal('all'), Type.Array(Type.Integer({ minimum: 0, maximum: 6 }))], { description: 'business, all, or a list of weekdays 0-6 (0 = Sunday)' }),
    hours: Type.Array(Hours, { default: [] })
  }, Strict), {
    default: [
      { name: 'business-hours', days: 'business', hours: ['08:30-17:45'] },
      { name: 'kiosk-hours', days: 'business', hours: ['08:30-17:15'] }
    ],
    description: 'a list of { name, days, hours }'
  }),
  smtp: Type.Object({
    host: Type.String({ default: '127.0.0.1', description: 'an SMTP server host' }),
    port: Type.Integer({ default: 25, minimum: 1, maximum: 65535, description: 'a TCP port' }),
    secure: Type.Boolean({ default: false, description: 'true for TLS from the start (465), false for plain or STARTTLS' }),
    requireTLS: Type.Boolean({ default: false, description: 'true to insist on STARTTLS' }),
    user: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    from: Type.String({ default: 'kanshi@localhost', description: 'a sender address' }),
    timeout: DurationMs({ default: '10s', min: 100 })
  }, { ...Strict, default: {} }),
  receivers: Type.Array(Type.Object({
    name: Type.String({ minLength: 1, description: 'a receiver name' }),
    email: Type.Array(Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', description: 'an e-mail address' }), { minItems: 1, description: 'a list of e-mail addresses' }),
    locale: Type.Union([Type.Literal('ja'), Type.Literal('en')], { default: 'ja', description: 'ja or en' })
  }, Strict), { default: [] }),
  routes: Type.Array(Type.Object({
    match: Matchers({ default: {} }),
    receiver: Type.String({ description: 'the name of a receiver' })
  }, Strict), { default: [], description: 'a list of { match, receiver }; the first match wins' }),
  groupWait: DurationMs({ default: '30s' }),
  groupInterval: DurationMs({ default: '5m' }),
  repeatInterval: DurationMs({ default: '4h', min: 1000 }),
  escalation: Type.Optional(Type.Object({
    after: DurationMs(),
    receiver: Type.String({ description: 'the name of a receiver' })
  }, Strict)),
  // A periodic "kanshi is alive" mail, so a dead collector is noticed by its silence.
  deadman: Type.Optional(Type.Object({
    interval: DurationMs({ min: 60_000 }),
    receiver: Type.String({ description: 'the name of a receiver' })
  }, Strict)),
  publicUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'the collector URL as on-call engineers reach it' })),
  grafanaUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'the Grafana base URL' })),
  ackLinkTtl: DurationMs({ default: '7d', min: 60_000 }),
  // 障害: alerts on one business system (systems:) detected within mergeWindow of the first one are one incident; 0 turns merging off.
  incidents: Type.Object({ mergeWindow: DurationMs({ default: '10m' }) }, { ...Strict, default: {} }),
  maintenance: Type.Array(Type.Object({
    name: Type.String({ minLength: 1, description: 'a name' }),
    match: Matchers(),
    start: Type.String({ description: 'an ISO 8601 time such as 2026-12-01T22:00:00+09:00' }),
    end: Type.String({ description: 'an ISO 8601 time' }),
    days: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { description: 'weekdays 0-6 for a recurring window' })),
    hours: Type.Optional(Type.String({ pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$', description: 'a time range HH:MM-HH:MM for a recurring window' }))
  }, Strict), { default: [] })
}, Strict)

/** AlertingConfig is the checked section: durations in ms, rulesDir absolute. */
export type AlertingConfig = StaticDecode<typeof AlertingSchema>

/** DEFAULT_SCHEDULES apply when the config has no alerting section (agents' opening hours name them). */
export const DEFAULT_SCHEDULES = AlertingSchema.properties.schedules.default as AlertingConfig['schedules']

/**
 * checkAlerting decodes the section (raw or already decoded: durations in ms decode to
 * themselves), checks what spans keys, resolves rulesDir and applies KANSHI_SMTP_PASSWORD.
 */
export function checkAlerting (file: string, raw: unknown, path: (p: string) => string, env: NodeJS.ProcessEnv): AlertingConfig {
  let a: AlertingConfig
  try {
    a = decodeConfig(file, AlertingSchema, raw)
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(file, err.key === '' ? 'alerting' : `alerting.${err.key}`, err.expected)
    throw err
  }
  if (!isValidTimeZone(a.timezone)) throw new ConfigError(file, 'alerting.timezone', `expected an IANA timezone such as Asia/Tokyo, got ${JSON.stringify(a.timezone)}`)
  const receivers = new Set(a.receivers.map(r => r.name))
  const known = [...receivers].join(', ')
  a.routes.forEach((r, i) => {
    if (!receivers.has(r.receiver)) throw new ConfigError(file, `alerting.routes.${i}.receiver`, `expected one of the receivers (${known || 'none configured'}), got ${JSON.stringify(r.receiver)}`)
  })
  for (const k of ['deadman', 'escalation'] as const) {
    const to = a[k]?.receiver
    if (to !== undefined && !receivers.has(to)) throw new ConfigError(file, `alerting.${k}.receiver`, `expected one of the receivers (${known}), got ${JSON.stringify(to)}`)
  }
  a.schedules.forEach((s, i) => s.hours.forEach((h, j) => {
    if (parseHours(h) === undefined) throw new ConfigError(file, `alerting.schedules.${i}.hours.${j}`, `expected HH:MM-HH:MM with the start before the end, got ${JSON.stringify(h)}`)
  }))
  a.maintenance.forEach((m, i) => {
    for (const k of ['start', 'end'] as const) {
      if (Number.isNaN(Date.parse(m[k]))) throw new ConfigError(file, `alerting.maintenance.${i}.${k}`, `expected an ISO 8601 time such as 2026-12-01T22:00:00+09:00, got ${JSON.stringify(m[k])}`)
    }
  })
  const password = env['KANSHI_SMTP_PASSWORD'] ?? a.smtp.password
  return { ...a, rulesDir: path(a.rulesDir), smtp: { ...a.smtp, ...(password !== undefined ? { password } : {}) } }
}
