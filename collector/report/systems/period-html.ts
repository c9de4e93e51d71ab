// report.html of a quarter, fiscal year or date range: the systems against
// their targets for the period first, then month by month, then the host- and
// service-level figures per month. Self-contained, A4, like the monthly page.

import { PAGE_CSS, esc, systemsHtml, tableHtml } from '../html.js'
import { localStamp, type Table } from '../tables.js'
import { words, type Lang } from '../i18n.js'
import { eraYear, type Month, type Period } from '../period.js'
import type { SystemPeriod } from './figures.js'
import { systemAttention } from './attention.js'
import { forPage } from './tables.js'

export interface PeriodHtmlInputs {
  period: Period
  months: Month[]
  systems: SystemPeriod[]
  tables: Table[]
  lang: Lang
  generatedAt: number
  noData: boolean
}

export function periodTitle (p: Period, lang: Lang): string {
  const w = words(lang)
  return p.kind === 'quarter' ? w('pTitleQuarter') : p.kind === 'fiscal-year' ? w('pTitleYear') : p.kind === 'month' ? w('title') : w('pTitleRange')
}

export function periodHtml (o: PeriodHtmlInputs): string {
  const w = words(o.lang)
  const p = o.period
  const tz = p.timezone
  const label = p.label[o.lang === 'en' ? 1 : 0]
  const t = (id: Table['id']): Table | undefined => o.tables.find(x => x.id === id)
  const s: string[] = []
  s.push(`<!DOCTYPE html><html lang="${o.lang}"><head><meta charset="utf-8"><title>${esc(periodTitle(p, o.lang))} ${esc(p.id)}</title><style>${PAGE_CSS}</style></head><body>`)
  s.push(`<h1>${esc(periodTitle(p, o.lang))} — ${esc(label)}</h1>`)
  const first = p.months[0]!.days[0]!
  const lastM = p.months[p.months.length - 1]!
  const fy = o.lang === 'en' ? `${p.fiscalYear} (${p.fiscalYear}-04-01 – ${p.fiscalYear + 1}-03-31)` : `${eraYear(p.fiscalYear)}年度（${p.fiscalYear}年度）`
  s.push('<dl class="meta">' +
    `<dt>${esc(w('period'))}</dt><dd id="period">${esc(first)} – ${esc(lastM.days[lastM.days.length - 1]!)}</dd>` +
    `<dt>${esc(w('pFiscalYear'))}</dt><dd>${esc(fy)}</dd>` +
    o.systems.map(x => `<dt>${esc(x.system.name)}</dt><dd>${esc(systemLine(x, o.lang))}</dd>`).join('') +
    `<dt>${esc(w('timezone'))}</dt><dd>${esc(tz)}</dd>` +
    `<dt>${esc(w('generated'))}</dt><dd>${esc(localStamp(o.generatedAt, tz))}</dd></dl>`)
  s.push(`<p class="note">${esc(w('definitions'))}</p>`)
  if (o.months.length < p.months.length) s.push(`<p class="note" id="not-yet">${esc(w('pNotYet', { m: p.months[o.months.length]!.id }))}</p>`)
  if (o.noData) s.push(`<p class="empty" id="no-data">${esc(w('noDataMonth'))}</p>`)
  if (o.systems.length === 0) s.push(`<p class="note" id="no-systems">${esc(w('pNoSystems'))}</p>`)
  else {
    // The period against the targets: the period-total rows (or the only month's).
    const totals = (x: Table | undefined): Table | undefined => x === undefined ? undefined : { ...x, rows: o.months.length > 1 ? x.rows.filter(r => r['month'] === w('yTotal')) : x.rows }
    s.push(`<section id="period-summary"><h2>${esc(w('pSummary'))}</h2>`)
    const att = systemAttention(o.systems, o.lang)
    s.push(`<h3>${esc(w('pAttention'))}</h3>` + (att.length > 0 ? `<ol class="attention">${att.map(a => `<li>${esc(a)}</li>`).join('')}</ol>` : `<p class="empty">${esc(w('nothingToFlag'))}</p>`))
    for (const x of [totals(t('systems')), totals(t('systemIncidentFigures'))]) if (x !== undefined) s.push(tableHtml(forPage(x), tz, w('noData')))
    s.push('</section>')
    s.push(systemsHtml(o.tables, tz, o.lang).replace(`<h2>${esc(w('ySection'))}</h2>`, `<h2>${esc(w('ySection'))} — ${esc(w('pByMonth'))}</h2>`))
  }
  for (const id of ['months', 'periodAvailability'] as const) {
    const x = t(id)
    if (x !== undefined) s.push(`<section><h2>${esc(x.title)}</h2>${tableHtml(x, tz, w('noData'))}${id === 'months' ? `<p class="note" id="host-level-note">${esc(w('hostLevelNote'))}</p>` : ''}</section>`)
  }
  s.push('</body></html>\n')
  return s.join('\n')
}

/** systemLine: a system's service hours, redundancy and targets in one line of the page header. */
export function systemLine (x: SystemPeriod, lang: Lang): string {
  const w = words(lang)
  const t = x.system.targets
  const busy = x.system.busySeason.map(b => `${b.from}–${b.to}: ${b.responseMs} ms`).join(', ')
  const tgt = lang === 'en'
    ? `availability ${t.availability}%, response ${t.responseMs} ms${busy !== '' ? ` (busy ${busy})` : ''} for ${t.responseCompliance}%, recovery ${t.recoveryMinutes} min, notice ${t.noticeMinutes} min, major ≤ ${t.majorPerYear}/year`
    : `稼働率 ${t.availability}%・基準応答時間 ${t.responseMs} ms${busy !== '' ? `（繁忙期 ${busy}）` : ''} 順守率 ${t.responseCompliance}%・復旧 ${t.recoveryMinutes} 分・報告/告知 ${t.noticeMinutes} 分・重大障害 年 ${t.majorPerYear} 件以下`
  return `${w('serviceHours')}: ${x.schedule} / ${x.system.redundancy} — ${w('target')}: ${tgt}`
}
