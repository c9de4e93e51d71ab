// Leases in PostgreSQL with expiry by the DATABASE clock (now()), so nodes' clocks never
// decide who leads. Acquire and renew are one statement; the epoch (fencing token)
// increases whenever the lease changes hands or lapsed.

import type { Pool } from './pg.js'

export interface Held { epoch: number, remainingMs: number }

/** acquire takes or renews lease `name` for `holder` for `ms`; undefined when another node holds it. */
export async function acquire (pool: Pool, name: string, holder: string, ms: number): Promise<Held | undefined> {
  const r = await pool.query<{ epoch: string, remaining_ms: number }>(
    `INSERT INTO leases AS l (name, holder, epoch, expires_at) VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
     ON CONFLICT (name) DO UPDATE SET
       holder = EXCLUDED.holder,
       epoch = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > now() THEN l.epoch ELSE l.epoch + 1 END,
       expires_at = EXCLUDED.expires_at
     WHERE l.holder = EXCLUDED.holder OR l.expires_at <= now()
     RETURNING l.epoch, (extract(epoch FROM l.expires_at - now()) * 1000)::float8 AS remaining_ms`, [name, holder, ms])
  const row = r.rows[0]
  return row === undefined ? undefined : { epoch: Number(row.epoch), remainingMs: row.remaining_ms }
}

/** release gives the lease up at once (a graceful stop), if `holder` still has it at `epoch`. */
export async function release (pool: Pool, name: string, holder: string, epoch: number): Promise<void> {
  await pool.query('UPDATE leases SET expires_at = now() WHERE name = $1 AND holder = $2 AND epoch = $3', [name, holder, epoch])
}

export interface LeaseRow { holder: string, epoch: number, live: boolean }

export async function current (pool: Pool, name: string): Promise<LeaseRow | undefined> {
  const r = await pool.query<{ holder: string, epoch: string, live: boolean }>('SELECT holder, epoch, expires_at > now() AS live FROM leases WHERE name = $1', [name])
  const row = r.rows[0]
  return row === undefined ? undefined : { holder: row.holder, epoch: Number(row.epoch), live: row.live }
}

/** FENCE is the SQL condition "holder still has lease name at epoch, unexpired" ($1 name, $2 holder, $3 epoch). */
export const FENCE = 'EXISTS (SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > now())'

/** stillHeld asks the database whether holder has the lease at epoch (a job checks it right before it acts). */
export async function stillHeld (pool: Pool, name: string, holder: string, epoch: number): Promise<boolean> {
  const r = await pool.query<{ ok: boolean }>(`SELECT ${FENCE} AS ok`, [name, holder, epoch])
  return r.rows[0]?.ok === true
}

/**
 * recordRun claims the run of a leader job for due time dueAt: a row in cluster_jobs, written only while
 * holder has the lease at epoch and no run of that due time exists; false when fenced off or already run.
 */
export async function recordRun (pool: Pool, holder: string, epoch: number, job: string, dueAt: number): Promise<boolean> {
  const r = await pool.query(`INSERT INTO cluster_jobs (job, due_at, node, epoch) SELECT $4, to_timestamp($5 / 1000.0), $2, $3
    WHERE ${FENCE} AND NOT EXISTS (SELECT 1 FROM cluster_jobs WHERE job = $4 AND due_at = to_timestamp($5 / 1000.0))`, ['leader', holder, epoch, job, dueAt])
  return r.rowCount === 1
}
