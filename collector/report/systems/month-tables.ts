// The host- and service-level figures of a quarter or fiscal year, month by
// month: the monthly summary's key figures per month, and every target's
// availability per month with the period's (Σ measured − down) / Σ measured.

import type { MonthFigures } from '../figures.js'
import type { AvailRow } from '../availability.js'
import type { Column, Table, Cell } from '../tables.js'
import { who } from '../summary.js'
import { words, type Lang } from '../i18n.js'
import { monthLabel } from '../period.js'
import { col } from './tables.js'

export function monthTables (months: readonly MonthFigures[], lang: Lang, notifyWithinMin: number): Table[] {
  const w = words(lang)
  const C = (key: string, header: Parameters<typeof w>[0], type: Column['type'], width: number, digits?: number): Column => col(lang, key, header, type, width, digits)
  const n = (r: AvailRow | null): Cell => r?.availability ?? null
  const summary: Table = {
    id: 'months', sheet: 'Months', title: w('pMonths'),
    columns: [C('month', 'yMonth', 'text', 10), C('serviceOverall', 'sAvailServiceAll', 'pct', 12, 3), C('worstService', 'sAvailService', 'pct', 12, 3), C('worstServiceWho', 'pLowestWho', 'text', 18),
      C('worstHost', 'sAvailHost', 'pct', 12, 3), C('worstHostWho', 'pLowestWho', 'text', 14), C('targetsMet', 'sTargetsMet', 'text', 10),
      C('incidents', 'sIncidents', 'int', 10), C('notifyRate', 'sNotify', 'pct', 10, 1), C('major', 'sMajor', 'int', 8), C('mttr', 'sMttr', 'num', 10, 1), C('batch', 'sBatch', 'pct', 10, 1),
      C('exempt', 'yExemptCount', 'int', 7), C('notSa', 'yNotSa', 'int', 9)],
    rows: months.map(f => ({
      month: monthLabel(f.month), serviceOverall: f.totals.serviceOverall,
      worstService: n(f.totals.worstService), worstServiceWho: f.totals.worstService !== null ? who(f.totals.worstService) : '',
      worstHost: n(f.totals.worstHost), worstHostWho: f.totals.worstHost !== null ? who(f.totals.worstHost) : '',
      targetsMet: f.totals.targetsJudged > 0 ? `${f.totals.targetsMeeting} / ${f.totals.targetsJudged}` : w('na'),
      incidents: f.record.available ? f.stats.count : null, notifyRate: f.record.available ? f.stats.notifyRate : null,
      major: f.record.available ? f.stats.major : null, mttr: f.stats.mttrMin, batch: f.totals.batchRate,
      exempt: f.record.available ? f.stats.exempt : null, notSa: f.record.available ? f.stats.notServiceAffecting : null
    }))
  }
  summary.columns[8] = { ...summary.columns[8]!, header: w('sNotify', { n: notifyWithinMin }) }
  // One row per target, one column per month.
  const key = (r: AvailRow): string => `${r.kind}\u0000${r.host}\u0000${r.service}\u0000${r.check}`
  const targets = new Map<string, { r: AvailRow, per: Map<number, AvailRow> }>()
  months.forEach((f, i) => {
    for (const r of f.availability) {
      const e = targets.get(key(r)) ?? { r, per: new Map() }
      e.per.set(i, r); targets.set(key(r), e)
    }
  })
  const monthCols: Column[] = months.map((f, i) => ({ key: `m${i}`, header: monthLabel(f.month), type: 'pct', width: 10, digits: 3 }))
  const avail: Table = {
    id: 'periodAvailability', sheet: 'Availability by month', title: w('pAvailability'),
    columns: [C('kind', 'kind', 'text', 9), C('host', 'host', 'text', 14), C('service', 'service', 'text', 14), C('target', 'targetPct', 'num', 8, 1), ...monthCols, C('total', 'yTotal', 'pct', 11, 3), C('downMin', 'downMin', 'num', 9, 1)],
    rows: [...targets.values()].sort((a, b) => a.r.kind.localeCompare(b.r.kind) || a.r.host.localeCompare(b.r.host) || a.r.service.localeCompare(b.r.service)).map(({ r, per }) => {
      const rows = [...per.values()]
      const measured = rows.reduce((s, x) => s + x.measuredMin, 0)
      const down = rows.reduce((s, x) => s + x.downMin, 0)
      const row: Record<string, Cell> = { kind: r.kind === 'service' ? w('kindService') : r.device === true ? w('kindDevice') : w('kindHost'), host: r.host, service: r.service, target: r.target, total: measured > 0 ? 100 * (measured - down) / measured : null, downMin: down }
      months.forEach((_, i) => { row[`m${i}`] = per.get(i)?.availability ?? null })
      return row
    })
  }
  return [summary, avail]
}
