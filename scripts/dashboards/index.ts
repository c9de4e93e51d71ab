// Generates the Grafana dashboards in dashboards/*.json from Grafana's typed
// builders (@grafana/grafana-foundation-sdk), so every panel, target and variable
// is checked against Grafana's schema at compile time. Run: npm run dashboards.
// A test keeps the committed files equal to this output.

import { mkdirSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import { capacity } from './capacity.js'
import { host } from './host.js'
import { kiosk } from './kiosk.js'
import { noc } from './noc.js'
import { sla } from './sla.js'

export { DATASOURCE } from './influxql.js'

/** dashboards returns every dashboard by file name. */
export function dashboards (): Record<string, dashboard.Dashboard> {
  return { 'noc.json': noc(), 'host.json': host(), 'kiosk.json': kiosk(), 'capacity.json': capacity(), 'sla.json': sla() }
}

/** render is a dashboard's file content: uid and title first, two-space JSON, a final newline. */
export function render (d: dashboard.Dashboard): string {
  return JSON.stringify({ uid: d.uid, title: d.title, ...d }, null, 2) + '\n'
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = resolve(import.meta.dirname, '..', '..', '..', 'dashboards')
  mkdirSync(dir, { recursive: true })
  const all = dashboards()
  for (const [name, d] of Object.entries(all)) writeFileSync(resolve(dir, name), render(d))
  process.stdout.write(`wrote ${Object.keys(all).length} dashboards to ${dir}\n`)
}
