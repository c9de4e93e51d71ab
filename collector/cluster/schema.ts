// The cluster's tables in PostgreSQL, as numbered migrations recorded in kanshi_schema.
// migrate() runs them under an advisory lock in one transaction: collectors starting at
// once wait for each other, and a second run finds nothing to do.

import type { Pool } from './pg.js'

/** Any fixed number: the advisory lock that serialises migrations (pg_advisory_xact_lock). */
const MIGRATION_LOCK = 0x6b616e73

export const MIGRATIONS: readonly string[] = [
  // 1: nodes, leases, agent sessions, the node-down notices, and the record of leader job runs.
  `CREATE TABLE nodes (
     node text PRIMARY KEY,
     started_at timestamptz NOT NULL,
     last_seen timestamptz NOT NULL,
     stopped_at timestamptz,
     version text NOT NULL,
     address text NOT NULL
   );
   CREATE TABLE leases (
     name text PRIMARY KEY,
     holder text NOT NULL,
     epoch bigint NOT NULL,
     expires_at timestamptz NOT NULL
   );
   CREATE TABLE agent_sessions (
     agent text NOT NULL,
     node text NOT NULL,
     connected boolean NOT NULL,
     connected_at timestamptz NOT NULL,
     last_seen timestamptz NOT NULL,
     PRIMARY KEY (agent, node)
   );
   CREATE INDEX agent_sessions_node ON agent_sessions (node);
   CREATE TABLE node_down (
     node text NOT NULL,
     down_at timestamptz NOT NULL,
     leader text NOT NULL,
     epoch bigint NOT NULL,
     agents integer NOT NULL,
     moved jsonb NOT NULL,
     lost text[] NOT NULL,
     resolved_at timestamptz,
     PRIMARY KEY (node, down_at)
   );
   CREATE UNIQUE INDEX node_down_open ON node_down (node) WHERE resolved_at IS NULL;
   CREATE TABLE cluster_jobs (
     job text NOT NULL,
     due_at timestamptz NOT NULL,
     node text NOT NULL,
     epoch bigint NOT NULL,
     ran_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE INDEX cluster_jobs_due ON cluster_jobs (job, due_at);`
]

/** migrate brings the schema to the newest version; it returns the versions it applied. */
export async function migrate (pool: Pool): Promise<number[]> {
  const c = await pool.connect()
  try {
    await c.query('BEGIN')
    await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await c.query('CREATE TABLE IF NOT EXISTS kanshi_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())')
    const r = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM kanshi_schema')
    const have = r.rows[0]?.v ?? 0
    const applied: number[] = []
    for (let v = have + 1; v <= MIGRATIONS.length; v++) {
      await c.query(MIGRATIONS[v - 1]!)
      await c.query('INSERT INTO kanshi_schema (version) VALUES ($1)', [v])
      applied.push(v)
    }
    await c.query('COMMIT')
    c.release()
    return applied
  } catch (err) {
    // Not ROLLBACK: after a timeout it would wait behind the stuck statement. The connection is
    // dropped instead (a late reply must not meet the next statement); the server rolls back.
    c.release(err as Error)
    throw err
  }
}
