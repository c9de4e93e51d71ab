// The `reports:` section of collector.yaml: where generated reports are kept, for how
// long, and when the collector generates and mails each kind (daily, monthly).

import { Type, type StaticDecode } from '@sinclair/typebox'
import { ConfigError, DurationMs, OneOf, Strict } from '../../common/config.js'

const At = (def: string) => Type.String({ default: def, pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'a local time HH:MM (00:00-23:59)' })
const Receivers = Type.Array(Type.String({ minLength: 1, description: 'the name of a receiver' }), { minItems: 1, description: 'a list of receiver names (alerting.receivers), at least one' })

export const ReportsSchema = Type.Object({
  outDir: Type.String({ default: './reports', description: 'a directory path' }),
  // A fiscal year (April–March) plus the audit of it in the next spring.
  keep: DurationMs({ default: '400d', min: 86_400_000, description: 'a duration such as "400d" (at least 1d)' }),
  lang: OneOf(['ja', 'en'] as const, { default: 'ja' }),
  pdf: Type.Boolean({ default: true, description: 'true or false' }),
  daily: Type.Optional(Type.Object({
    at: At('08:15'),
    receivers: Receivers
  }, Strict)),
  monthly: Type.Optional(Type.Object({
    businessDay: Type.Integer({ default: 5, minimum: 1, maximum: 15, description: 'a business day of the month 1-15' }),
    at: At('09:00'),
    receivers: Receivers
  }, Strict))
}, { ...Strict, default: {} })

type Decoded = StaticDecode<typeof ReportsSchema>

/** ReportsConfig is the checked section: outDir absolute, keep in ms. */
export type ReportsConfig = Decoded

/**
 * checkReports resolves outDir beside the config file and checks that every scheduled
 * kind has an alerting section to mail through and names only its receivers; it throws ConfigError.
 */
export function checkReports (file: string, r: Decoded, path: (p: string) => string, alerting: { receivers: ReadonlyArray<{ name: string }> } | undefined): ReportsConfig {
  for (const kind of ['daily', 'monthly'] as const) {
    const s = r[kind]
    if (s === undefined) continue
    if (alerting === undefined) throw new ConfigError(file, `reports.${kind}`, 'expected an alerting section (alerting.smtp, alerting.receivers) to mail the report through; add one or remove this key')
    const known = alerting.receivers.map(x => x.name)
    s.receivers.forEach((name, i) => {
      if (!known.includes(name)) throw new ConfigError(file, `reports.${kind}.receivers.${i}`, `expected one of the receivers (${known.join(', ') || 'none configured'}), got ${JSON.stringify(name)}`)
    })
  }
  return { ...r, outDir: path(r.outDir) }
}
