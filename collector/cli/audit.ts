// kanshi-collector audit verify: recompute the audit chain (and the legacy
// alerting.db chain) under dataDir, and with cluster: the shared chain in
// PostgreSQL; exit 1 naming the first broken record.

import { checkCollectorConfig, loadCollectorConfig } from '../config.js'
import { verifyAudit } from '../audit/verify.js'
import { verifySharedAudit } from '../cluster/audit-pg.js'
import { makePool, pgMessage } from '../cluster/pg.js'
import type { CollectorConfig } from '../config.js'
import { redactUrl } from '../config/cluster.js'

export async function auditVerify (file: string | undefined): Promise<number> {
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
  if (config.cluster !== undefined) bad += await sharedVerify(config.cluster)
  return bad === 0 ? 0 : 1
}

/** sharedVerify checks the cluster's shared chain in PostgreSQL (cluster:); unreachable counts as not verified. */
async function sharedVerify (c: NonNullable<CollectorConfig['cluster']>): Promise<number> {
  const pool = makePool(c.postgres, () => {})
  const what = `PostgreSQL ${redactUrl(c.postgres.url)} audit_log (the cluster's shared chain)`
  try {
    const r = await verifySharedAudit(pool)
    if (r.broken === undefined) {
      process.stdout.write(`${what}: ${r.records} records, chain intact\n`)
      return 0
    }
    process.stderr.write(`kanshi-collector: ${what}: audit record ${r.broken.id} is broken: ${r.broken.reason} (${r.records} records before it are intact)\n`)
  } catch (err) {
    process.stderr.write(`kanshi-collector: ${what}: cannot be checked: ${pgMessage(err)}\n`)
  } finally {
    await pool.end().catch(() => {})
  }
  return 1
}
