// daily.html: one self-contained page in the monthly report's print style.
// Page one is what needs action and the overview; the details follow on the next page.

import { PAGE_CSS, esc } from '../html.js'
import { formatCell, localStamp, type Column } from '../tables.js'
import { words, type Lang } from '../i18n.js'
import type { DailyFigures } from './figures.js'
import type { ActionItem, DailyTable } from './tables.js'
import { hhmm } from './window.js'

const DAILY_CSS = `
section.details { break-before: page; }
ol.action li { margin: 1.2mm 0; font-size: 10.5pt; }
p.nothing { font-size: 11pt; color: #1b6e2d; font-weight: 600; }
`

const NUMERIC = new Set<Column['type']>(['int', 'num', 'pct', 'gb'])

function tableHtml (t: DailyTable, tz: string, emptyText: string): string {
  if (t.rows.length === 0) return `<p class="empty" id="t-${t.id}-empty">${esc(emptyText)}</p>`
  const head = t.columns.map(c => `<th>${esc(c.header)}</th>`).join('')
  const body = t.rows.map(r => '<tr>' + t.columns.map(c => {
    const v = r[c.key] ?? null
    return `<td${NUMERIC.has(c.type) && typeof v === 'number' ? ' class="n"' : ''}>${esc(formatCell(v, c, tz, r, true))}</td>`
  }).join('') + '</tr>').join('\n')
  return `<table id="t-${t.id}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`
}

export function renderDailyHtml (o: { figures: DailyFigures, tables: DailyTable[], action: ActionItem[], lang: Lang, generatedAt: number, noRecord: boolean }): string {
  const w = words(o.lang)
  const win = o.figures.window
  const tz = win.timezone
  const t = (id: DailyTable['id']): DailyTable => o.tables.find(x => x.id === id)!
  const s: string[] = []
  s.push(`<!DOCTYPE html><html lang="${o.lang}"><head><meta charset="utf-8"><title>${esc(w('dTitle'))} ${esc(win.day)}</title><style>${PAGE_CSS}${DAILY_CSS}</style></head><body>`)
  s.push(`<h1>${esc(w('dTitle'))} — ${esc(win.day)}</h1>`)
  s.push('<dl class="meta">' +
    `<dt>${esc(w('dWindow'))}</dt><dd id="window">${esc(localStamp(win.start, tz))} – ${esc(localStamp(win.end, tz))}</dd>` +
    `<dt>${esc(w('dPrevious'))}</dt><dd>${esc(win.previous)}</dd>` +
    `<dt>${esc(w('dOpening'))}</dt><dd>${esc(hhmm(win.openingMinute))}</dd>` +
    `<dt>${esc(w('timezone'))}</dt><dd>${esc(tz)}</dd>` +
    `<dt>${esc(w('generated'))}</dt><dd>${esc(localStamp(o.generatedAt, tz))}</dd></dl>`)
  if (!win.businessDay) s.push(`<p class="note" id="closed-day">${esc(w('dClosedDay', { d: win.day }))}</p>`)
  if (win.early) s.push(`<p class="note" id="early">${esc(w('dEarly', { t: localStamp(win.end, tz) }))}</p>`)
  s.push(`<p class="note">${esc(w('definitions'))}</p>`)
  s.push(`<section><h2>${esc(w('dNeedsAction'))}</h2>`)
  s.push(o.action.length > 0
    ? `<ol class="action" id="needs-action">${o.action.map(a => `<li>[${esc(a.category)}] ${esc(a.text)}</li>`).join('')}</ol>`
    : `<p class="nothing" id="nothing">${esc(w('dNothing'))}</p>`)
  s.push(`<h3>${esc(w('dOverview'))}</h3>${tableHtml(t('overview'), tz, w('noData'))}</section>`)
  s.push('<section class="details">')
  s.push(`<h2>${esc(w('dIncidents'))}</h2>${o.noRecord ? `<p class="empty">${esc(w('noRecord'))}</p>` : tableHtml(t('incidents'), tz, w('noData'))}`)
  s.push(`<h2>${esc(w('dJobs'))}</h2><h3>${esc(w('dRuns'))}</h3>${tableHtml(t('runs'), tz, w('noData'))}<h3>${esc(w('dExpected'))}</h3>${tableHtml(t('expected'), tz, w('noData'))}`)
  for (const id of ['status', 'disks', 'certs', 'logs', 'agents'] as const) s.push(`<h2>${esc(t(id).title)}</h2>${tableHtml(t(id), tz, w('noData'))}`)
  s.push('</section></body></html>\n')
  return s.join('\n')
}
