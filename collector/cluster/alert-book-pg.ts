// 障害 on PostgreSQL (the cluster's store): merges, write-ups and notices, as
// incident-store.ts does on SQLite, statement for statement.

import type { Incident } from '../alerting/incident.js'
import { WRITE_UP_FIELDS, noticeDiff, parentOf, type NewNotice, type Notice, type NoticeChange, type WriteUp } from '../alerting/incident-store.js'
import type { IncidentBookApi } from '../alerting/store-api.js'
import type { PgRunner, Row } from './pg-query.js'

const kind = (s: string | null): string => (s ?? '').split(':')[0]!

export class PgAlertBook implements IncidentBookApi {
  constructor (private readonly r: PgRunner) {}

  private async one (sql: string, values: unknown[]): Promise<Incident | undefined> {
    return (await this.r.q<Row>(sql, values)).rows[0] as unknown as Incident | undefined
  }

  async get (id: number): Promise<Incident | undefined> {
    return await this.one('SELECT * FROM incidents WHERE id = $1', [id])
  }

  async primaryOf (id: number): Promise<Incident | undefined> {
    let inc = await this.get(id)
    for (let hops = 0; inc !== undefined && inc.merged_into !== null && hops < 16; hops++) inc = await this.get(inc.merged_into)
    return inc
  }

  async members (primary: number): Promise<Incident[]> {
    return (await this.r.q('SELECT * FROM incidents WHERE merged_into = $1 ORDER BY detected_at, id', [primary])).rows as unknown as Incident[]
  }

  async mergeTarget (systems: readonly string[], detectedAt: number, windowMs: number, suppressedBy: string | null): Promise<Incident | undefined> {
    if (windowMs <= 0) return undefined
    const parent = parentOf(suppressedBy)
    if (parent !== undefined) {
      const r = (await this.r.q<{ id: number }>('SELECT id FROM incidents WHERE host = $1 AND resolved_at IS NULL AND suppressed_by IS NULL AND detected_at <= $2 ORDER BY detected_at, id LIMIT 1', [parent, detectedAt])).rows[0]
      if (r !== undefined) return await this.primaryOf(Number(r.id))
    }
    if (systems.length === 0) return undefined
    const rows = (await this.r.q('SELECT * FROM incidents WHERE merged_into IS NULL AND detected_at >= $1 AND detected_at <= $2 ORDER BY detected_at, id', [detectedAt - windowMs, detectedAt])).rows as unknown as Incident[]
    return rows.find(i => kind(i.suppressed_by) === kind(suppressedBy) && i.systems.some(s => systems.includes(s)))
  }

  async addSystems (primary: number, systems: readonly string[]): Promise<void> {
    const cur = await this.get(primary)
    if (cur === undefined) return
    const next = [...new Set([...cur.systems, ...systems])]
    if (next.length !== cur.systems.length) await this.r.q('UPDATE incidents SET systems = $1 WHERE id = $2', [JSON.stringify(next), primary])
  }

  async merge (id: number, into: number): Promise<number> {
    return await this.r.tx(async () => {
      const target = await this.primaryOf(into)
      if (target === undefined) throw new RangeError(`no incident ${into}`)
      if (target.id === id) throw new RangeError(`incident ${id} is already the 障害 ${into} belongs to`)
      const joining = [await this.get(id), ...await this.members(id)].flatMap(i => i?.systems ?? [])
      await this.addSystems(target.id, joining)
      await this.r.q('UPDATE incidents SET merged_into = $1 WHERE merged_into = $2', [target.id, id])
      await this.r.q('UPDATE incidents SET merged_into = $1 WHERE id = $2', [target.id, id])
      await this.r.q('UPDATE incident_notices SET incident_id = $1 WHERE incident_id = $2', [target.id, id])
      await this.refreshNoticeAt(target.id)
      return target.id
    })
  }

  async split (id: number): Promise<number | null> {
    const inc = await this.get(id)
    if (inc === undefined || inc.merged_into === null) return null
    await this.r.q('UPDATE incidents SET merged_into = NULL WHERE id = $1', [id])
    return inc.merged_into
  }

  async update (id: number, changes: Partial<WriteUp>): Promise<{ before: Partial<WriteUp>, after: Partial<WriteUp> }> {
    const cur = await this.get(id)
    if (cur === undefined) throw new RangeError(`no incident ${id}`)
    const before: Partial<WriteUp> = {}
    const after: Partial<WriteUp> = {}
    for (const k of WRITE_UP_FIELDS) {
      if (!(k in changes)) continue
      if (JSON.stringify(cur[k]) === JSON.stringify(changes[k])) continue
      Object.assign(before, { [k]: cur[k] })
      Object.assign(after, { [k]: changes[k] })
    }
    const keys = Object.keys(after) as Array<keyof WriteUp>
    if (keys.length > 0) {
      // Column names come from WRITE_UP_FIELDS only, never from the request.
      const sets = keys.map((k, i) => `${k} = $${i + 1}`).join(', ')
      const vals = keys.map(k => k === 'systems' ? JSON.stringify(after[k]) : after[k])
      await this.r.q(`UPDATE incidents SET ${sets} WHERE id = $${keys.length + 1}`, [...vals, id])
    }
    return { before, after }
  }

  async addNotice (primary: number, n: NewNotice): Promise<number> {
    return await this.r.tx(async () => {
      const r = await this.r.q<{ id: number }>('INSERT INTO incident_notices (incident_id, message, expected_recovery_at, published_at, published_by) VALUES ($1, $2, $3, $4, $5) RETURNING id',
        [primary, n.message, n.expected_recovery_at, n.published_at, n.published_by])
      await this.refreshNoticeAt(primary)
      return r.rows[0]!.id
    })
  }

  async changeNotice (primary: number, notice: number, c: NoticeChange, by: string, at: number): Promise<{ before: NoticeChange, after: NoticeChange } | undefined> {
    return await this.r.tx(async () => {
      const cur = (await this.r.q('SELECT * FROM incident_notices WHERE id = $1 AND incident_id = $2 AND withdrawn_at IS NULL FOR UPDATE', [notice, primary])).rows[0] as unknown as Notice | undefined
      if (cur === undefined) return undefined
      const { before, after } = noticeDiff(cur, c)
      if (Object.keys(after).length > 0) {
        await this.r.q('UPDATE incident_notices SET message = $1, expected_recovery_at = $2, corrected_at = $3, corrected_by = $4 WHERE id = $5',
          [after.message ?? cur.message, 'expected_recovery_at' in after ? after.expected_recovery_at : cur.expected_recovery_at, at, by, notice])
      }
      return { before, after }
    })
  }

  async withdrawNotice (primary: number, notice: number, by: string, at: number): Promise<Notice | undefined> {
    return await this.r.tx(async () => {
      const r = await this.r.q('UPDATE incident_notices SET withdrawn_at = $1, withdrawn_by = $2 WHERE id = $3 AND incident_id = $4 AND withdrawn_at IS NULL RETURNING *', [at, by, notice, primary])
      if (r.rows[0] === undefined) return undefined
      await this.refreshNoticeAt(primary)
      return r.rows[0] as unknown as Notice
    })
  }

  async notices (primary: number): Promise<Notice[]> {
    return (await this.r.q('SELECT * FROM incident_notices WHERE incident_id = $1 ORDER BY published_at, id', [primary])).rows as unknown as Notice[]
  }

  async published (since: number): Promise<Notice[]> {
    return (await this.r.q(`SELECT n.* FROM incident_notices n JOIN incidents i ON i.id = n.incident_id
      WHERE n.withdrawn_at IS NULL AND (n.published_at >= $1 OR i.resolved_at IS NULL OR EXISTS (SELECT 1 FROM incidents m WHERE m.merged_into = i.id AND m.resolved_at IS NULL))
      ORDER BY n.published_at DESC, n.id DESC`, [since])).rows as unknown as Notice[]
  }

  private async refreshNoticeAt (primary: number): Promise<void> {
    await this.r.q('UPDATE incidents SET user_notice_at = (SELECT min(published_at) FROM incident_notices WHERE incident_id = $1 AND withdrawn_at IS NULL) WHERE id = $1', [primary])
  }
}
