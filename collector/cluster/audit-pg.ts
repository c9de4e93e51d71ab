// The cluster's shared audit chain: each node appends to its own audit.db first (synchronous,
// never lost), and a shipper copies those records in order into PostgreSQL's audit_log, one
// chain for all nodes, serialised by an advisory lock with the previous hash read in the same
// transaction. A record that cannot reach PostgreSQL waits in audit.db and is copied later.

import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { AuditLog } from '../audit/log.js'
import type { Pool } from './pg.js'
import type { PoolClient } from 'pg'
import { pgMessage } from './pg.js'

/** Any fixed number: the advisory lock that serialises appends to the shared chain. */
const AUDIT_LOCK = 0x6b617564

/** sharedAuditHash links one shared record: the node and its local id are inside the hash, so neither can be edited. */
export function sharedAuditHash (prev: string, node: string, localId: number | string, at: number | string, actor: string, action: string, detail: string, gen: number | string = 0): string {
  // The generation is hashed from 1 on (generation 0 rows keep the hash they were written with).
  const g = Number(gen) > 0 ? `\ngen=${gen}` : ''
  return createHash('sha256').update(`${prev}\n${node}\n${localId}\n${at}\n${actor}\n${action}\n${detail}${g}`).digest('hex')
}

export interface AuditShipperOptions {
  pool: Pool
  node: string
  audit: AuditLog
  logger: Logger
  registry?: Registry
  /** how often to try when nothing wakes it (default 5 s) */
  intervalMs?: number
  /** records per transaction (default 500) */
  batch?: number
  /** brings the schema up before the first copy (Cluster.migrateNow) */
  ready?: () => Promise<void>
}

/** AuditShipper copies this node's audit records into the shared chain, in order, exactly once. */
export class AuditShipper {
  /** records appended locally and not yet in PostgreSQL */
  pending = 0
  /** records copied after at least one failed try (they waited in audit.db) */
  late = 0
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private again = false
  private failing = false
  private schema = false
  /** the newest local id known to be in PostgreSQL */
  private copied = 0
  private readonly gauge: Gauge | undefined
  private readonly shipped: Counter | undefined
  private readonly restarts: Counter | undefined

  constructor (private readonly o: AuditShipperOptions) {
    if (o.registry !== undefined) {
      this.gauge = new Gauge({ name: 'kanshi_audit_unshared', help: 'audit records kept in the local audit.db and not yet in the cluster\'s PostgreSQL chain', registers: [o.registry] })
      this.restarts = new Counter({ name: 'kanshi_audit_generations_total', help: 'times this node found audit.db not to be the log it copied before (a lost data directory, a restore) and started a new generation in the shared chain', registers: [o.registry] })
      this.shipped = new Counter({ name: 'kanshi_audit_shared_total', help: 'audit records copied into the cluster\'s PostgreSQL chain, by whether they waited for PostgreSQL', labelNames: ['late'], registers: [o.registry] })
    }
  }

  start (): void {
    // While PostgreSQL is unreachable the timer retries, not every append.
    this.o.audit.onAppend = () => { if (!this.failing) void this.ship() }
    const tick = (): void => { this.timer = setTimeout(() => { void this.ship().finally(tick) }, this.o.intervalMs ?? 5000); this.timer.unref() }
    tick()
    void this.ship()
  }

  /** stop makes a last try to copy what is left (what fails stays in audit.db for the next start). */
  async stop (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    this.o.audit.onAppend = undefined
    await this.ship()
  }

  /** ship copies everything pending; concurrent calls join one run (and one more if asked meanwhile). */
  async ship (): Promise<void> {
    if (this.running !== undefined) { this.again = true; return await this.running }
    this.running = (async () => {
      do {
        this.again = false
        await this.drain()
      } while (this.again && !this.failing)
    })().finally(() => { this.running = undefined })
    return await this.running
  }

  private async drain (): Promise<void> {
    const batch = this.o.batch ?? 500
    try {
      // The schema first (Cluster.migrateNow), once; a failure is tried again on the next run.
      if (!this.schema) { await this.o.ready?.(); this.schema = true }
      for (;;) {
        const n = await this.shipBatch(batch)
        if (n < batch) break
      }
      if (this.failing) this.o.logger.info({ late: this.late }, 'audit: the cluster\'s PostgreSQL chain caught up with audit.db')
      this.failing = false
    } catch (err) {
      if (!this.failing) this.o.logger.warn({ err: pgMessage(err), pending: this.pending }, 'audit: records stay in audit.db until PostgreSQL takes them')
      this.failing = true
      this.pending = Math.max(0, this.o.audit.lastId() - this.copied)
      this.gauge?.set(this.pending)
    }
  }

  /** shipBatch copies up to `batch` records in one transaction; the cursor moves with them, so nothing is copied twice. */
  private async shipBatch (batch: number): Promise<number> {
    const c = await this.o.pool.connect()
    try {
      await c.query('BEGIN')
      await c.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK])
      const cur = await c.query<{ local_id: string, gen: number }>('SELECT local_id, gen FROM audit_cursor WHERE node = $1', [this.o.node])
      let from = Number(cur.rows[0]?.local_id ?? 0)
      let gen = cur.rows[0]?.gen ?? 0
      if (from > 0 && !await this.sameLog(c, gen, from)) {
        // audit.db is not the log copied so far (a lost data directory, a restore): its records start a
        // new generation; the old generation's records stay in the chain as they were.
        this.o.logger.warn({ node: this.o.node, generation: gen + 1, copiedBefore: from }, 'audit: audit.db is not the log this node copied before (new data directory?): its records go into the shared chain as a new generation')
        this.restarts?.inc()
        gen++
        from = 0
      }
      this.copied = from
      const rows = this.o.audit.after(from, batch)
      this.pending = Math.max(0, this.o.audit.lastId() - from)
      if (rows.length === 0) {
        await c.query('COMMIT')
        c.release()
        this.gauge?.set(0)
        return 0
      }
      const top = await c.query<{ id: string, hash: string }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1')
      let id = Number(top.rows[0]?.id ?? 0)
      let prev = top.rows[0]?.hash ?? ''
      for (const r of rows) {
        id++
        const hash = sharedAuditHash(prev, this.o.node, r.id, r.at, r.actor, r.action, r.detail, gen)
        await c.query('INSERT INTO audit_log (id, node, local_id, at, actor, action, detail, prev_hash, hash, gen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
          [id, this.o.node, r.id, r.at, r.actor, r.action, r.detail, prev, hash, gen])
        prev = hash
      }
      await c.query(`INSERT INTO audit_cursor (node, local_id, shared_id, hash, gen) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (node) DO UPDATE SET local_id = EXCLUDED.local_id, shared_id = EXCLUDED.shared_id, hash = EXCLUDED.hash, gen = EXCLUDED.gen`, [this.o.node, rows.at(-1)!.id, id, prev, gen])
      await c.query('COMMIT')
      c.release()
      this.copied = rows.at(-1)!.id
      if (this.failing) this.late += rows.length
      this.shipped?.inc({ late: String(this.failing) }, rows.length)
      this.pending = Math.max(0, this.pending - rows.length)
      this.gauge?.set(this.pending)
      return rows.length
    } catch (err) {
      // Not ROLLBACK on a connection that may hang: dropped, the server rolls back.
      c.release(err as Error)
      throw err
    }
  }

  /** sameLog: audit.db still holds, unchanged, the last record copied from it (else it is another log). */
  private async sameLog (c: PoolClient, gen: number, localId: number): Promise<boolean> {
    const mine = this.o.audit.after(localId - 1, 1)[0]
    if (mine?.id !== localId) return false
    const r = await c.query<{ at: string, actor: string, action: string, detail: string }>('SELECT at, actor, action, detail FROM audit_log WHERE node = $1 AND gen = $2 AND local_id = $3', [this.o.node, gen, localId])
    const theirs = r.rows[0]
    return theirs !== undefined && Number(theirs.at) === mine.at && theirs.actor === mine.actor && theirs.action === mine.action && theirs.detail === mine.detail
  }
}

export interface SharedChainReport { records: number, broken?: { id: number, reason: string } }

/** verifySharedAudit recomputes the shared chain and checks each node's cursor (the witness of a cut tail). */
export async function verifySharedAudit (pool: Pool): Promise<SharedChainReport> {
  const r = await pool.query<Record<string, string>>('SELECT id, node, local_id, at, actor, action, detail, prev_hash, hash, gen FROM audit_log ORDER BY id')
  let prev = ''
  let n = 0
  const lastLocal = new Map<string, { gen: number, local: number }>()
  for (const row of r.rows) {
    const id = Number(row['id'])
    if (id !== n + 1) return { records: n, broken: { id, reason: `records ${n + 1}..${id - 1} are missing` } }
    if (row['prev_hash'] !== prev) return { records: n, broken: { id, reason: 'prev_hash does not match the record before it (a record was removed or replaced)' } }
    const gen = Number(row['gen'])
    const h = sharedAuditHash(prev, row['node']!, row['local_id']!, row['at']!, row['actor']!, row['action']!, row['detail']!, gen)
    if (row['hash'] !== h) return { records: n, broken: { id, reason: 'its content does not match its hash (the record was edited)' } }
    const local = Number(row['local_id'])
    const before = lastLocal.get(row['node']!)
    // Within a generation local ids grow; a new generation (a new audit.db) starts anywhere, an old one never comes back.
    if (before !== undefined && (gen < before.gen || (gen === before.gen && local <= before.local))) {
      return { records: n, broken: { id, reason: `node ${row['node']!}: local record ${gen}/${local} after ${before.gen}/${before.local} (out of order)` } }
    }
    lastLocal.set(row['node']!, { gen, local })
    prev = h
    n++
  }
  const cursors = await pool.query<{ node: string, shared_id: string, hash: string }>('SELECT node, shared_id, hash FROM audit_cursor ORDER BY shared_id DESC')
  for (const c of cursors.rows) {
    const id = Number(c.shared_id)
    if (id > n) return { records: n, broken: { id: n + 1, reason: `records ${n + 1}..${id} at the end are missing (node ${c.node} copied up to ${id})` } }
    if (r.rows[id - 1]?.['hash'] !== c.hash) return { records: n, broken: { id, reason: `its hash differs from node ${c.node}'s cursor (the chain was rewritten)` } }
  }
  return { records: n }
}

/** sharedAuditView is what GET /v1/audit adds in cluster mode: the shared chain checked, its newest records with their nodes. */
export async function sharedAuditView (pool: Pool, shipper: AuditShipper, limit = 200): Promise<object> {
  let v: SharedChainReport
  let r: { rows: Array<Record<string, string>> }
  try {
    v = await verifySharedAudit(pool)
    r = await pool.query<Record<string, string>>('SELECT id, node, local_id, at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT $1', [limit])
  } catch (err) {
    return { error: `the shared audit chain cannot be read: ${pgMessage(err)}`, unshared: shipper.pending }
  }
  return {
    brokenAt: v.broken?.id ?? null,
    problem: v.broken?.reason ?? null,
    records: v.records,
    /** records of this node still only in its audit.db */
    unshared: shipper.pending,
    entries: r.rows.map(x => ({ id: Number(x['id']), node: x['node'], localId: Number(x['local_id']), at: Number(x['at']), actor: x['actor'], action: x['action'], detail: JSON.parse(x['detail']!) as unknown }))
  }
}

export interface CrossCheck {
  node: string
  generation: number
  /** records of this generation found identical in audit.db and the shared chain */
  matched: number
  /** records in audit.db after the last one copied (PostgreSQL was away, or the node is running) */
  notCopied: number
  /** records of this node in earlier generations (an audit.db replaced before this one) */
  earlier: number
  /** the first record that differs, or is in one and not the other */
  problem?: { localId: number, reason: string }
}

/**
 * crossCheckAudit compares this node's audit.db with the records it copied into the shared chain:
 * each chain may be intact on its own and still have been rewritten whole; the other one shows it.
 */
export async function crossCheckAudit (pool: Pool, node: string, audit: Pick<AuditLog, 'after'>): Promise<CrossCheck> {
  const cur = await pool.query<{ local_id: string, gen: number }>('SELECT local_id, gen FROM audit_cursor WHERE node = $1', [node])
  const generation = cur.rows[0]?.gen ?? 0
  const copied = Number(cur.rows[0]?.local_id ?? 0)
  const earlier = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM audit_log WHERE node = $1 AND gen < $2', [node, generation])).rows[0]!.n)
  const shared = await pool.query<{ local_id: string, at: string, actor: string, action: string, detail: string }>(
    'SELECT local_id, at, actor, action, detail FROM audit_log WHERE node = $1 AND gen = $2 ORDER BY local_id', [node, generation])
  const out: CrossCheck = { node, generation, matched: 0, notCopied: 0, earlier }
  let i = 0
  let last = 0
  for (;;) {
    const page = audit.after(last, 1000)
    if (page.length === 0) break
    for (const mine of page) {
      last = mine.id
      if (mine.id > copied) { out.notCopied++; continue }
      const theirs = shared.rows[i]
      if (theirs === undefined || Number(theirs.local_id) > mine.id) {
        out.problem ??= { localId: mine.id, reason: 'in audit.db but not in the shared chain (removed there, or added here afterwards)' }
        continue
      }
      if (Number(theirs.local_id) < mine.id) {
        out.problem ??= { localId: Number(theirs.local_id), reason: 'in the shared chain but not in audit.db (removed here)' }
        i++
        continue
      }
      i++
      if (Number(theirs.at) !== mine.at || theirs.actor !== mine.actor || theirs.action !== mine.action || theirs.detail !== mine.detail) {
        out.problem ??= { localId: mine.id, reason: 'differs between audit.db and the shared chain (edited on one side)' }
      } else out.matched++
    }
  }
  if (i < shared.rows.length) out.problem ??= { localId: Number(shared.rows[i]!.local_id), reason: 'in the shared chain but not in audit.db (removed here)' }
  return out
}
