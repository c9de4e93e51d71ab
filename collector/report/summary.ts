// The summary: each agreed target against this month's actual and last
// month's, and the few things the monthly meeting should look at first.

import type { ReportConfig } from './config.js'
import type { MonthFigures } from './figures.js'
import type { AvailRow } from './availability.js'
import { localTime } from '../../common/calendar.js'
import { words, type Lang } from './i18n.js'

export interface SummaryRow {
  item: string
  /** human target such as "≥ 99.5" (unit apart) */
  target: string
  actual: number | null
  previous: number | null
  change: number | null
  unit: string
  /** true met, false missed, null no target or no data */
  met: boolean | null
  note: string
  /** decimals to show */
  digits: number
}

export function who (r: AvailRow): string {
  return r.kind === 'host' ? r.host : `${r.host} / ${r.service}`
}

export function summaryRows (cur: MonthFigures, prev: MonthFigures, c: ReportConfig, lang: Lang): SummaryRow[] {
  const w = words(lang)
  const tg = c.targets
  const rows: SummaryRow[] = []
  const add = (item: string, get: (f: MonthFigures) => number | null, unit: string, target: { op: '>=' | '<=', v: number } | null, note: string, metBy?: boolean | null): void => {
    const actual = get(cur)
    const previous = get(prev)
    rows.push({
      item, unit, note, actual, previous,
      digits: unit === w('uPct') ? 3 : unit === w('uMin') ? 1 : 0,
      target: target === null ? w('na') : `${target.op === '>=' ? '≥' : '≤'} ${target.v}`,
      change: actual !== null && previous !== null ? actual - previous : null,
      met: metBy !== undefined ? metBy : target === null || actual === null ? null : target.op === '>=' ? actual >= target.v : actual <= target.v
    })
  }
  const t = cur.totals
  // The "lowest" rows are the targets furthest below their own goal (report.overrides may differ from the default).
  const own = (r: AvailRow | null): boolean | null => r === null || r.availability === null ? null : r.availability >= r.target
  add(w('sAvailService'), f => f.totals.worstService?.availability ?? null, w('uPct'), { op: '>=', v: t.worstService?.target ?? tg.availability }, t.worstService !== null ? who(t.worstService) : '', own(t.worstService))
  add(w('sAvailServiceAll'), f => f.totals.serviceOverall, w('uPct'), { op: '>=', v: tg.availability }, '')
  add(w('sAvailHost'), f => f.totals.worstHost?.availability ?? null, w('uPct'), { op: '>=', v: t.worstHost?.target ?? tg.availability }, t.worstHost !== null ? who(t.worstHost) : '', own(t.worstHost))
  add(w('sTargetsMet'), f => f.totals.targetsJudged > 0 ? f.totals.targetsMeeting : null, w('uCount'), null, `${t.targetsMeeting} / ${t.targetsJudged}`)
  add(w('sNotify', { n: tg.notifyWithinMin }), f => f.record.available ? f.stats.notifyRate : null, w('uPct'), { op: '>=', v: tg.notifyRatio }, cur.record.available ? `${cur.stats.inTime} / ${cur.stats.judged}` : w('noRecord'))
  add(w('sMajor'), f => f.record.available ? f.stats.major : null, w('uCount'), { op: '<=', v: tg.majorIncidents }, '')
  add(w('sBatch'), f => f.totals.batchRate, w('uPct'), { op: '>=', v: tg.batchOnTime }, t.batchRuns > 0 ? `${t.batchOnTime} / ${t.batchRuns}` : '')
  const left = cur.stats.exempt + cur.stats.notServiceAffecting
  add(w('sIncidents'), f => f.record.available ? f.stats.count : null, w('uCount'), null, left > 0 ? w('sExcluded', { n: left, e: cur.stats.exempt, s: cur.stats.notServiceAffecting }) : '')
  add(w('sMttr'), f => f.stats.mttrMin, w('uMin'), null, '')
  add(w('sResp'), f => f.totals.worstResponse?.response?.p95 ?? null, w('uMs'), { op: '<=', v: tg.responseMs }, t.worstResponse !== null ? who(t.worstResponse) : '')
  return rows
}

const fmt = (v: number, d = 1): string => v.toFixed(d)

/**
 * attention picks up to five items: targets missed first (services below
 * target, disks filling up, notice rate, major incidents, batch jobs), then
 * the hottest host, the fastest-growing disk and the worst service.
 */
export function attention (cur: MonthFigures, c: ReportConfig, lang: Lang): string[] {
  const w = words(lang)
  const tg = c.targets
  const out: string[] = []
  const seen = new Set<string>()
  const push = (key: string, s: string): void => { if (!seen.has(key) && out.length < 5) { seen.add(key); out.push(s) } }
  const day = (t: number): string => localTime(t, cur.month.timezone).date
  const services = cur.availability.filter(r => r.kind === 'service' && r.availability !== null).sort((a, b) => (a.availability! - a.target) - (b.availability! - b.target))
  for (const r of services.filter(r => r.availability! < r.target).slice(0, 2)) push(`svc:${who(r)}`, w('aServiceBelow', { who: who(r), v: fmt(r.availability!, 3), t: r.target }))
  const filling = cur.disks.filter(d => d.flagged).sort((a, b) => (a.fullAt ?? 0) - (b.fullAt ?? 0))
  for (const d of filling.slice(0, 2)) push(`disk:${d.host}:${d.mount}`, w('aDiskFull', { who: `${d.host} ${d.mount}`, d: d.fullAt !== null ? day(Math.max(d.fullAt, d.endAt)) : w('na'), g: fmt(d.growth30d ?? 0) }))
  if (cur.stats.notifyRate !== null && cur.stats.notifyRate < tg.notifyRatio) push('notify', w('aNotify', { n: tg.notifyWithinMin, v: fmt(cur.stats.notifyRate), t: tg.notifyRatio }))
  if (cur.record.available && cur.stats.major > tg.majorIncidents) push('major', w('aMajor', { v: cur.stats.major, t: tg.majorIncidents }))
  if (cur.totals.batchRate !== null && cur.totals.batchRate < tg.batchOnTime) {
    const bad = cur.jobs.filter(j => j.runs + j.missed > j.onTime).map(j => `${j.host} ${j.service}`).slice(0, 3).join(', ')
    push('batch', w('aBatch', { v: fmt(cur.totals.batchRate), t: tg.batchOnTime, who: bad }))
  }
  // Then the hottest host (by CPU or memory p95 over its threshold, else highest), the fastest-growing disk, the worst service.
  const hot = cur.hosts.flatMap(h => [
    h.cpu !== null ? { h, m: 'CPU', s: h.cpu, t: c.thresholds.cpu } : undefined,
    h.mem !== null ? { h, m: lang === 'ja' ? 'メモリ' : 'memory', s: h.mem, t: c.thresholds.mem } : undefined
  ]).filter(x => x !== undefined).sort((a, b) => (b.s.p95 - b.t) - (a.s.p95 - a.t))
  for (const x of hot.filter(x => x.s.p95 > x.t).slice(0, 2)) push(`host:${x.h.host}`, w('aHostHot', { who: x.h.host, m: x.m, v: fmt(x.s.p95), t: x.t, h: fmt(x.s.hoursAbove) }))
  const growing = cur.disks.filter(d => (d.growth30d ?? 0) > 0).sort((a, b) => b.growth30d! - a.growth30d!)
  if (growing[0] !== undefined) push(`disk:${growing[0].host}:${growing[0].mount}`, w('aDiskGrow', { who: `${growing[0].host} ${growing[0].mount}`, g: fmt(growing[0].growth30d!), v: fmt(growing[0].end) }))
  if (hot[0] !== undefined) push(`host:${hot[0].h.host}`, w('aHostHot', { who: hot[0].h.host, m: hot[0].m, v: fmt(hot[0].s.p95), t: hot[0].t, h: fmt(hot[0].s.hoursAbove) }))
  if (services[0] !== undefined) push(`svc:${who(services[0])}`, w('aWorstService', { who: who(services[0]), v: fmt(services[0].availability!, 3) }))
  return out
}
