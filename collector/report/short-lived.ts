// Log text of roles and sites with their own short log retention (influx.retention.logsBy, e.g.
// kiosks kept one day) stays out of the reports, which are kept reports.keep and mailed: the
// same decision as the archive's. Counts stay; the messages are left out, and how many is said.

import { str } from './influxql.js'

export interface ShortLivedRule { where: { role?: string | undefined, site?: string | undefined } }

const conds = (r: ShortLivedRule, op: '=' | '!='): string[] =>
  (['role', 'site'] as const).flatMap(k => r.where[k] === undefined ? [] : [`"${k}" ${op} ${str(r.where[k])}`])

/** shortLivedWhere is the InfluxQL condition "matched by a logsBy rule", or undefined with no rule. */
export function shortLivedWhere (rules: readonly ShortLivedRule[]): string | undefined {
  if (rules.length === 0) return undefined
  return `(${rules.map(r => `(${conds(r, '=').join(' AND ')})`).join(' OR ')})`
}

/** keptWhere is its negation (InfluxQL has no NOT): every rule fails on one of its tags; '' with no rule. */
export function keptWhere (rules: readonly ShortLivedRule[]): string {
  if (rules.length === 0) return ''
  return `(${rules.map(r => `(${conds(r, '!=').join(' OR ')})`).join(' AND ')})`
}
