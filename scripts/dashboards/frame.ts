// The frame every kanshi dashboard shares: tags, Tokyo time, Grafana's built-in
// annotations, a dropdown of the other kanshi dashboards, panel ids in order;
// the variables and the alert annotation the dashboards share.

import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import type * as cog from '@grafana/grafana-foundation-sdk/cog'
import { DATASOURCE, type InfluxQLAnnotation, influxqlAnnotation, inToolbar } from './influxql.js'

/** Schema version of the dashboards Grafana 11 migrates from (docker-compose runs 11.4); the SDK writes 42. */
const SCHEMA_VERSION = 39

export interface FrameOptions { refresh?: string, time?: string, tags: string[] }

/** frame starts a dashboard with kanshi's defaults: refreshed every 30 s, the last 6 hours. */
export function frame (uid: string, title: string, o: FrameOptions): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title).uid(uid).tags(['kanshi', ...o.tags]).timezone('Asia/Tokyo').version(1).editable()
    .refresh(o.refresh ?? '30s').time({ from: o.time ?? 'now-6h', to: 'now' })
    .annotation(inToolbar(new dashboard.AnnotationQueryBuilder().builtIn(1).datasource({ type: 'grafana', uid: '-- Grafana --' })
      .enable(true).hide(true).iconColor('rgba(0, 211, 255, 1)').name('Annotations & Alerts').type('dashboard')))
    .link(inToolbar(new dashboard.DashboardLinkBuilder('kanshi').type(dashboard.DashboardLinkType.Dashboards).tags(['kanshi']).asDropdown(true)))
}

/** build finishes a dashboard: panel ids 1, 2, … in order, the schema version, an empty variable list where none. */
export function build (b: dashboard.DashboardBuilder): dashboard.Dashboard {
  const d = b.build()
  d.schemaVersion = SCHEMA_VERSION
  d.templating.list ??= []
  d.panels?.forEach((p, i) => { p.id = i + 1 })
  return d
}

/** A template variable over the tag values of a query; with all, several or All may be chosen (the default). */
export function tagVariable (name: string, label: string, query: string, o: { all: boolean } = { all: true }): dashboard.QueryVariableBuilder {
  const v = new dashboard.QueryVariableBuilder(name).label(label).datasource({ ...DATASOURCE }).query(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged).sort(dashboard.VariableSort.AlphabeticalAsc).includeAll(o.all).multi(o.all).allValue('.*')
  return o.all ? v.current({ text: 'All', value: '$__all' }) : v
}

/** alertAnnotation marks firing alerts that match an InfluxQL condition. */
export function alertAnnotation (filter: string): cog.Builder<InfluxQLAnnotation> {
  return influxqlAnnotation('Alerts', 'red', `SELECT "summary", "value" FROM "alert" WHERE ${filter} AND "state" = 'firing' AND $timeFilter`, { text: 'summary', tags: ['rule', 'severity'] })
}
