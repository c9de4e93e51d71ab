// InfluxQL targets and annotations, typed as Grafana's InfluxDB datasource stores
// them (raw query mode): the SDK has builders for panels but no InfluxDB package.

import type * as cog from '@grafana/grafana-foundation-sdk/cog'
import type * as common from '@grafana/grafana-foundation-sdk/common'
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'

/** The provisioned datasource (dashboards/provisioning/datasources/kanshi.yaml) every panel uses. */
export const DATASOURCE = { type: 'influxdb', uid: 'kanshi-influxdb' } as const satisfies common.DataSourceRef

export type ResultFormat = 'time_series' | 'table' | 'logs'

/** One raw InfluxQL query, the fields of Grafana's InfluxQuery that kanshi uses. */
export interface InfluxQLQuery extends common.DataQuery, cog.Dataquery {
  datasource: common.DataSourceRef
  query: string
  rawQuery: true
  resultFormat: ResultFormat
}

/** influxql is the target builder for one query; refIds run A, B, … in panel order. */
export function influxql (query: string, refId = 'A', resultFormat: ResultFormat = 'time_series'): cog.Builder<InfluxQLQuery> {
  return { build: () => ({ refId, datasource: { ...DATASOURCE }, query, rawQuery: true, resultFormat, _implementsDataqueryVariant: () => {} }) }
}

/** influxqlTargets gives each query its refId (A, B, …). */
export function influxqlTargets (queries: string[], resultFormat: ResultFormat = 'time_series'): Array<cog.Builder<InfluxQLQuery>> {
  return queries.map((q, i) => influxql(q, String.fromCharCode(65 + i), resultFormat))
}

/** An InfluxQL annotation: the columns of the query's result that give the text and the tags. */
export interface InfluxQLAnnotation extends dashboard.AnnotationQuery {
  query: string
  textColumn: string
  tagsColumn: string
}

/** inToolbar drops the SDK's default placement "inControlsMenu" (Grafana 12 would hide the item in a menu). */
export function inToolbar<T extends { placement?: unknown }> (b: cog.Builder<T>): cog.Builder<Omit<T, 'placement'>> {
  return { build: () => { const { placement: _, ...rest } = b.build(); return rest } }
}

/** influxqlAnnotation marks the points a query returns on every time panel. */
export function influxqlAnnotation (name: string, iconColor: string, query: string, columns: { text: string, tags: string[] }): cog.Builder<InfluxQLAnnotation> {
  const base = inToolbar(new dashboard.AnnotationQueryBuilder().name(name).datasource({ ...DATASOURCE }).enable(true).iconColor(iconColor))
  return { build: () => ({ ...base.build(), query, textColumn: columns.text, tagsColumn: columns.tags.join(',') }) }
}
