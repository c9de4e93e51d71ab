// The alerting state behind one asynchronous interface: series state, incidents and
// 障害 (book), the mail outbox, windows, report marks. SQLite (store-sqlite.ts) for one
// collector, PostgreSQL (store-pg.ts) for a cluster; callers never see which.

import type { Series } from './evaluator.js'
import type { AuditEntry } from '../audit/log.js'
import type { Incident } from './incident.js'
import type { NewNotice, Notice, NoticeChange, WriteUp } from './incident-store.js'

export type { Incident }

export interface OutboxMail {
  id: number
  kind: 'firing' | 'resolved' | 'repeat' | 'escalation' | 'deadman' | 'report' | 'cluster'
  incident_ids: number[]
  receiver: string
  recipients: string[]
  subject: string
  text: string
  html: string
  /** absolute paths of files attached to the mail (generated reports) */
  attachments: string[]
  created_at: number
  attempts: number
  next_attempt_at: number
  sent_at: number | null
  last_error: string | null
  /** cluster: the Message-ID a mail made while degraded keeps in PostgreSQL's outbox (else outbox-<id>.<scope>) */
  message_id?: string | null
}

export interface Matcher { [tag: string]: string }

export interface Window {
  id: number
  kind: 'silence' | 'maintenance'
  name: string
  matchers: Matcher
  starts_at: number
  ends_at: number
  /** recurring maintenance: weekdays (0-6) and a local time range "HH:MM-HH:MM" */
  recur_days: number[] | null
  recur_hours: string | null
  created_by: string
  comment: string
  created_at: number
  deleted_at: number | null
}

export type NewIncident = Pick<Incident, 'rule' | 'severity' | 'host' | 'labels' | 'summary' | 'summary_en' | 'description' | 'description_en' | 'value' | 'threshold' | 'detected_at' | 'suppressed_by' | 'series_key'> & { systems?: string[], merged_into?: number | null, matched_lines?: readonly string[] }
export type NewMail = Omit<OutboxMail, 'id' | 'attempts' | 'sent_at' | 'last_error' | 'next_attempt_at' | 'attachments'> & { attachments?: readonly string[] }
export type NewWindow = Omit<Window, 'id' | 'created_at' | 'deleted_at'>
export type Texts = Pick<Incident, 'summary' | 'summary_en' | 'description' | 'description_en'>

/** 障害: merges, write-ups and notices (incident-store.ts holds the SQLite version). */
export interface IncidentBookApi {
  get(id: number): Promise<Incident | undefined>
  /** primaryOf follows merged_into to the 障害 an alert belongs to (itself when it is a primary) */
  primaryOf(id: number): Promise<Incident | undefined>
  members(primary: number): Promise<Incident[]>
  mergeTarget(systems: readonly string[], detectedAt: number, windowMs: number, suppressedBy: string | null): Promise<Incident | undefined>
  addSystems(primary: number, systems: readonly string[]): Promise<void>
  merge(id: number, into: number): Promise<number>
  split(id: number): Promise<number | null>
  update(id: number, changes: Partial<WriteUp>): Promise<{ before: Partial<WriteUp>, after: Partial<WriteUp> }>
  addNotice(primary: number, n: NewNotice): Promise<number>
  /** changeNotice corrects a published notice of the 障害 (undefined: no such notice, or withdrawn); before/after of what changed */
  changeNotice(primary: number, notice: number, c: NoticeChange, by: string, at: number): Promise<{ before: NoticeChange, after: NoticeChange } | undefined>
  /** withdrawNotice takes a notice off the status page (kept, marked withdrawn); undefined: no such notice, or already withdrawn */
  withdrawNotice(primary: number, notice: number, by: string, at: number): Promise<Notice | undefined>
  notices(primary: number): Promise<Notice[]>
  published(since: number): Promise<Notice[]>
}

/**
 * TxOptions: fence names a lease (cluster: `agent:<id>`): the transaction commits only while this node
 * holds it. exclusive names a lock: one such transaction at a time across the cluster (the mail planner).
 */
export interface TxOptions { fence?: string, exclusive?: string }

/** FencedError: a fenced transaction refused because this node no longer holds the lease (nothing was written). */
export class FencedError extends Error {
  constructor (readonly lease: string) {
    super(`fenced: this collector no longer holds lease ${lease}; the write was refused`)
    this.name = 'FencedError'
  }
}

/**
 * AlertStore: every method returns a promise and throws the backend's error (a caller may
 * catch it). tx runs fn with a store whose changes commit together or not at all; a tx
 * inside a tx joins it.
 */
export interface AlertStore {
  readonly book: IncidentBookApi
  /** which backend: 'sqlite' (one collector) or 'postgres' (cluster) */
  readonly backend: 'sqlite' | 'postgres'
  close(): Promise<void>
  tx<T>(fn: (t: AlertStore) => Promise<T>, opts?: TxOptions): Promise<T>
  /** the id that makes Message-IDs unique to this store (one collector, or one cluster) */
  scope(): Promise<string>
  /** cluster, degraded: f runs again once the shared store answers (after reconciliation); otherwise nothing */
  whenShared?(f: () => Promise<void>): void

  /** loadSeries: every series, or (cluster) those last evaluated for one agent */
  loadSeries(agent?: string): Promise<Series[]>
  saveSeries(list: Series[], removed?: string[], agent?: string): Promise<void>

  openIncident(i: NewIncident): Promise<number>
  openIncidentFor(seriesKey: string): Promise<Incident | undefined>
  resolveIncident(id: number, at: number, reason: string | null, value: number): Promise<void>
  incident(id: number): Promise<Incident | undefined>
  incidents(from: number, to: number): Promise<Incident[]>
  firing(): Promise<Incident[]>
  /** resolved incidents that were mailed while firing and have no resolved mail yet */
  dueResolved(): Promise<Incident[]>
  markQueued(ids: number[], at: number): Promise<void>
  markResolvedQueued(ids: number[]): Promise<void>
  markEscalated(ids: number[], at: number): Promise<void>
  suppress(id: number, by: string): Promise<void>
  release(id: number): Promise<void>
  lastResolvedAt(host: string, rules: readonly string[]): Promise<number | undefined>
  setTexts(id: number, t: Texts): Promise<void>
  ack(id: number, by: string, at: number): Promise<Incident | undefined>

  enqueue(m: NewMail): Promise<number>
  dueMail(now: number, limit?: number): Promise<OutboxMail[]>
  lastMailOf(kind: OutboxMail['kind']): Promise<number>
  pendingMail(): Promise<number>
  mailSent(m: OutboxMail, at: number): Promise<void>
  mailFailed(id: number, error: string, retryAt: number): Promise<void>

  reportDone(kind: string): Promise<string | undefined>
  setReportDone(kind: string, period: string, at: number): Promise<void>

  addWindow(w: NewWindow, at: number): Promise<number>
  deleteWindow(id: number, at: number): Promise<boolean>
  windows(kind?: Window['kind'], includeDeleted?: boolean): Promise<Window[]>

  audit(actor: string, action: string, detail: unknown, at: number): Promise<void>
  auditLog(limit?: number): Promise<AuditEntry[]>
}
