// What every service check returns; the runner (../service.ts) turns results
// into `service` points: up, response_ms, message, tags service and check.

export interface CheckResult {
  up: boolean
  message: string
  responseMs?: number
  /** extra numeric fields, e.g. cert_days_left, count, age_s */
  fields?: Record<string, number>
}

/** A check is a function of an abort signal: the runner aborts it at its timeout. */
export type Check = (signal: AbortSignal) => Promise<CheckResult>
