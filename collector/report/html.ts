// report.html: one self-contained page (inline CSS and SVG, no scripts, no
// network), laid out for A4 printing, in the report's language.

import type { ReportConfig } from './config.js'
import type { MonthFigures } from './figures.js'
import type { Chart } from './charts.js'
import { formatCell, localStamp, type Column, type Table } from './tables.js'
import { words, type Lang } from './i18n.js'
import { FONT_STACK } from './fonts.js'
import { forPage } from './systems/tables.js'

export function esc (s: string): string {
  return s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

const CSS = `
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: ${FONT_STACK}; font-size: 10pt; color: #1d1d1f; margin: 0 auto; max-width: 190mm; background: #fff; }
h1 { font-size: 16pt; margin: 0 0 4mm; border-bottom: 2px solid #3b6fb6; padding-bottom: 2mm; }
h2 { font-size: 12.5pt; margin: 7mm 0 2mm; color: #234; border-left: 4px solid #3b6fb6; padding-left: 2mm; break-after: avoid; }
h3 { font-size: 11pt; margin: 4mm 0 1mm; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 1mm 4mm; margin: 0 0 3mm; }
dl.meta dt { color: #555; } dl.meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm; font-size: 8.5pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border: 1px solid #c8ccd2; padding: 0.6mm 1.4mm; vertical-align: top; }
th { background: #eef2f7; font-weight: 600; text-align: left; }
#systems td:nth-child(-n+2), #period-summary td:nth-child(-n+2) { white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.missed, span.missed { color: #b00020; font-weight: 600; }
td.met { color: #1b6e2d; }
ol.attention li { margin: 1mm 0; }
.chart { break-inside: avoid; margin: 2mm 0; }
.chart svg { max-width: 100%; height: auto; }
.note { color: #555; font-size: 8.5pt; }
.empty { color: #777; font-style: italic; }
section { break-inside: auto; }
@media print { h2 { break-before: auto; } .chart, table { break-inside: auto; } }
`

const NUMERIC = new Set<Column['type']>(['int', 'num', 'pct', 'gb'])

export function tableHtml (t: Table, tz: string, emptyText: string): string {
  if (t.rows.length === 0) return `<p class="empty">${esc(emptyText)}</p>`
  const head = t.columns.map(c => `<th>${esc(c.header)}</th>`).join('')
  const body = t.rows.map(r => '<tr>' + t.columns.map(c => {
    const v = r[c.key] ?? null
    const text = formatCell(v, c, tz, r, true)
    const cls = [NUMERIC.has(c.type) && typeof v === 'number' ? 'n' : '', resultClass(text)].filter(Boolean).join(' ')
    return `<td${cls !== '' ? ` class="${cls}"` : ''}>${esc(text)}</td>`
  }).join('') + '</tr>').join('\n')
  return `<table id="t-${t.id}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`
}

function resultClass (text: string): string {
  return text === '未達' || text === 'missed' ? 'missed' : text === '達成' || text === 'met' ? 'met' : ''
}

export interface HtmlInputs {
  cur: MonthFigures
  tables: Table[]
  attention: string[]
  charts: Chart[]
  config: ReportConfig
  lang: Lang
  generatedAt: number
}

export function renderHtml (o: HtmlInputs): string {
  const w = words(o.lang)
  const tz = o.cur.month.timezone
  const m = o.cur.month
  const t = (id: Table['id']): Table => o.tables.find(x => x.id === id)!
  const chart = (id: string): string => { const c = o.charts.find(x => x.id === id); return c === undefined ? '' : `<div class="chart">${c.svg}</div>` }
  const sh = o.config.serviceHours
  const days = sh.days === 'business' ? w('businessDays') : sh.days === 'all' ? w('allDays') : sh.days.join(',')
  const tier = (k: string): string => ({ rollup: w('tierRollup'), raw: w('tierRaw'), none: w('tierNone') })[o.cur.tiers[k] ?? 'none'] ?? ''
  const lastDay = m.days[m.days.length - 1]!
  const s: string[] = []
  s.push(`<!DOCTYPE html><html lang="${o.lang}"><head><meta charset="utf-8"><title>${esc(w('title'))} ${esc(m.id)}</title><style>${CSS}</style></head><body>`)
  s.push(`<h1>${esc(w('title'))} — ${esc(m.id)}</h1>`)
  s.push('<dl class="meta">' +
    `<dt>${esc(w('period'))}</dt><dd>${esc(m.days[0]!)} – ${esc(lastDay)}</dd>` +
    `<dt>${esc(w('serviceHours'))}</dt><dd>${esc(days)} ${esc(sh.hours.length > 0 ? sh.hours.join(', ') : w('allDay'))} (${esc(sh.name)})` +
    o.config.overrides.map(ov => `<br>${esc(Object.entries(ov.match).map(([k, v]) => `${k}=${v}`).join(', '))}: ${esc(ov.serviceHours !== undefined ? `${ov.serviceHours.hours.join(', ') || w('allDay')} (${ov.serviceHours.name})` : '')}${ov.availability !== undefined ? esc(` ${w('target')} ${ov.availability}%`) : ''}`).join('') + '</dd>' +
    `<dt>${esc(w('timezone'))}</dt><dd>${esc(tz)}</dd>` +
    `<dt>${esc(w('source'))}</dt><dd>${['cpu', 'mem', 'disk', 'net', 'host_up', 'service'].map(k => `${k}: ${esc(tier(k))}`).join(' / ')}</dd>` +
    `<dt>${esc(w('generated'))}</dt><dd>${esc(localStamp(o.generatedAt, tz))}</dd></dl>`)
  s.push(`<p class="note">${esc(w('definitions'))}</p>`)
  if (Object.values(o.cur.tiers).every(x => x === 'none')) s.push(`<p class="empty" id="no-data">${esc(w('noDataMonth'))}</p>`)

  s.push(`<section><h2>${esc(w('summary'))}</h2>${tableHtml(t('summary'), tz, w('noData'))}`)
  s.push(`<h3>${esc(w('attention'))}</h3>`)
  s.push(o.attention.length > 0 ? `<ol class="attention">${o.attention.map(a => `<li>${esc(a)}</li>`).join('')}</ol>` : `<p class="empty">${esc(w('nothingToFlag'))}</p>`)
  s.push('</section>')

  s.push(`<section><h2>${esc(w('hosts'))}</h2>${chart('cpu')}${tableHtml(t('hosts'), tz, w('noData'))}</section>`)
  s.push(`<section><h2>${esc(w('disks'))}</h2>${chart('disk')}${tableHtml(t('disks'), tz, w('noData'))}</section>`)
  s.push(`<section><h2>${esc(w('network'))}</h2>${chart('traffic')}${tableHtml(networkByHost(o.cur, o.lang), tz, w('noData'))}${deviceTrafficHtml(t('deviceTraffic'), tz)}<p class="note">${esc(w('networkNote'))}</p></section>`)
  s.push(`<section><h2>${esc(w('services'))}</h2>${chart('availability')}${tableHtml(t('services'), tz, w('noData'))}</section>`)
  s.push(`<section><h2>${esc(w('availability'))}</h2>${tableHtml(t('availability'), tz, w('noData'))}</section>`)
  s.push(systemsHtml(o.tables, tz, o.lang))
  s.push(`<section><h2>${esc(w('incidents'))}</h2>${o.cur.record.available ? tableHtml(t('incidents'), tz, w('noData')) : `<p class="empty">${esc(w('noRecord'))}</p>`}<p class="note" id="host-level-note">${esc(w('hostLevelNote'))}</p></section>`)
  s.push(`<section><h2>${esc(w('jobs'))}</h2>${tableHtml(t('jobs'), tz, w('noData'))}</section>`)
  s.push(`<section><h2>${esc(w('security'))}</h2>${tableHtml(t('security'), tz, w('noData'))}</section>`)
  s.push(`<section><h2>${esc(w('logins'))}</h2>${tableHtml(t('logins'), tz, w('noData'))}<p class="note">${esc(w('secNote'))}</p></section>`)
  s.push(`<section><h2>${esc(w('inventory'))}</h2>${tableHtml(t('inventory'), tz, w('noData'))}</section>`)
  s.push('</body></html>\n')
  return s.join('\n')
}

const SYSTEM_TABLES: ReadonlyArray<Table['id']> = ['systems', 'systemIncidentFigures', 'systemIncidents', 'exempt', 'notServiceAffecting']

/** systemsHtml is the "service levels by system" section, when systems are configured (the quarter and fiscal-year report use it too). */
export function systemsHtml (tables: readonly Table[], tz: string, lang: Lang): string {
  const w = words(lang)
  const list = SYSTEM_TABLES.map(id => tables.find(x => x.id === id)).filter(x => x !== undefined)
  if (list.length === 0) return ''
  return `<section id="systems"><h2>${esc(w('ySection'))}</h2>` + list.map(t => `${t.id === 'systems' ? '' : `<h3>${esc(t.title)}</h3>`}${tableHtml(forPage(t), tz, w('noData'))}`).join('\n') + '</section>'
}

/** deviceTrafficHtml is the device interfaces' table under the hosts' traffic; nothing when no device reported snmp_if. */
function deviceTrafficHtml (t: Table, tz: string): string {
  return t.rows.length === 0 ? '' : `<h3>${esc(t.title)}</h3>${tableHtml(t, tz, '')}`
}

/** networkByHost condenses the per-day rows to one per host for the printed page. */
function networkByHost (f: MonthFigures, lang: Lang): Table {
  const w = words(lang)
  const by = new Map<string, { rx: number, tx: number, days: number, peak: string, peakGb: number }>()
  for (const d of f.traffic) {
    const x = by.get(d.host) ?? { rx: 0, tx: 0, days: 0, peak: '', peakGb: -1 }
    const gb = (d.rxBytes + d.txBytes) / 1e9
    x.rx += d.rxBytes / 1e9; x.tx += d.txBytes / 1e9; x.days++
    if (gb > x.peakGb) { x.peakGb = gb; x.peak = d.date }
    by.set(d.host, x)
  }
  return {
    id: 'network', sheet: 'Network', title: w('network'),
    columns: [
      { key: 'host', header: w('host'), type: 'text', width: 16 }, { key: 'rx', header: w('rx'), type: 'gb', width: 10 },
      { key: 'tx', header: w('tx'), type: 'gb', width: 10 }, { key: 'mean', header: w('dailyMean'), type: 'gb', width: 10 },
      { key: 'peak', header: w('peakDay'), type: 'text', width: 11 }, { key: 'peakGb', header: w('peakDayGb'), type: 'gb', width: 10 }
    ],
    rows: [...by].map(([host, x]) => ({ host, rx: x.rx, tx: x.tx, mean: (x.rx + x.tx) / x.days, peak: x.peak, peakGb: x.peakGb }))
  }
}

/** PAGE_CSS is the report pages' print stylesheet (the daily report uses it too). */
export { CSS as PAGE_CSS }
