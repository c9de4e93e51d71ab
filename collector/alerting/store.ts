// The alerting stage's durable state in SQLite (better-sqlite3, WAL journal,
// synchronous=FULL): series state, the incident record the SLA report reads,
// the mail outbox, silences and maintenance windows; audit rows go to collector/audit.
// Synchronous; callers use it through SqliteAlertStore (store-sqlite.ts, the AlertStore interface).

import Database from 'better-sqlite3'
import { join } from 'node:path'
import type { Series } from './evaluator.js'
import { AuditLog, type AuditEntry } from '../audit/log.js'
import { IncidentBook, boundLines, migrateNotices } from './incident-store.js'
import type { Incident, Matcher, NewIncident, NewMail, NewWindow, OutboxMail, Texts, Window } from './store-api.js'

export type { AlertStore, IncidentBookApi, Incident, Matcher, OutboxMail, Window } from './store-api.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS series (
  key TEXT PRIMARY KEY, rule TEXT NOT NULL, data TEXT NOT NULL, incident_id INTEGER
);
CREATE TABLE IF NOT EXISTS incidents (
  id INTEGER PRIMARY KEY AUTOINCREMENT, rule TEXT NOT NULL, severity TEXT NOT NULL, host TEXT NOT NULL,
  labels TEXT NOT NULL, summary TEXT NOT NULL, summary_en TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '', description_en TEXT NOT NULL DEFAULT '', value REAL, threshold REAL,
  detected_at INTEGER NOT NULL, notified_at INTEGER, acked_at INTEGER, acked_by TEXT,
  resolved_at INTEGER, resolve_reason TEXT, escalated_at INTEGER, suppressed_by TEXT,
  last_notified_at INTEGER, resolved_notified INTEGER NOT NULL DEFAULT 0, series_key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_open ON incidents (resolved_at);
CREATE INDEX IF NOT EXISTS incidents_detected ON incidents (detected_at);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, incident_ids TEXT NOT NULL, receiver TEXT NOT NULL,
  recipients TEXT NOT NULL, subject TEXT NOT NULL, text TEXT NOT NULL, html TEXT NOT NULL,
  created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL,
  sent_at INTEGER, last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (sent_at, next_attempt_at);
CREATE TABLE IF NOT EXISTS report_runs (kind TEXT PRIMARY KEY, period TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS windows (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, name TEXT NOT NULL, matchers TEXT NOT NULL,
  starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL, recur_days TEXT, recur_hours TEXT,
  created_by TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, deleted_at INTEGER
);
`

type Row = Record<string, unknown>

function incidentFromRow (r: Row): Incident {
  return { ...(r as unknown as Incident), labels: JSON.parse(r['labels'] as string) as Record<string, string>, systems: JSON.parse(r['systems'] as string) as string[], matched_lines: JSON.parse((r['matched_lines'] as string | undefined) ?? '[]') as string[] }
}

function mailFromRow (r: Row): OutboxMail {
  return {
    ...(r as unknown as OutboxMail),
    incident_ids: JSON.parse(r['incident_ids'] as string) as number[],
    recipients: JSON.parse(r['recipients'] as string) as string[],
    attachments: JSON.parse(r['attachments'] as string) as string[]
  }
}

function windowFromRow (r: Row): Window {
  return {
    ...(r as unknown as Window),
    matchers: JSON.parse(r['matchers'] as string) as Matcher,
    recur_days: r['recur_days'] === null ? null : JSON.parse(r['recur_days'] as string) as number[]
  }
}

/** migrate brings a database made by an older collector up to SCHEMA; each step is idempotent. */
export function migrate (db: Database.Database): void {
  const outbox = (db.prepare('PRAGMA table_info(outbox)').all() as Array<{ name: string }>).map(c => c.name)
  if (!outbox.includes('attachments')) db.exec("ALTER TABLE outbox ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]'")
  const incidents = (db.prepare('PRAGMA table_info(incidents)').all() as Array<{ name: string }>).map(c => c.name)
  for (const [name, type] of INCIDENT_WRITE_UP) if (!incidents.includes(name)) db.exec(`ALTER TABLE incidents ADD COLUMN ${name} ${type}`)
  migrateNotices(db)
}

/** The incident columns added after the first schema: business systems and the write-up. */
const INCIDENT_WRITE_UP: ReadonlyArray<[string, string]> = [
  ['systems', "TEXT NOT NULL DEFAULT '[]'"], ['cause_text', "TEXT NOT NULL DEFAULT ''"], ['impact', "TEXT NOT NULL DEFAULT ''"],
  ['affected_users', "TEXT NOT NULL DEFAULT ''"], ['actions', "TEXT NOT NULL DEFAULT ''"], ['prevention', "TEXT NOT NULL DEFAULT ''"],
  ['confirmed_recovery_at', 'INTEGER'], ['service_affecting', 'INTEGER'], ['major_override', 'INTEGER'],
  ['exempt_category', 'TEXT'], ['exempt_reason', 'TEXT'], ['merged_into', 'INTEGER'], ['user_notice_at', 'INTEGER'],
  ['severity_override', 'TEXT'], ['matched_lines', "TEXT NOT NULL DEFAULT '[]'"]
]
/** the newest incident column: a file without it needs migrate */
export const NEWEST_INCIDENT_COLUMN = INCIDENT_WRITE_UP[INCIDENT_WRITE_UP.length - 1]![0]

export class SqliteAlertDb {
  readonly db: Database.Database
  /** 障害: merges, write-ups and notices (incident-store.ts) */
  readonly book: IncidentBook

  private readonly auditLogFile: AuditLog
  private readonly ownsAudit: boolean

  /** audit is the collector's audit log; without one (tests, the report) the store opens dir/audit.db itself. */
  constructor (dir: string, audit?: AuditLog) {
    this.auditLogFile = audit ?? new AuditLog(dir)
    this.ownsAudit = audit === undefined
    this.db = new Database(join(dir, 'alerting.db'))
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    this.db.exec(SCHEMA)
    migrate(this.db)
    this.book = new IncidentBook(this.db)
  }

  close (): void {
    this.db.close()
    if (this.ownsAudit) this.auditLogFile.close()
  }

  tx<T> (fn: () => T): T { return this.db.transaction(fn)() }

  /** scope: a random id made once per database, for Message-IDs (outbox-<id>.<scope>@kanshi) */
  scope (): string {
    if (this.scopeId !== undefined) return this.scopeId
    this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('scope', lower(hex(randomblob(8))))").run()
    this.scopeId = (this.db.prepare("SELECT value FROM meta WHERE key = 'scope'").get() as { value: string }).value
    return this.scopeId
  }

  private scopeId: string | undefined

  // ---- series ----
  loadSeries (): Series[] {
    return (this.db.prepare('SELECT data FROM series').all() as Row[]).map(r => JSON.parse(r['data'] as string) as Series)
  }

  saveSeries (list: Series[], removed: string[] = []): void {
    const up = this.db.prepare('INSERT INTO series (key, rule, data) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET data = excluded.data')
    const del = this.db.prepare('DELETE FROM series WHERE key = ?')
    this.tx(() => {
      for (const s of list) up.run(s.key, s.rule, JSON.stringify(s))
      for (const k of removed) del.run(k)
    })
  }

  // ---- incidents ----
  openIncident (i: NewIncident): number {
    const r = this.db.prepare(`INSERT INTO incidents (rule, severity, host, labels, summary, summary_en, description, description_en, value, threshold, detected_at, suppressed_by, series_key, systems, merged_into, matched_lines)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(i.rule, i.severity, i.host, JSON.stringify(i.labels), i.summary, i.summary_en, i.description, i.description_en, i.value, i.threshold, i.detected_at, i.suppressed_by, i.series_key, JSON.stringify(i.systems ?? []), i.merged_into ?? null, JSON.stringify(boundLines(i.matched_lines)))
    // A member's systems become the 障害's (the primary's list), in the same transaction as the stage's.
    if (i.merged_into !== undefined && i.merged_into !== null) this.book.addSystems(i.merged_into, i.systems ?? [])
    return Number(r.lastInsertRowid)
  }

  openIncidentFor (seriesKey: string): Incident | undefined {
    const r = this.db.prepare('SELECT * FROM incidents WHERE series_key = ? AND resolved_at IS NULL ORDER BY id DESC LIMIT 1').get(seriesKey) as Row | undefined
    return r === undefined ? undefined : incidentFromRow(r)
  }

  resolveIncident (id: number, at: number, reason: string | null, value: number): void {
    this.db.prepare('UPDATE incidents SET resolved_at = ?, resolve_reason = ?, value = ? WHERE id = ? AND resolved_at IS NULL').run(at, reason, value, id)
  }

  incident (id: number): Incident | undefined {
    const r = this.db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as Row | undefined
    return r === undefined ? undefined : incidentFromRow(r)
  }

  incidents (from: number, to: number): Incident[] {
    return (this.db.prepare('SELECT * FROM incidents WHERE detected_at < ? AND (resolved_at IS NULL OR resolved_at >= ?) ORDER BY detected_at').all(to, from) as Row[]).map(incidentFromRow)
  }

  firing (): Incident[] {
    return (this.db.prepare('SELECT * FROM incidents WHERE resolved_at IS NULL ORDER BY detected_at').all() as Row[]).map(incidentFromRow)
  }

  /** dueResolved lists resolved incidents that were mailed while firing and have no resolved mail yet. */
  dueResolved (): Incident[] {
    return (this.db.prepare(`SELECT * FROM incidents WHERE resolved_at IS NOT NULL AND resolved_notified = 0 AND last_notified_at IS NOT NULL`).all() as Row[]).map(incidentFromRow)
  }

  markQueued (ids: number[], at: number): void {
    const st = this.db.prepare('UPDATE incidents SET last_notified_at = ? WHERE id = ?')
    for (const id of ids) st.run(at, id)
  }

  markResolvedQueued (ids: number[]): void {
    const st = this.db.prepare('UPDATE incidents SET resolved_notified = 1 WHERE id = ?')
    for (const id of ids) st.run(id)
  }

  markEscalated (ids: number[], at: number): void {
    const st = this.db.prepare('UPDATE incidents SET escalated_at = ? WHERE id = ?')
    for (const id of ids) st.run(at, id)
  }

  /** suppress records what muted an open incident (e.g. parent:<name>), if nothing did yet. */
  suppress (id: number, by: string): void {
    this.db.prepare('UPDATE incidents SET suppressed_by = ? WHERE id = ? AND suppressed_by IS NULL').run(by, id)
  }

  /** release clears a parent:<name> suppression (the host is down on its own): its mails are due again. */
  release (id: number): void {
    this.db.prepare("UPDATE incidents SET suppressed_by = NULL WHERE id = ? AND suppressed_by LIKE 'parent:%'").run(id)
  }

  /** lastResolvedAt is when the newest resolved incident of these rules for a host resolved. */
  lastResolvedAt (host: string, rules: readonly string[]): number | undefined {
    if (rules.length === 0) return undefined
    const r = this.db.prepare(`SELECT max(resolved_at) AS t FROM incidents WHERE host = ? AND resolved_at IS NOT NULL AND rule IN (${rules.map(() => '?').join(',')})`).get(host, ...rules) as { t: number | null }
    return r.t ?? undefined
  }

  /** setTexts rewrites an incident's summary and description (a parent's incident naming the hosts behind it). */
  setTexts (id: number, t: Texts): void {
    this.db.prepare('UPDATE incidents SET summary = ?, summary_en = ?, description = ?, description_en = ? WHERE id = ?').run(t.summary, t.summary_en, t.description, t.description_en, id)
  }

  ack (id: number, by: string, at: number): Incident | undefined {
    this.db.prepare('UPDATE incidents SET acked_at = ?, acked_by = ? WHERE id = ? AND acked_at IS NULL').run(at, by, id)
    return this.incident(id)
  }

  // ---- outbox ----
  enqueue (m: NewMail): number {
    const r = this.db.prepare(`INSERT INTO outbox (kind, incident_ids, receiver, recipients, subject, text, html, attachments, created_at, next_attempt_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(m.kind, JSON.stringify(m.incident_ids), m.receiver, JSON.stringify(m.recipients), m.subject, m.text, m.html, JSON.stringify(m.attachments ?? []), m.created_at, m.created_at)
    return Number(r.lastInsertRowid)
  }

  dueMail (now: number, limit = 20): OutboxMail[] {
    return (this.db.prepare('SELECT * FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?').all(now, limit) as Row[]).map(mailFromRow)
  }

  /** lastMailOf returns when the newest mail of a kind was queued (0 when never). */
  lastMailOf (kind: OutboxMail['kind']): number {
    return (this.db.prepare('SELECT max(created_at) AS t FROM outbox WHERE kind = ?').get(kind) as { t: number | null }).t ?? 0
  }

  pendingMail (): number {
    return (this.db.prepare('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL').get() as { n: number }).n
  }

  /** mailSent records the SMTP server's acceptance; a first firing mail sets notified_at. */
  mailSent (m: OutboxMail, at: number): void {
    this.tx(() => {
      this.db.prepare('UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?').run(at, m.id)
      if (m.kind === 'firing' || m.kind === 'repeat') {
        const st = this.db.prepare('UPDATE incidents SET notified_at = ? WHERE id = ? AND notified_at IS NULL')
        for (const id of m.incident_ids) st.run(at, id)
      }
    })
  }

  mailFailed (id: number, error: string, retryAt: number): void {
    this.db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?').run(error.slice(0, 500), retryAt, id)
  }

  // ---- scheduled reports ----
  /** reportDone is the period of a report kind last completed (queued for mail), or undefined before the first. */
  reportDone (kind: string): string | undefined {
    return (this.db.prepare('SELECT period FROM report_runs WHERE kind = ?').get(kind) as { period: string } | undefined)?.period
  }

  /** setReportDone records a completed period; call it in the transaction that queues its mails. */
  setReportDone (kind: string, period: string, at: number): void {
    this.db.prepare('INSERT INTO report_runs (kind, period, at) VALUES (?, ?, ?) ON CONFLICT(kind) DO UPDATE SET period = excluded.period, at = excluded.at').run(kind, period, at)
  }

  // ---- silences and maintenance ----
  addWindow (w: NewWindow, at: number): number {
    const r = this.db.prepare(`INSERT INTO windows (kind, name, matchers, starts_at, ends_at, recur_days, recur_hours, created_by, comment, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(w.kind, w.name, JSON.stringify(w.matchers), w.starts_at, w.ends_at, w.recur_days === null ? null : JSON.stringify(w.recur_days), w.recur_hours, w.created_by, w.comment, at)
    return Number(r.lastInsertRowid)
  }

  deleteWindow (id: number, at: number): boolean {
    return this.db.prepare('UPDATE windows SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL').run(at, id).changes > 0
  }

  windows (kind?: Window['kind'], includeDeleted = false): Window[] {
    const rows = this.db.prepare(`SELECT * FROM windows WHERE (? IS NULL OR kind = ?) AND (? OR deleted_at IS NULL) ORDER BY id`).all(kind ?? null, kind ?? null, includeDeleted ? 1 : 0) as Row[]
    return rows.map(windowFromRow)
  }

  // ---- audit ----
  // One audit log for the whole collector (collector/audit): these delegate to it.
  audit (actor: string, action: string, detail: unknown, at: number): void {
    this.auditLogFile.append(actor, action, detail, at)
  }

  auditLog (limit = 100): AuditEntry[] {
    return this.auditLogFile.entries(limit)
  }
}
