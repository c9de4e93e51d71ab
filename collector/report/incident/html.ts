// incident.html: the 障害報告書 as one self-contained page (inline CSS and SVG, no scripts),
// laid out for A4 like the monthly report, with ±1 h charts of the affected hosts.

import type { TopLevelSpec } from 'vega-lite'
import { base, renderSvg, type Chart } from '../charts.js'
import { PAGE_CSS, esc } from '../html.js'
import { localTime } from '../../../common/calendar.js'
import { formatCell, localStamp } from '../tables.js'
import type { Lang } from '../i18n.js'
import type { IncidentData, MetricPoint } from './data.js'
import type { IncidentTable } from './tables.js'
import { incidentWords } from './words.js'

/** wall shifts an instant so that its UTC fields read as the local time in tz (the charts use a utc scale). */
function wall (t: number, tz: string): number {
  const l = localTime(t, tz)
  return Date.UTC(l.year, l.month - 1, l.day, 0, l.minute) + (t % 60_000)
}

/** incidentCharts draws cpu, mem and host_up per host, with rules at detection and recovery. */
export async function incidentCharts (d: IncidentData, lang: Lang, tz: string): Promise<Chart[]> {
  const w = incidentWords(lang)
  const out: Chart[] = []
  const marks = [{ t: wall(d.row.detectedAt, tz), label: w('detected') }, ...(d.row.resolvedAt !== null ? [{ t: wall(d.row.resolvedAt, tz), label: w('recovered') }] : [])]
  const metrics: Array<[MetricPoint['metric'], string]> = [['cpu', w('chartCpu')], ['mem', w('chartMem')], ['host_up', w('chartUp')]]
  for (const [m, title] of metrics) {
    const values = d.metrics.filter(p => p.metric === m).map(p => ({ host: p.host, t: wall(p.t, tz), v: p.v }))
    if (values.length === 0) continue
    const spec = {
      ...base(title, 640, 160),
      layer: [
        { data: { values }, mark: { type: 'line', interpolate: m === 'host_up' ? 'step-after' : 'linear' }, encoding: {
          x: { field: 't', type: 'temporal', scale: { type: 'utc', domain: [wall(d.window.start, tz), wall(d.window.end, tz)] }, axis: { format: '%H:%M', title: null } },
          y: { field: 'v', type: 'quantitative', title: null, ...(m === 'host_up' ? { scale: { domain: [0, 1] } } : { scale: { domain: [0, 100] } }) },
          color: { field: 'host', type: 'nominal', title: w('host') }
        } },
        { data: { values: marks }, mark: { type: 'rule', strokeDash: [4, 3], color: '#b00020' }, encoding: { x: { field: 't', type: 'temporal', scale: { type: 'utc' } } } }
      ]
    } as unknown as TopLevelSpec
    out.push({ id: `incident-${m}`, svg: await renderSvg(spec) })
  }
  return out
}

function table (t: IncidentTable, tz: string, empty: string): string {
  if (t.rows.length === 0) return `<p class="empty">${esc(empty)}</p>`
  const head = t.columns.map(c => `<th>${esc(c.header)}</th>`).join('')
  const body = t.rows.map(r => '<tr>' + t.columns.map(c => {
    const v = r[c.key] ?? null
    return `<td${typeof v === 'number' && c.type !== 'datetime' ? ' class="n"' : ''}>${esc(formatCell(v, c, tz, r, false)).replace(/\n/g, '<br>')}</td>`
  }).join('') + '</tr>').join('\n')
  return `<table id="t-${t.id}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`
}

const EXTRA_CSS = 'dl.write-up dt { font-weight: 600; margin-top: 2mm; } dl.write-up dd { margin: 0 0 1mm 0; white-space: pre-wrap; }'

export function renderIncidentHtml (o: { data: IncidentData, tables: IncidentTable[], charts: Chart[], lang: Lang, tz: string, generatedAt: number }): string {
  const w = incidentWords(o.lang)
  const r = o.data.row
  const byId = new Map(o.tables.map(t => [t.id, t]))
  const text = (s: string): string => s === '' ? `<span class="empty">${esc(w('notRecorded'))}</span>` : esc(s)
  const writeUp: Array<[string, string, string]> = [
    ['cause', w('cause'), r.writeUp.cause], ['impact', w('impact'), r.writeUp.impact], ['affected-users', w('affectedUsers'), r.writeUp.affectedUsers],
    ['actions', w('actions'), r.writeUp.actions], ['prevention', w('prevention'), r.writeUp.prevention],
    ...(r.exempt !== null ? [['exempt', w('exempt'), `${r.exempt.category}: ${r.exempt.reason}`] as [string, string, string]] : [])
  ]
  const meta: Array<[string, string]> = [
    [w('id'), String(r.id)], [w('systems'), r.systems.join(', ') || w('none')], [w('hosts'), r.hosts.join(', ')], [w('severity'), r.severity],
    [w('serviceAffecting'), r.serviceAffecting ? w('yes') : w('no')], [w('major'), r.major ? w('yes') : w('no')], [w('generated'), localStamp(o.generatedAt, o.tz)]
  ]
  return `<!doctype html><html lang="${o.lang}"><head><meta charset="utf-8"><title>${esc(w('title'))} #${r.id}</title><style>${PAGE_CSS}${EXTRA_CSS}</style></head><body>
<h1>${esc(w('title'))} #${r.id} — ${esc(r.summary)}</h1>
<dl class="meta">${meta.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
<section id="timeline"><h2>${esc(w('timeline'))}</h2>${table(byId.get('timeline')!, o.tz, w('none'))}</section>
<section id="write-up"><h2>${esc(w('writeUp'))}</h2><dl class="write-up">${writeUp.map(([id, k, v]) => `<dt>${esc(k)}</dt><dd id="w-${id}">${text(v)}</dd>`).join('')}</dl></section>
<section id="targets"><h2>${esc(w('targets'))}</h2>${table(byId.get('targets')!, o.tz, w('noTargets'))}</section>
<section id="notices"><h2>${esc(w('notices'))}</h2>${table(byId.get('notices')!, o.tz, w('none'))}</section>
<section id="alerts"><h2>${esc(w('alerts'))}</h2>${table(byId.get('alerts')!, o.tz, w('none'))}</section>
<section id="metrics"><h2>${esc(w('metrics'))}</h2>${o.charts.length === 0 ? `<p class="empty">${esc(w('noMetrics'))}</p>` : o.charts.map(c => `<div class="chart" id="c-${c.id}">${c.svg}</div>`).join('\n')}</section>
<section id="matched"><h2>${esc(w('matched'))}</h2>${table(byId.get('matched')!, o.tz, w('noMatched'))}</section>
<section id="logs"><h2>${esc(w('logs'))}</h2>${table(byId.get('logs')!, o.tz, w('noLogs'))}${o.data.logsHidden > 0 ? `<p class="note" id="logs-hidden">${esc(w('logsHidden').replace('{n}', String(o.data.logsHidden)))}</p>` : ''}</section>
<section id="history"><h2>${esc(w('history'))}</h2>${table(byId.get('history')!, o.tz, w('none'))}</section>
</body></html>
`
}
