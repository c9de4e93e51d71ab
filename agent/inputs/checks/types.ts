// What every service check returns; the runner (../service.ts) turns results
// into `service` points: up, response_ms, message, tags service and check.

export interface CheckResult {
  up: boolean
  message: string
  responseMs?: number
  /** extra numeric fields, e.g. cert_days_left, count, age_s */
  fields?: Record<string, number | string>
  /** further points of the same run (SNMP interfaces, UPS); the spec's tags are added to each */
  points?: CheckPoint[]
}

/** CheckPoint is one extra point a check returns besides its `service` point. */
export interface CheckPoint { m: string, fields: Record<string, number | string>, tags?: Record<string, string>, t?: number }

/** A check is a function of an abort signal: the runner aborts it at its timeout. */
export type Check = (signal: AbortSignal) => Promise<CheckResult>
