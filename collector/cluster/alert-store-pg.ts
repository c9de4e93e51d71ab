// AlertStore on PostgreSQL: the alerting state the collectors of a cluster share. A fenced
// transaction (tx with fence: agent:<id>) first locks this node's lease row FOR SHARE, so it
// commits only while the lease is held and nobody can take it meanwhile. The outbox is drained
// by any node: due rows are claimed in one statement (FOR UPDATE SKIP LOCKED), a claim expiring
// by the database clock.

import type { AuditLog } from '../audit/log.js'
import type { Series } from '../alerting/evaluator.js'
import { FencedError, type AlertStore, type IncidentBookApi, type OutboxMail, type TxOptions, type Window } from '../alerting/store-api.js'
import type { Incident } from '../alerting/incident.js'
import { boundLines } from '../alerting/incident-store.js'
import { PgAlertBook } from './alert-book-pg.js'
import { PgRunner, type Query } from './pg-query.js'
import type { Pool } from './pg.js'

/** A claimed mail not sent within this (a crash, a hung SMTP) is taken again by any node. */
export const CLAIM_MS = 120_000

export interface PgStoreOptions {
  pool: Pool
  /** this collector's node name (lease holder, outbox claims) */
  node: string
  /** the epoch this node holds a lease at (undefined: not held): Cluster.leaseEpoch */
  epochOf?: (lease: string) => number | undefined
  /** a fenced write was refused (count it) */
  onFenced?: (lease: string) => void
  audit: AuditLog
  claimMs?: number
  /** close() ends the pool (tests); a collector's pool belongs to its Cluster */
  ownsPool?: boolean
}

export class PgAlertStore implements AlertStore {
  readonly backend = 'postgres' as const
  readonly book: IncidentBookApi
  private readonly r: PgRunner
  private readonly q: Query
  private scopeId: string | undefined

  constructor (private readonly o: PgStoreOptions) {
    this.r = new PgRunner(o.pool)
    this.q = this.r.q
    this.book = new PgAlertBook(this.r)
  }

  async close (): Promise<void> {
    if (this.o.ownsPool === true) await this.o.pool.end()
  }

  async tx<T> (fn: (t: AlertStore) => Promise<T>, opts?: TxOptions): Promise<T> {
    const lease = opts?.fence
    const lock = opts?.exclusive
    const fence = lease === undefined && lock === undefined
      ? undefined
      : async (q: Query): Promise<void> => {
        if (lock !== undefined) await q('SELECT pg_advisory_xact_lock(hashtext($1))', [`kanshi:${lock}`])
        if (lease === undefined) return
        const epoch = this.o.epochOf?.(lease)
        const held = epoch !== undefined && (await q('SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > now() FOR SHARE', [lease, this.o.node, epoch])).rowCount === 1
        if (!held) {
          this.o.onFenced?.(lease)
          throw new FencedError(lease)
        }
      }
    return await this.r.tx(async () => await fn(this), fence)
  }

  async scope (): Promise<string> {
    this.scopeId ??= (await this.q<{ value: string }>("SELECT value FROM kanshi_meta WHERE key = 'scope'")).rows[0]!.value
    return this.scopeId
  }

  // ---- series ----
  async loadSeries (agent?: string): Promise<Series[]> {
    const r = agent === undefined ? await this.q('SELECT data FROM alert_series') : await this.q('SELECT data FROM alert_series WHERE agent = $1', [agent])
    return r.rows.map(x => x['data'] as Series)
  }

  async saveSeries (list: Series[], removed: string[] = [], agent?: string): Promise<void> {
    await this.r.tx(async () => {
      if (list.length > 0) {
        await this.q(`INSERT INTO alert_series (key, rule, agent, data) SELECT k, r, a, d::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x(k, r, a, d)
          ON CONFLICT (key) DO UPDATE SET rule = EXCLUDED.rule, data = EXCLUDED.data, agent = CASE WHEN EXCLUDED.agent = '' THEN alert_series.agent ELSE EXCLUDED.agent END`,
        [list.map(s => s.key), list.map(s => s.rule), list.map(() => agent ?? ''), list.map(s => JSON.stringify(s))])
      }
      if (removed.length > 0) await this.q('DELETE FROM alert_series WHERE key = ANY($1::text[])', [removed])
    })
  }

  // ---- incidents ----
  private async incidentsWhere (sql: string, values: unknown[] = []): Promise<Incident[]> {
    return (await this.q(`SELECT * FROM incidents WHERE ${sql}`, values)).rows as unknown as Incident[]
  }

  openIncident: AlertStore['openIncident'] = async i => await this.r.tx(async () => {
    const r = await this.q<{ id: number }>(`INSERT INTO incidents (rule, severity, host, labels, summary, summary_en, description, description_en, value, threshold, detected_at, suppressed_by, series_key, systems, merged_into, matched_lines)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (series_key) WHERE resolved_at IS NULL DO NOTHING RETURNING id`,
    [i.rule, i.severity, i.host, JSON.stringify(i.labels), i.summary, i.summary_en, i.description, i.description_en, num(i.value), num(i.threshold), i.detected_at, i.suppressed_by, i.series_key, JSON.stringify(i.systems ?? []), i.merged_into ?? null, JSON.stringify(boundLines(i.matched_lines))])
    // Another node recorded this series' incident first: that one is the incident.
    if (r.rows[0] === undefined) return (await this.openIncidentFor(i.series_key))!.id
    if (i.merged_into !== undefined && i.merged_into !== null) await this.book.addSystems(i.merged_into, i.systems ?? [])
    return r.rows[0].id
  })

  async openIncidentFor (seriesKey: string): Promise<Incident | undefined> {
    return (await this.incidentsWhere('series_key = $1 AND resolved_at IS NULL ORDER BY id DESC LIMIT 1', [seriesKey]))[0]
  }

  async resolveIncident (id: number, at: number, reason: string | null, value: number): Promise<void> {
    await this.q('UPDATE incidents SET resolved_at = $1, resolve_reason = $2, value = $3 WHERE id = $4 AND resolved_at IS NULL', [at, reason, num(value), id])
  }

  async incident (id: number): Promise<Incident | undefined> { return (await this.incidentsWhere('id = $1', [id]))[0] }
  async incidents (from: number, to: number): Promise<Incident[]> { return await this.incidentsWhere('detected_at < $1 AND (resolved_at IS NULL OR resolved_at >= $2) ORDER BY detected_at', [to, from]) }
  async firing (): Promise<Incident[]> { return await this.incidentsWhere('resolved_at IS NULL ORDER BY detected_at') }
  async dueResolved (): Promise<Incident[]> { return await this.incidentsWhere('resolved_at IS NOT NULL AND resolved_notified = 0 AND last_notified_at IS NOT NULL') }
  async markQueued (ids: number[], at: number): Promise<void> { await this.q('UPDATE incidents SET last_notified_at = $1 WHERE id = ANY($2::bigint[])', [at, ids]) }
  async markResolvedQueued (ids: number[]): Promise<void> { await this.q('UPDATE incidents SET resolved_notified = 1 WHERE id = ANY($1::bigint[])', [ids]) }
  async markEscalated (ids: number[], at: number): Promise<void> { await this.q('UPDATE incidents SET escalated_at = $1 WHERE id = ANY($2::bigint[])', [at, ids]) }
  async suppress (id: number, by: string): Promise<void> { await this.q('UPDATE incidents SET suppressed_by = $1 WHERE id = $2 AND suppressed_by IS NULL', [by, id]) }
  async release (id: number): Promise<void> { await this.q("UPDATE incidents SET suppressed_by = NULL WHERE id = $1 AND suppressed_by LIKE 'parent:%'", [id]) }

  async lastResolvedAt (host: string, rules: readonly string[]): Promise<number | undefined> {
    if (rules.length === 0) return undefined
    const r = await this.q<{ t: number | null }>('SELECT max(resolved_at) AS t FROM incidents WHERE host = $1 AND resolved_at IS NOT NULL AND rule = ANY($2::text[])', [host, rules])
    return r.rows[0]?.t ?? undefined
  }

  async setTexts (id: number, t: Pick<Incident, 'summary' | 'summary_en' | 'description' | 'description_en'>): Promise<void> {
    await this.q('UPDATE incidents SET summary = $1, summary_en = $2, description = $3, description_en = $4 WHERE id = $5', [t.summary, t.summary_en, t.description, t.description_en, id])
  }

  async ack (id: number, by: string, at: number): Promise<Incident | undefined> {
    await this.q('UPDATE incidents SET acked_at = $1, acked_by = $2 WHERE id = $3 AND acked_at IS NULL', [at, by, id])
    return await this.incident(id)
  }

  // ---- outbox ----
  enqueue: AlertStore['enqueue'] = async m => (await this.q<{ id: number }>(`INSERT INTO outbox (kind, incident_ids, receiver, recipients, subject, text, html, attachments, created_at, next_attempt_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`, [m.kind, JSON.stringify(m.incident_ids), m.receiver, JSON.stringify(m.recipients), m.subject, m.text, m.html, JSON.stringify(m.attachments ?? []), m.created_at])).rows[0]!.id

  /**
   * dueMail claims the due mails for this node (its own claims again, others' once expired or once the
   * leader has judged the claimer down: silent in PostgreSQL and not answering its peers), oldest first.
   */
  async dueMail (now: number, limit = 20): Promise<OutboxMail[]> {
    const r = await this.q(`UPDATE outbox o SET claimed_by = $3, claim_until = now() + $4 * interval '1 millisecond'
      FROM (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1
              AND (claim_until IS NULL OR claim_until <= now() OR claimed_by = $3
                   OR claimed_by IN (SELECT node FROM node_down WHERE resolved_at IS NULL AND kind = 'down'))
            ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) d
      WHERE o.id = d.id RETURNING o.*`, [finite(now), limit, this.o.node, this.o.claimMs ?? CLAIM_MS])
    return (r.rows as unknown as OutboxMail[]).sort((a, b) => a.id - b.id)
  }

  async lastMailOf (kind: OutboxMail['kind']): Promise<number> {
    return (await this.q<{ t: number | null }>('SELECT max(created_at) AS t FROM outbox WHERE kind = $1', [kind])).rows[0]?.t ?? 0
  }

  async pendingMail (): Promise<number> {
    return (await this.q<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL')).rows[0]!.n
  }

  async mailSent (m: OutboxMail, at: number): Promise<void> {
    await this.r.tx(async () => {
      await this.q('UPDATE outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL, claimed_by = NULL, claim_until = NULL WHERE id = $2', [at, m.id])
      if (m.kind === 'firing' || m.kind === 'repeat') await this.q('UPDATE incidents SET notified_at = $1 WHERE id = ANY($2::bigint[]) AND notified_at IS NULL', [at, m.incident_ids])
    })
  }

  async mailFailed (id: number, error: string, retryAt: number): Promise<void> {
    await this.q('UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, claimed_by = NULL, claim_until = NULL WHERE id = $3', [error.slice(0, 500), retryAt, id])
  }

  // ---- scheduled reports ----
  async reportDone (kind: string): Promise<string | undefined> {
    return (await this.q<{ period: string }>('SELECT period FROM report_runs WHERE kind = $1', [kind])).rows[0]?.period
  }

  async setReportDone (kind: string, period: string, at: number): Promise<void> {
    await this.q('INSERT INTO report_runs (kind, period, at) VALUES ($1, $2, $3) ON CONFLICT (kind) DO UPDATE SET period = EXCLUDED.period, at = EXCLUDED.at', [kind, period, at])
  }

  // ---- silences and maintenance ----
  addWindow: AlertStore['addWindow'] = async (w, at) => (await this.q<{ id: number }>(`INSERT INTO alert_windows (kind, name, matchers, starts_at, ends_at, recur_days, recur_hours, created_by, comment, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`, [w.kind, w.name, JSON.stringify(w.matchers), w.starts_at, w.ends_at, w.recur_days === null ? null : JSON.stringify(w.recur_days), w.recur_hours, w.created_by, w.comment, at])).rows[0]!.id

  async deleteWindow (id: number, at: number): Promise<boolean> {
    return (await this.q('UPDATE alert_windows SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL', [at, id])).rowCount > 0
  }

  async windows (kind?: Window['kind'], includeDeleted = false): Promise<Window[]> {
    return (await this.q('SELECT * FROM alert_windows WHERE ($1::text IS NULL OR kind = $1) AND ($2 OR deleted_at IS NULL) ORDER BY id', [kind ?? null, includeDeleted])).rows as unknown as Window[]
  }

  // ---- audit: each collector's own log (collector/audit) ----
  async audit (actor: string, action: string, detail: unknown, at: number): Promise<void> { this.o.audit.append(actor, action, detail, at) }
  async auditLog (limit = 100): Promise<ReturnType<AuditLog['entries']>> { return this.o.audit.entries(limit) }
}

/** num: NaN and infinities are stored as NULL (SQLite does the same with NaN). */
function num (v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : v
}

/** finite: "everything due" (Infinity) as the largest bigint. */
function finite (t: number): number {
  return Number.isFinite(t) ? t : Number.MAX_SAFE_INTEGER
}
