// Charts for the HTML report: Vega-Lite specs rendered to SVG on the server
// (no browser, no network), inlined in the page so it prints and archives as one file.

import * as vega from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'
import type { ReportConfig } from './config.js'
import type { MonthFigures } from './figures.js'
import { words, type Lang } from './i18n.js'
import { who } from './summary.js'
import { FONT_STACK } from './fonts.js'

const TOP = 15

export async function renderSvg (spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

export function base (title: string, width = 640, height = 220): Partial<TopLevelSpec> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, fontSize: 13, font: FONT_STACK, anchor: 'start' },
    width, height,
    config: { font: FONT_STACK, axis: { labelFontSize: 10, titleFontSize: 11, labelFont: FONT_STACK, titleFont: FONT_STACK }, legend: { labelFont: FONT_STACK, titleFont: FONT_STACK }, view: { stroke: null } }
  } as Partial<TopLevelSpec>
}

export interface Chart { id: string, svg: string }

/** charts returns the SVG charts that have data; an empty section gets none. */
export async function charts (f: MonthFigures, c: ReportConfig, lang: Lang): Promise<Chart[]> {
  const w = words(lang)
  const out: Chart[] = []
  const hosts = f.hosts.filter(h => h.cpu !== null || h.mem !== null)
    .sort((a, b) => Math.max(b.cpu?.p95 ?? 0, b.mem?.p95 ?? 0) - Math.max(a.cpu?.p95 ?? 0, a.mem?.p95 ?? 0)).slice(0, TOP)
  if (hosts.length > 0) {
    const values = hosts.flatMap(h => [
      { host: h.host, metric: 'CPU', v: h.cpu?.p95 ?? null },
      { host: h.host, metric: lang === 'ja' ? 'メモリ' : 'Memory', v: h.mem?.p95 ?? null }
    ]).filter(x => x.v !== null)
    out.push({
      id: 'cpu',
      svg: await renderSvg({
        ...base(w('chartCpu', { n: hosts.length })),
        data: { values },
        mark: 'bar',
        encoding: {
          y: { field: 'host', type: 'nominal', sort: hosts.map(h => h.host), title: null },
          yOffset: { field: 'metric' },
          x: { field: 'v', type: 'quantitative', title: 'p95 %', scale: { domain: [0, 100] } },
          color: { field: 'metric', type: 'nominal', title: null, scale: { range: ['#3b6fb6', '#d98c2b'] } }
        },
        height: { step: 9 }
      } as TopLevelSpec)
    })
  }
  const disks = [...f.disks].sort((a, b) => b.end - a.end).slice(0, TOP)
  if (disks.length > 0) {
    out.push({
      id: 'disk',
      svg: await renderSvg({
        ...base(w('chartDisk', { n: disks.length })),
        height: { step: 16 },
        layer: [
          {
            data: { values: disks.map(d => ({ disk: `${d.host} ${d.mount}`, v: d.end, flagged: d.flagged ? w('flag') : 'ok' })) },
            mark: 'bar',
            encoding: {
              y: { field: 'disk', type: 'nominal', sort: '-x', title: null },
              x: { field: 'v', type: 'quantitative', title: '%', scale: { domain: [0, 100] } },
              color: { field: 'flagged', type: 'nominal', title: null, scale: { domain: ['ok', w('flag')], range: ['#5b8c5a', '#c0392b'] } }
            }
          },
          { data: { values: [{ t: c.thresholds.disk }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#555' }, encoding: { x: { field: 't', type: 'quantitative' } } }
        ]
      } as TopLevelSpec)
    })
  }
  if (f.traffic.length > 0) {
    const byDay = new Map<string, number>()
    for (const d of f.traffic) byDay.set(d.date, (byDay.get(d.date) ?? 0) + (d.rxBytes + d.txBytes) / 1e9)
    out.push({
      id: 'traffic',
      svg: await renderSvg({
        ...base(w('chartTraffic'), 640, 160),
        data: { values: [...byDay].map(([date, gb]) => ({ date: date.slice(5), gb })) },
        mark: { type: 'bar', color: '#3b6fb6' },
        encoding: { x: { field: 'date', type: 'ordinal', title: null, axis: { labelAngle: -60 } }, y: { field: 'gb', type: 'quantitative', title: 'GB' } }
      } as TopLevelSpec)
    })
  }
  const svcs = f.availability.filter(r => r.kind === 'service' && r.availability !== null).sort((a, b) => a.availability! - b.availability!).slice(0, TOP)
  if (svcs.length > 0) {
    const lo = Math.max(0, Math.floor(Math.min(c.targets.availability, ...svcs.map(s => s.availability!)) - 0.5))
    out.push({
      id: 'availability',
      svg: await renderSvg({
        ...base(w('chartAvail', { n: svcs.length })),
        height: { step: 16 },
        layer: [
          {
            data: { values: svcs.map(s => ({ svc: who(s), v: s.availability, ok: s.availability! >= s.target ? w('met') : w('missed') })) },
            mark: { type: 'bar', clip: true },
            encoding: {
              y: { field: 'svc', type: 'nominal', sort: 'x', title: null },
              x: { field: 'v', type: 'quantitative', title: '%', scale: { domain: [lo, 100] } },
              color: { field: 'ok', type: 'nominal', title: null, scale: { domain: [w('met'), w('missed')], range: ['#5b8c5a', '#c0392b'] } }
            }
          },
          { data: { values: [{ t: c.targets.availability }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#555' }, encoding: { x: { field: 't', type: 'quantitative' } } }
        ]
      } as TopLevelSpec)
    })
  }
  return out
}
