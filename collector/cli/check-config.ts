// kanshi-collector --check-config: load the config and the alert rules as a start would, and say what was found.

import { loadRules } from '../alerting/rules.js'
import { loadCollectorConfig } from '../config.js'

export function checkConfigOnly (file: string): number {
  const c = loadCollectorConfig(file)
  let rules = 'off'
  if (c.alerting !== undefined) rules = `${loadRules(c.alerting.rulesDir, new Set(c.alerting.schedules.map(x => x.name))).length} rules in ${c.alerting.rulesDir}`
  const storage = c.influxTargets.length > 1
    ? c.influxTargets.map(i => `${i.name}: InfluxDB ${i.version} at ${i.url ?? ''}`).join(', ')
    : c.influx.url !== undefined ? `InfluxDB ${c.influx.version} at ${c.influx.url}` : c.influx.embedded.enabled ? `embedded InfluxDB on port ${c.influx.embedded.port}` : 'WAL only'
  process.stdout.write(`${file}: ok (${c.agents.length} agents; ${c.api.tokens.length} API tokens; alerting ${rules}; storage ${storage})\n`)
  return 0
}
