// kanshi-collector audit verify: recompute the audit chain (and the legacy
// alerting.db chain) under dataDir; exit 1 naming the first broken record.

import { checkCollectorConfig, loadCollectorConfig } from '../config.js'
import { verifyAudit } from '../audit/verify.js'

export function auditVerify (file: string | undefined): number {
  const config = file !== undefined ? loadCollectorConfig(file) : checkCollectorConfig('(defaults)', {})
  let bad = 0
  const reports = verifyAudit(config.dataDir)
  if (reports.length === 0) process.stdout.write(`${config.dataDir}: no audit log yet (audit.db is created when the collector first starts)\n`)
  for (const r of reports) {
    const what = r.legacy === true ? `${r.file} (legacy chain, no longer written)` : r.file
    if (r.broken === undefined) {
      process.stdout.write(`${what}: ${r.records} records, chain intact\n`)
    } else {
      bad++
      process.stderr.write(`kanshi-collector: ${what}: audit record ${r.broken.id} is broken: ${r.broken.reason} (${r.records} records before it are intact)\n`)
    }
  }
  return bad === 0 ? 0 : 1
}
