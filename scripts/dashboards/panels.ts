// kanshi's panel presets on the SDK's typed builders: one InfluxQL datasource,
// units and colour thresholds matching alert-rules/default.yaml. Where the SDK's
// zero value differs from Grafana's default (legend shown, tooltip unsorted, log
// details on) the preset sets Grafana's default explicitly.

import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge'
import * as common from '@grafana/grafana-foundation-sdk/common'
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import * as logs from '@grafana/grafana-foundation-sdk/logs'
import * as stat from '@grafana/grafana-foundation-sdk/stat'
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline'
import * as table from '@grafana/grafana-foundation-sdk/table'
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries'
import { DATASOURCE, influxql, influxqlTargets } from './influxql.js'

export function thresholds (steps: Array<[number | null, string]>): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps.map(([value, color]) => ({ value, color })))
}
/** CPU and disk: warning 80 %, critical 90 %. */
export const pctWarnCrit = (): dashboard.ThresholdsConfigBuilder => thresholds([[null, 'green'], [80, 'orange'], [90, 'red']])
/** Memory: warning 85 %, critical 95 %. */
export const memWarnCrit = (): dashboard.ThresholdsConfigBuilder => thresholds([[null, 'green'], [85, 'orange'], [95, 'red']])
/** Availability: red below 99 %, green from 99.9 %. */
export const availability = (): dashboard.ThresholdsConfigBuilder => thresholds([[null, 'red'], [99, 'orange'], [99.9, 'green']])
/** 1/0 fields (host_up, service up): red below 1. */
export const upThresholds = (): dashboard.ThresholdsConfigBuilder => thresholds([[null, 'red'], [1, 'green']])

/** upDown shows 1 and 0 as words in green and red. */
export function upDown (up = 'UP', down = 'DOWN'): dashboard.ValueMapping[] {
  return [{ type: dashboard.MappingType.ValueToText, options: { 1: { text: up, color: 'green', index: 0 }, 0: { text: down, color: 'red', index: 1 } } }]
}

const lastNotNull = (): common.ReduceDataOptionsBuilder => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('').values(false)
const unsortedTooltip = (mode: common.TooltipDisplayMode): common.VizTooltipOptionsBuilder => new common.VizTooltipOptionsBuilder().mode(mode).sort(common.SortOrder.None)

/** timeseries: lines or bars by the caller, a table legend with last and max, a shared tooltip. */
function timeseriesBase (title: string, unit: string, queries: string[]): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder().title(title).datasource({ ...DATASOURCE }).targets(influxqlTargets(queries)).unit(unit)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Bottom).calcs(['lastNotNull', 'max']))
    .tooltip(unsortedTooltip(common.TooltipDisplayMode.Multi))
}

/** lines: thin lines, light fill, gaps where data is missing. */
export function lines (title: string, unit: string, queries: string[]): timeseries.PanelBuilder {
  return timeseriesBase(title, unit, queries).lineWidth(1).fillOpacity(10).spanNulls(false)
}

export function bars (title: string, unit: string, queries: string[], fillOpacity: number): timeseries.PanelBuilder {
  return timeseriesBase(title, unit, queries).drawStyle(common.GraphDrawStyle.Bars).fillOpacity(fillOpacity)
}

/** stat: the last value of each series as a coloured tile. */
export function tiles (title: string, unit: string, query: string): stat.PanelBuilder {
  return new stat.PanelBuilder().title(title).datasource({ ...DATASOURCE }).withTarget(influxql(query)).unit(unit)
    .reduceOptions(lastNotNull()).colorMode(common.BigValueColorMode.Background).graphMode(common.BigValueGraphMode.None).textMode(common.BigValueTextMode.ValueAndName)
}

export function tablePanel (title: string, queries: string[]): table.PanelBuilder {
  return new table.PanelBuilder().title(title).datasource({ ...DATASOURCE }).targets(influxqlTargets(queries, 'table')).showHeader(true)
}

/** bargauge: horizontal bars 0–100 of the last value per series, no legend. */
export function percentBars (title: string, unit: string, query: string, th: dashboard.ThresholdsConfigBuilder): bargauge.PanelBuilder {
  return new bargauge.PanelBuilder().title(title).datasource({ ...DATASOURCE }).withTarget(influxql(query)).unit(unit).min(0).max(100).thresholds(th)
    .reduceOptions(lastNotNull()).orientation(common.VizOrientation.Horizontal).displayMode(common.BarGaugeDisplayMode.Gradient).showUnfilled(true)
}

/** state timeline of a 1/0 field per series, values as words, no value text on the bands. */
export function upTimeline (title: string, query: string, mapping: dashboard.ValueMapping[]): statetimeline.PanelBuilder {
  return new statetimeline.PanelBuilder().title(title).datasource({ ...DATASOURCE }).withTarget(influxql(query)).mappings(mapping).thresholds(upThresholds())
    .showValue(common.VisibilityMode.Never).mergeValues(true)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom))
    .tooltip(unsortedTooltip(common.TooltipDisplayMode.Single))
}

/** logs: newest first, wrapped, with time and details. */
export function logLines (title: string, query: string): logs.PanelBuilder {
  return new logs.PanelBuilder().title(title).datasource({ ...DATASOURCE }).withTarget(influxql(query, 'A', 'logs'))
    .showTime(true).wrapLogMessage(true).sortOrder(common.LogsSortOrder.Descending).enableLogDetails(true)
}
