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
}

export const NOTICES_SCHEMA = `
CREATE TABLE IF NOT EXISTS incident_notices (
  id INTEGER PRIMARY KEY AUTOINCREMENT, incident_id INTEGER NOT NULL, message TEXT NOT NULL,
  expected_recovery_at INTEGER, published_at INTEGER NOT NULL, published_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incident_notices_incident ON incident_notices (incident_id);
CREATE INDEX IF NOT EXISTS incidents_merged ON incidents (merged_into);
`

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
}

export const WRITE_UP_FIELDS: ReadonlyArray<keyof WriteUp> = ['cause_text', 'impact', 'affected_users', 'actions', 'prevention', 'systems', 'confirmed_recovery_at', 'service_affecting', 'major_override', 'exempt_category', 'exempt_reason']

type Row = Record<string, unknown>
const parse = (r: Row): Incident => ({ ...(r as unknown as Incident), labels: JSON.parse(r['labels'] as string) as Record<string, string>, systems: JSON.parse(r['systems'] as string) as string[] })

export class IncidentBook {
  constructor (private readonly db: Database.Database) {
    db.exec(NOTICES_SCHEMA)
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
   */
  mergeTarget (systems: readonly string[], detectedAt: number, windowMs: number, suppressedBy: string | null): Incident | undefined {
    if (windowMs <= 0 || systems.length === 0) return undefined
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
  addNotice (primary: number, n: Omit<Notice, 'id' | 'incident_id'>): number {
    const run = this.db.transaction(() => {
      const r = this.db.prepare('INSERT INTO incident_notices (incident_id, message, expected_recovery_at, published_at, published_by) VALUES (?, ?, ?, ?, ?)')
        .run(primary, n.message, n.expected_recovery_at, n.published_at, n.published_by)
      this.refreshNoticeAt(primary)
      return Number(r.lastInsertRowid)
    })
    return run()
  }

  notices (primary: number): Notice[] {
    return this.db.prepare('SELECT * FROM incident_notices WHERE incident_id = ? ORDER BY published_at, id').all(primary) as Notice[]
  }

  /** published lists notices published since `since`, or of 障害 still open, newest 障害 first. */
  published (since: number): Notice[] {
    return this.db.prepare(`SELECT n.* FROM incident_notices n JOIN incidents i ON i.id = n.incident_id
      WHERE n.published_at >= ? OR i.resolved_at IS NULL OR EXISTS (SELECT 1 FROM incidents m WHERE m.merged_into = i.id AND m.resolved_at IS NULL)
      ORDER BY n.published_at DESC, n.id DESC`).all(since) as Notice[]
  }

  private refreshNoticeAt (primary: number): void {
    this.db.prepare('UPDATE incidents SET user_notice_at = (SELECT min(published_at) FROM incident_notices WHERE incident_id = ?) WHERE id = ?').run(primary, primary)
  }
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

/** fold: detected earliest, resolved latest (null while any is open), notified/acked earliest, severity highest, the primary's systems. */
export function fold (primary: Pick<Incident, 'detected_at' | 'notified_at' | 'acked_at' | 'resolved_at' | 'severity' | 'host' | 'systems'>, members: ReadonlyArray<Pick<Incident, 'detected_at' | 'notified_at' | 'acked_at' | 'resolved_at' | 'severity' | 'host' | 'systems'>>): Folded {
  const all = [primary, ...members]
  const min = (xs: Array<number | null>): number | null => xs.reduce<number | null>((m, x) => x === null ? m : m === null || x < m ? x : m, null)
  return {
    detected_at: Math.min(...all.map(i => i.detected_at)),
    notified_at: min(all.map(i => i.notified_at)),
    acked_at: min(all.map(i => i.acked_at)),
    resolved_at: all.some(i => i.resolved_at === null) ? null : Math.max(...all.map(i => i.resolved_at!)),
    severity: all.reduce((s, i) => (RANK[i.severity] ?? 0) > (RANK[s] ?? 0) ? i.severity : s, primary.severity),
    hosts: [...new Set(all.map(i => i.host).filter(h => h !== ''))],
    // The primary's list is the 障害's: members' systems are added to it as they join, and an operator may correct it.
    systems: primary.systems
  }
}
