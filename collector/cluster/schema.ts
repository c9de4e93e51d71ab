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
   CREATE INDEX cluster_jobs_due ON cluster_jobs (job, due_at);`,
  // 2: the alerting state shared by the cluster (collector/alerting/store-pg.ts): times are ms since
  // the epoch (bigint), as in the single collector's SQLite, so rows read the same from both.
  `CREATE TABLE kanshi_meta (key text PRIMARY KEY, value text NOT NULL);
   INSERT INTO kanshi_meta (key, value) VALUES ('scope', substr(md5(random()::text || clock_timestamp()::text), 1, 16));
   CREATE TABLE alert_series (key text PRIMARY KEY, rule text NOT NULL, agent text NOT NULL DEFAULT '', data jsonb NOT NULL);
   CREATE INDEX alert_series_agent ON alert_series (agent);
   CREATE TABLE incidents (
     id bigserial PRIMARY KEY, rule text NOT NULL, severity text NOT NULL, host text NOT NULL, labels jsonb NOT NULL,
     summary text NOT NULL, summary_en text NOT NULL DEFAULT '', description text NOT NULL DEFAULT '', description_en text NOT NULL DEFAULT '',
     value double precision, threshold double precision, detected_at bigint NOT NULL, notified_at bigint, acked_at bigint, acked_by text,
     resolved_at bigint, resolve_reason text, escalated_at bigint, suppressed_by text, last_notified_at bigint,
     resolved_notified integer NOT NULL DEFAULT 0, series_key text NOT NULL, systems jsonb NOT NULL DEFAULT '[]',
     cause_text text NOT NULL DEFAULT '', impact text NOT NULL DEFAULT '', affected_users text NOT NULL DEFAULT '', actions text NOT NULL DEFAULT '',
     prevention text NOT NULL DEFAULT '', confirmed_recovery_at bigint, service_affecting integer, major_override integer,
     exempt_category text, exempt_reason text, merged_into bigint, user_notice_at bigint
   );
   -- One open incident per series, whichever node records it.
   CREATE UNIQUE INDEX incidents_open_series ON incidents (series_key) WHERE resolved_at IS NULL;
   CREATE INDEX incidents_open ON incidents (resolved_at);
   CREATE INDEX incidents_detected ON incidents (detected_at);
   CREATE INDEX incidents_merged ON incidents (merged_into);
   CREATE TABLE incident_notices (
     id bigserial PRIMARY KEY, incident_id bigint NOT NULL, message text NOT NULL, expected_recovery_at bigint,
     published_at bigint NOT NULL, published_by text NOT NULL
   );
   CREATE INDEX incident_notices_incident ON incident_notices (incident_id);
   CREATE TABLE outbox (
     id bigserial PRIMARY KEY, kind text NOT NULL, incident_ids jsonb NOT NULL, receiver text NOT NULL, recipients jsonb NOT NULL,
     subject text NOT NULL, text text NOT NULL, html text NOT NULL, attachments jsonb NOT NULL DEFAULT '[]',
     created_at bigint NOT NULL, attempts integer NOT NULL DEFAULT 0, next_attempt_at bigint NOT NULL, sent_at bigint, last_error text,
     claimed_by text, claim_until timestamptz
   );
   CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
   CREATE TABLE report_runs (kind text PRIMARY KEY, period text NOT NULL, at bigint NOT NULL);
   CREATE TABLE alert_windows (
     id bigserial PRIMARY KEY, kind text NOT NULL, name text NOT NULL, matchers jsonb NOT NULL, starts_at bigint NOT NULL, ends_at bigint NOT NULL,
     recur_days jsonb, recur_hours text, created_by text NOT NULL, comment text NOT NULL DEFAULT '', created_at bigint NOT NULL, deleted_at bigint
   );`,
  // 3: degraded mode (cluster/degraded-reconcile.ts): each incident a collector recorded alone maps to one row, and a
  // mail keeps its Message-ID from the local store, so reconciling twice writes nothing twice.
  `CREATE TABLE degraded_origins (origin text PRIMARY KEY, incident_id bigint NOT NULL, node text NOT NULL, at bigint NOT NULL);
   ALTER TABLE outbox ADD COLUMN message_id text;
   CREATE UNIQUE INDEX outbox_message_id ON outbox (message_id) WHERE message_id IS NOT NULL;`,
  // 4: the console's sessions (cluster/console-sessions-pg.ts: only a SHA-256 of the session id, times in ms),
  // the shared audit chain and API tokens' last use.
  `CREATE TABLE console_sessions (
     id_sha256 text PRIMARY KEY, name text NOT NULL, role text NOT NULL, csrf text NOT NULL, node text NOT NULL,
     created_at bigint NOT NULL, last_used bigint NOT NULL
   );
   CREATE INDEX console_sessions_created ON console_sessions (created_at);
   -- The cluster's audit chain (cluster/audit-pg.ts): every node's records, copied from its audit.db in order,
   -- chained one after another under an advisory lock; audit_cursor is each node's last copied record (the witness).
   CREATE TABLE audit_log (
     id bigint PRIMARY KEY, node text NOT NULL, local_id bigint NOT NULL, at bigint NOT NULL, actor text NOT NULL,
     action text NOT NULL, detail text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL, UNIQUE (node, local_id)
   );
   CREATE TABLE audit_cursor (node text PRIMARY KEY, local_id bigint NOT NULL, shared_id bigint NOT NULL, hash text NOT NULL);
   CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$;
   CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
   CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
   -- API tokens' last use (cluster/token-use-pg.ts), written at most once per token per minute by each node.
   CREATE TABLE api_token_use (name text PRIMARY KEY, last_used_at bigint NOT NULL, node text NOT NULL);`,
  // 5: a node's audit.db that is not the one it copied before (a lost data directory, a restore) is a new
  // generation: its records are copied under gen + 1 instead of colliding with, or hiding behind, the old ones.
  `ALTER TABLE audit_log ADD COLUMN gen integer NOT NULL DEFAULT 0;
   ALTER TABLE audit_log DROP CONSTRAINT audit_log_node_local_id_key;
   ALTER TABLE audit_log ADD CONSTRAINT audit_log_node_gen_local UNIQUE (node, gen, local_id);
   ALTER TABLE audit_cursor ADD COLUMN gen integer NOT NULL DEFAULT 0;`,
  // 6: a silent collector that still answers its peers is cut off from PostgreSQL, not down (cluster/peer-verdict.ts):
  // its notice is a node_down row of kind 'cut_off' (still one open row per node, whichever kind).
  `ALTER TABLE node_down ADD COLUMN kind text NOT NULL DEFAULT 'down' CHECK (kind IN ('down', 'cut_off'));`,
  // 7: 障害 (alerting/incident-store.ts, as SQLite's migrate): an operator's severity, the lines a log rule matched,
  // and notices corrected or withdrawn (kept, marked) after they were published.
  `ALTER TABLE incidents ADD COLUMN severity_override text;
   ALTER TABLE incidents ADD COLUMN matched_lines jsonb NOT NULL DEFAULT '[]';
   ALTER TABLE incident_notices ADD COLUMN corrected_at bigint;
   ALTER TABLE incident_notices ADD COLUMN corrected_by text;
   ALTER TABLE incident_notices ADD COLUMN withdrawn_at bigint;
   ALTER TABLE incident_notices ADD COLUMN withdrawn_by text;`
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
