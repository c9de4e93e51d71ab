// The Grafana dashboards without a database: the committed files are the
// builder's output, their structure (uids, ids, layout, datasource) holds, and
// the SDK's zero values never stand where Grafana's defaults were meant.

import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { dashboards, DATASOURCE, render } from '../../scripts/dashboards/index.js'

const dir = new URL('../../dashboards/', import.meta.url).pathname
const files = readdirSync(dir).filter(f => f.endsWith('.json')).sort()
type Json = Record<string, any>
const text: Record<string, string> = Object.fromEntries(files.map(f => [f, readFileSync(join(dir, f), 'utf8')]))
const parsed: Record<string, Json> = Object.fromEntries(files.map(f => [f, JSON.parse(text[f]!)]))

t.test('the committed dashboards are what the generator makes (npm run dashboards)', async t => {
  t.same(Object.keys(parsed).sort(), Object.keys(dashboards()).sort())
  for (const [f, d] of Object.entries(dashboards())) {
    t.same(parsed[f], JSON.parse(JSON.stringify(d)), f)
    t.equal(text[f], render(d), `${f}: byte for byte`)
  }
})

t.test('structure: unique uids and panel ids, no overlapping panels, one datasource', async t => {
  const uids = files.map(f => parsed[f]!['uid'])
  t.equal(new Set(uids).size, uids.length, `uids ${uids.join(', ')}`)
  for (const f of files) {
    const d = parsed[f]!
    for (const k of ['uid', 'title', 'panels', 'schemaVersion', 'time', 'templating', 'annotations']) t.ok(k in d, `${f}: has ${k}`)
    t.equal(d['timezone'], 'Asia/Tokyo', `${f}: Tokyo time`)
    const panels = d['panels'] as Json[]
    const ids = panels.map(p => p['id'])
    t.equal(new Set(ids).size, ids.length, `${f}: unique panel ids`)
    for (let i = 0; i < panels.length; i++) {
      const a = panels[i]!['gridPos']
      t.ok(a.x >= 0 && a.w > 0 && a.x + a.w <= 24, `${f}: panel ${panels[i]!['id']} within 24 columns`)
      for (let j = i + 1; j < panels.length; j++) {
        const b = panels[j]!['gridPos']
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
        if (overlap) t.fail(`${f}: panels ${panels[i]!['id']} and ${panels[j]!['id']} overlap`)
      }
      for (const target of panels[i]!['targets'] ?? []) t.same(target.datasource, DATASOURCE, `${f}: panel ${panels[i]!['id']} uses the provisioned datasource`)
    }
  }
})

// The SDK fills every option with its type's zero value; where that is not
// Grafana's default the generator must set the default, or the panel changes.
t.test("Grafana's defaults, not the SDK's zero values", async t => {
  for (const f of files) {
    const d = parsed[f]!
    t.equal(d['schemaVersion'], 39, `${f}: schema version Grafana 11 migrates from`)
    t.notMatch(text[f]!, /"placement": "inControlsMenu"/, `${f}: links and annotations stay in the toolbar`)
    t.notMatch(text[f]!, /"_implementsDataqueryVariant"/, `${f}: no SDK marker in the JSON`)
    for (const p of d['panels'] as Json[]) {
      const what = `${f}: panel ${p['id']} ${p['type']}`
      if (p['type'] === 'timeseries' || p['type'] === 'state-timeline') {
        t.equal(p['options'].legend.showLegend, true, `${what}: legend shown`)
        t.equal(p['options'].tooltip.sort, 'none', `${what}: tooltip in series order`)
      }
      if (p['type'] === 'logs') t.equal(p['options'].enableLogDetails, true, `${what}: log details on`)
      if (p['type'] === 'stat') t.not(p['options'].graphMode, 'area', `${what}: no sparkline`)
      if (p['type'] === 'bargauge') t.equal(p['options'].legend.showLegend, false, `${what}: no legend (as in Grafana 11.4)`)
    }
  }
})
