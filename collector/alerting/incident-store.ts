// Incidents as 障害: merging related alerts into one primary row (merged_into), the
// operators' write-up edits, and notices to users (障害発生告知) in their own table.
// Works on the alerting database the AlertStore opened; the store delegates here.

import type Database from 'better-sqlite3'
import type { Incident } from './incident.js'

export interface Notice {
  id: number
  incident_id: number
  message: string
  expected_recovery_at: number | null
  published_at: number
  published_by: string
  /** the last correction (PATCH): when and by whom; null if never corrected */
  corrected_at: number | null
  corrected_by: string | null
  /** withdrawn (DELETE): off the status page and not counted as 告知; the row and the audit log keep it */
  withdrawn_at: number | null
  withdrawn_by: string | null
}

export type NewNotice = Pick<Notice, 'message' | 'expected_recovery_at' | 'published_at' | 'published_by'>
/** NoticeChange: what a correction may change */
export type NoticeChange = Partial<Pick<Notice, 'message' | 'expected_recovery_at'>>

/** The first lines a log rule matched, as stored with its incident: at most 20, 500 characters each. */
export const MATCHED_LINES_MAX = 20
export const MATCHED_LINE_CHARS = 500
export const boundLines = (lines: readonly string[] | undefined): string[] => (lines ?? []).slice(0, MATCHED_LINES_MAX).map(l => l.slice(0, MATCHED_LINE_CHARS))

export const NOTICES_SCHEMA = `
CREATE TABLE IF NOT EXISTS incident_notices (
  id INTEGER PRIMARY KEY AUTOINCREMENT, incident_id INTEGER NOT NULL, message TEXT NOT NULL,
  expected_recovery_at INTEGER, published_at INTEGER NOT NULL, published_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incident_notices_incident ON incident_notices (incident_id);
CREATE INDEX IF NOT EXISTS incidents_merged ON incidents (merged_into);
`
/** The notice columns added after the first schema: corrections and withdrawals. */
export const NOTICE_COLUMNS: ReadonlyArray<[string, string]> = [['corrected_at', 'INTEGER'], ['corrected_by', 'TEXT'], ['withdrawn_at', 'INTEGER'], ['withdrawn_by', 'TEXT']]

/** The write-up fields an operator edits, as stored (column names). */
export interface WriteUp {
  cause_text: string
  impact: string
  affected_users: string
  actions: string
  prevention: string
  systems: string[]
  confirmed_recovery_at: number | null
  service_affecting: number | null
  major_override: number | null
  exempt_category: string | null
  exempt_reason: string | null
  severity_override: string | null
}

export const WRITE_UP_FIELDS: ReadonlyArray<keyof WriteUp> = ['cause_text', 'impact', 'affected_users', 'actions', 'prevention', 'systems', 'confirmed_recovery_at', 'service_affecting', 'major_override', 'exempt_category', 'exempt_reason', 'severity_override']

/** migrateNotices creates the notices table, or adds the columns an older collector's lacks. */
export function migrateNotices (db: Database.Database): void {
  db.exec(NOTICES_SCHEMA)
  const have = (db.prepare('PRAGMA table_info(incident_notices)').all() as Array<{ name: string }>).map(c => c.name)
  for (const [name, type] of NOTICE_COLUMNS) if (!have.includes(name)) db.exec(`ALTER TABLE incident_notices ADD COLUMN ${name} ${type}`)
}

type Row = Record<string, unknown>
const parse = (r: Row): Incident => ({
  ...(r as unknown as Incident),
  labels: JSON.parse(r['labels'] as string) as Record<string, string>,
  systems: JSON.parse(r['systems'] as string) as string[],
  matched_lines: JSON.parse((r['matched_lines'] as string | undefined) ?? '[]') as string[]
})

export class IncidentBook {
  constructor (private readonly db: Database.Database) {
    migrateNotices(db)
  }

  get (id: number): Incident | undefined {
    const r = this.db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as Row | undefined
    return r === undefined ? undefined : parse(r)
  }

  /** primaryOf follows merged_into to the 障害 an alert belongs to (itself when it is a primary). */
  primaryOf (id: number): Incident | undefined {
    let inc = this.get(id)
    for (let hops = 0; inc !== undefined && inc.merged_into !== null && hops < 16; hops++) inc = this.get(inc.merged_into)
    return inc
  }

  members (primary: number): Incident[] {
    return (this.db.prepare('SELECT * FROM incidents WHERE merged_into = ? ORDER BY detected_at, id').all(primary) as Row[]).map(parse)
  }

  /**
   * mergeTarget finds the 障害 a new alert joins: a primary sharing one of its systems, detected
   * within windowMs before it, muted the same way (a maintenance alert never joins a real outage).
   * An alert muted as parent:<host> joins the 障害 of that host's open, unmuted alert, whatever its systems.
   */
  mergeTarget (systems: readonly string[], detectedAt: number, windowMs: number, suppressedBy: string | null): Incident | undefined {
    if (windowMs <= 0) return undefined
    const parent = parentOf(suppressedBy)
    if (parent !== undefined) {
      const r = this.db.prepare('SELECT id FROM incidents WHERE host = ? AND resolved_at IS NULL AND suppressed_by IS NULL AND detected_at <= ? ORDER BY detected_at, id LIMIT 1').get(parent, detectedAt) as { id: number } | undefined
      if (r !== undefined) return this.primaryOf(r.id)
    }
    if (systems.length === 0) return undefined
    const rows = (this.db.prepare('SELECT * FROM incidents WHERE merged_into IS NULL AND detected_at >= ? AND detected_at <= ? ORDER BY detected_at, id').all(detectedAt - windowMs, detectedAt) as Row[]).map(parse)
    const kind = (s: string | null): string => (s ?? '').split(':')[0]!
    return rows.find(i => kind(i.suppressed_by) === kind(suppressedBy) && i.systems.some(s => systems.includes(s)))
  }

  /** addSystems adds systems to a 障害's own list (the primary's systems column is the 障害's: operators may edit it). */
  addSystems (primary: number, systems: readonly string[]): void {
    const cur = this.get(primary)
    if (cur === undefined) return
    const next = [...new Set([...cur.systems, ...systems])]
    if (next.length !== cur.systems.length) this.db.prepare('UPDATE incidents SET systems = ? WHERE id = ?').run(JSON.stringify(next), primary)
  }

  /** merge makes id (and its members) part of into's 障害; it returns the primary's id. */
  merge (id: number, into: number): number {
    const target = this.primaryOf(into)
    if (target === undefined) throw new RangeError(`no incident ${into}`)
    if (target.id === id) throw new RangeError(`incident ${id} is already the 障害 ${into} belongs to`)
    const joining = [this.get(id), ...this.members(id)].flatMap(i => i?.systems ?? [])
    const run = this.db.transaction(() => {
      this.addSystems(target.id, joining)
      this.db.prepare('UPDATE incidents SET merged_into = ? WHERE merged_into = ?').run(target.id, id)
      this.db.prepare('UPDATE incidents SET merged_into = ? WHERE id = ?').run(target.id, id)
      // Notices published on the merged one now belong to the 障害 it joined.
      this.db.prepare('UPDATE incident_notices SET incident_id = ? WHERE incident_id = ?').run(target.id, id)
      this.refreshNoticeAt(target.id)
    })
    run()
    return target.id
  }

  /** split takes a member out of its 障害: it becomes a primary of its own again. */
  split (id: number): number | null {
    const inc = this.get(id)
    if (inc === undefined || inc.merged_into === null) return null
    this.db.prepare('UPDATE incidents SET merged_into = NULL WHERE id = ?').run(id)
    return inc.merged_into
  }

  /** update writes the changed write-up fields of a primary; it returns before and after of those fields. */
  update (id: number, changes: Partial<WriteUp>): { before: Partial<WriteUp>, after: Partial<WriteUp> } {
    const cur = this.get(id)
    if (cur === undefined) throw new RangeError(`no incident ${id}`)
    const before: Partial<WriteUp> = {}
    const after: Partial<WriteUp> = {}
    for (const k of WRITE_UP_FIELDS) {
      if (!(k in changes)) continue
      const was = cur[k]
      const now = changes[k]
      if (JSON.stringify(was) === JSON.stringify(now)) continue
      Object.assign(before, { [k]: was })
      Object.assign(after, { [k]: now })
    }
    const keys = Object.keys(after) as Array<keyof WriteUp>
    if (keys.length > 0) {
      const sets = keys.map(k => `${k} = ?`).join(', ')
      const vals = keys.map(k => k === 'systems' ? JSON.stringify(after[k]) : after[k] as string | number | null)
      this.db.prepare(`UPDATE incidents SET ${sets} WHERE id = ?`).run(...vals, id)
    }
    return { before, after }
  }

  /** addNotice records a published notice; the first one of a 障害 sets its user_notice_at. */
  addNotice (primary: number, n: NewNotice): number {
    const run = this.db.transaction(() => {
      const r = this.db.prepare('INSERT INTO incident_notices (incident_id, message, expected_recovery_at, published_at, published_by) VALUES (?, ?, ?, ?, ?)')
        .run(primary, n.message, n.expected_recovery_at, n.published_at, n.published_by)
      this.refreshNoticeAt(primary)
      return Number(r.lastInsertRowid)
    })
    return run()
  }

  /** changeNotice corrects a notice still published; published_at (the 告知 time) stays, corrected_at records the change. */
  changeNotice (primary: number, notice: number, c: NoticeChange, by: string, at: number): { before: NoticeChange, after: NoticeChange } | undefined {
    const cur = this.db.prepare('SELECT * FROM incident_notices WHERE id = ? AND incident_id = ? AND withdrawn_at IS NULL').get(notice, primary) as Notice | undefined
    if (cur === undefined) return undefined
    const { before, after } = noticeDiff(cur, c)
    if (Object.keys(after).length > 0) {
      this.db.prepare('UPDATE incident_notices SET message = ?, expected_recovery_at = ?, corrected_at = ?, corrected_by = ? WHERE id = ?')
        .run(after.message ?? cur.message, 'expected_recovery_at' in after ? after.expected_recovery_at : cur.expected_recovery_at, at, by, notice)
    }
    return { before, after }
  }

  /** withdrawNotice marks a notice withdrawn: it leaves the status page and no longer counts as the 告知. */
  withdrawNotice (primary: number, notice: number, by: string, at: number): Notice | undefined {
    const run = this.db.transaction(() => {
      const r = this.db.prepare('UPDATE incident_notices SET withdrawn_at = ?, withdrawn_by = ? WHERE id = ? AND incident_id = ? AND withdrawn_at IS NULL').run(at, by, notice, primary)
      if (r.changes === 0) return undefined
      this.refreshNoticeAt(primary)
      return this.db.prepare('SELECT * FROM incident_notices WHERE id = ?').get(notice) as Notice
    })
    return run()
  }

  notices (primary: number): Notice[] {
    return this.db.prepare('SELECT * FROM incident_notices WHERE incident_id = ? ORDER BY published_at, id').all(primary) as Notice[]
  }

  /** published lists notices published since `since`, or of 障害 still open, newest 障害 first. */
  published (since: number): Notice[] {
    return this.db.prepare(`SELECT n.* FROM incident_notices n JOIN incidents i ON i.id = n.incident_id
      WHERE n.withdrawn_at IS NULL AND (n.published_at >= ? OR i.resolved_at IS NULL OR EXISTS (SELECT 1 FROM incidents m WHERE m.merged_into = i.id AND m.resolved_at IS NULL))
      ORDER BY n.published_at DESC, n.id DESC`).all(since) as Notice[]
  }

  private refreshNoticeAt (primary: number): void {
    this.db.prepare('UPDATE incidents SET user_notice_at = (SELECT min(published_at) FROM incident_notices WHERE incident_id = ? AND withdrawn_at IS NULL) WHERE id = ?').run(primary, primary)
  }
}

/** parentOf: the host named by a parent:<host> mute, if that is what muted an alert. */
export const parentOf = (suppressedBy: string | null): string | undefined => suppressedBy?.startsWith('parent:') === true ? suppressedBy.slice('parent:'.length) : undefined

/** noticeDiff: before and after of the fields a correction really changes. */
export function noticeDiff (cur: Pick<Notice, 'message' | 'expected_recovery_at'>, c: NoticeChange): { before: NoticeChange, after: NoticeChange } {
  const before: NoticeChange = {}
  const after: NoticeChange = {}
  if (c.message !== undefined && c.message !== cur.message) { before.message = cur.message; after.message = c.message }
  if (c.expected_recovery_at !== undefined && c.expected_recovery_at !== (cur.expected_recovery_at === null ? null : Number(cur.expected_recovery_at))) {
    before.expected_recovery_at = cur.expected_recovery_at === null ? null : Number(cur.expected_recovery_at)
    after.expected_recovery_at = c.expected_recovery_at
  }
  return { before, after }
}

/** Folded is a 障害 read as one: its primary with its members' times, severity and hosts. */
export interface Folded {
  detected_at: number
  notified_at: number | null
  acked_at: number | null
  resolved_at: number | null
  severity: string
  hosts: string[]
  systems: string[]
}

const RANK: Record<string, number> = { info: 1, warning: 2, critical: 3 }

type Foldable = Pick<Incident, 'detected_at' | 'notified_at' | 'acked_at' | 'resolved_at' | 'severity' | 'host' | 'systems'> & { severity_override?: string | null }

/** fold: detected earliest, resolved latest (null while any is open), notified/acked earliest, severity highest (or the operator's override), the primary's systems. */
export function fold (primary: Foldable, members: ReadonlyArray<Pick<Incident, 'detected_at' | 'notified_at' | 'acked_at' | 'resolved_at' | 'severity' | 'host' | 'systems'>>): Folded {
  const all = [primary, ...members]
  const min = (xs: Array<number | null>): number | null => xs.reduce<number | null>((m, x) => x === null ? m : m === null || x < m ? x : m, null)
  return {
    detected_at: Math.min(...all.map(i => i.detected_at)),
    notified_at: min(all.map(i => i.notified_at)),
    acked_at: min(all.map(i => i.acked_at)),
    resolved_at: all.some(i => i.resolved_at === null) ? null : Math.max(...all.map(i => i.resolved_at!)),
    severity: primary.severity_override ?? all.reduce((s, i) => (RANK[i.severity] ?? 0) > (RANK[s] ?? 0) ? i.severity : s, primary.severity),
    hosts: [...new Set(all.map(i => i.host).filter(h => h !== ''))],
    // The primary's list is the 障害's: members' systems are added to it as they join, and an operator may correct it.
    systems: primary.systems
  }
}
