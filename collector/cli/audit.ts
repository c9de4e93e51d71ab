// kanshi-collector audit verify: recompute the audit chain (and the legacy
// alerting.db chain) under dataDir, and with cluster: the shared chain in
// PostgreSQL; exit 1 naming the first broken record.

import { checkCollectorConfig, loadCollectorConfig } from '../config.js'
import { verifyAudit } from '../audit/verify.js'
import Database from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { crossCheckAudit, verifySharedAudit } from '../cluster/audit-pg.js'
import type { AuditRow } from '../audit/log.js'
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
  if (config.cluster !== undefined) bad += await sharedVerify(config.cluster, config.dataDir)
  return bad === 0 ? 0 : 1
}

/** sharedVerify checks the cluster's shared chain in PostgreSQL (cluster:); unreachable counts as not verified. */
async function sharedVerify (c: NonNullable<CollectorConfig['cluster']>, dataDir: string): Promise<number> {
  const pool = makePool(c.postgres, () => {})
  const what = `PostgreSQL ${redactUrl(c.postgres.url)} audit_log (the cluster's shared chain)`
  try {
    const r = await verifySharedAudit(pool)
    if (r.broken === undefined) {
      process.stdout.write(`${what}: ${r.records} records, chain intact\n`)
      return await crossVerify(pool, c.node, dataDir)
    }
    process.stderr.write(`kanshi-collector: ${what}: audit record ${r.broken.id} is broken: ${r.broken.reason} (${r.records} records before it are intact)\n`)
  } catch (err) {
    process.stderr.write(`kanshi-collector: ${what}: cannot be checked: ${pgMessage(err)}\n`)
  } finally {
    await pool.end().catch(() => {})
  }
  return 1
}

/** crossVerify compares this node's audit.db with its records in the shared chain, record by record. */
async function crossVerify (pool: ReturnType<typeof makePool>, node: string, dataDir: string): Promise<number> {
  const file = join(dataDir, 'audit.db')
  if (!existsSync(file)) return 0
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    const page = db.prepare('SELECT id, at, actor, action, detail FROM audit WHERE id > ? ORDER BY id LIMIT ?')
    const after = (id: number, limit = 500): AuditRow[] => (page.all(id, limit) as Array<Record<string, unknown>>)
      .map(r => ({ id: Number(r['id']), at: Number(r['at']), actor: String(r['actor']), action: String(r['action']), detail: String(r['detail']) }))
    const x = await crossCheckAudit(pool, node, { after })
    const what = `${file} against node ${node}'s records in the shared chain (generation ${x.generation})`
    const earlier = x.earlier > 0 ? `; ${x.earlier} records of earlier generations (a replaced audit.db) stay in the shared chain` : ''
    if (x.problem === undefined) {
      process.stdout.write(`${what}: ${x.matched} records identical, ${x.notCopied} not copied yet${earlier}\n`)
      return 0
    }
    process.stderr.write(`kanshi-collector: ${what}: local record ${x.problem.localId} ${x.problem.reason} (${x.matched} identical)\n`)
    return 1
  } finally {
    db.close()
  }
}
