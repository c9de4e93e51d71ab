// Reconciliation after degraded mode: what this collector decided alone is written to
// PostgreSQL. Incidents opened or changed here (an open PG incident of the same series is the
// same incident: updated, never a second one), series state, mails sent here (recorded as
// sent, same Message-ID) and mails held here (queued). Each agent's changes go in one
// transaction that first checks its lease: an agent another node now holds is not written
// (dropped, counted). Idempotent: degraded_origins maps each local incident to its PG row and
// outbox.message_id is unique, so a second run (after a crash mid-way) changes nothing.

import type pg from 'pg'
import { messageIdOf } from '../alerting/notify/send.js'
import type { Incident, OutboxMail } from '../alerting/store-api.js'
import { LOCAL_ID_MIN, type LocalAlerting } from './degraded-local.js'
import type { ReconcileResult } from './degraded-status.js'
import type { Pool } from './pg.js'

/** The incident columns written from a local row (migrations 2 and 7, id aside). */
const COLS = ['rule', 'severity', 'host', 'labels', 'summary', 'summary_en', 'description', 'description_en', 'value', 'threshold', 'detected_at', 'notified_at',
  'acked_at', 'acked_by', 'resolved_at', 'resolve_reason', 'escalated_at', 'suppressed_by', 'last_notified_at', 'resolved_notified', 'series_key', 'systems',
  'cause_text', 'impact', 'affected_users', 'actions', 'prevention', 'confirmed_recovery_at', 'service_affecting', 'major_override', 'exempt_category',
  'exempt_reason', 'user_notice_at', 'severity_override', 'matched_lines'] as const

/** heldMessageId: the Message-ID a held mail keeps from the local store to PostgreSQL's outbox. */
export const heldMessageId = (id: number, scope: string): string => `<held-${id}.${scope}@kanshi>`

export interface ReconcileOptions {
  pool: Pool
  node: string
  local: LocalAlerting
  /** the local store's scope (Message-IDs of mails sent while degraded) */
  scope: string
  now: number
  /** an agent's local changes were dropped: another node holds its lease */
  onDropped?: (lease: string, changes: number) => void
}

type Q = (sql: string, values?: unknown[]) => Promise<pg.QueryResult>

/** reconcile writes the local journal to PostgreSQL; it throws PostgreSQL's error (the caller keeps the journal and tries again). */
export async function reconcile (o: ReconcileOptions): Promise<ReconcileResult> {
  const { local } = o
  const res: ReconcileResult = { at: o.now, incidents: 0, sent: 0, held: 0, dropped: 0, series: 0 }
  const byFence = new Map<string | null, { ids: number[], series: ReturnType<LocalAlerting['journalSeries']> }>()
  const group = (f: string | null): { ids: number[], series: ReturnType<LocalAlerting['journalSeries']> } => {
    let g = byFence.get(f)
    if (g === undefined) { g = { ids: [], series: [] }; byFence.set(f, g) }
    return g
  }
  for (const d of local.dirty()) group(d.fence).ids.push(d.id)
  for (const s of local.journalSeries()) group(s.fence).series.push(s)

  /** local incident id → its PostgreSQL id; dropped: local ids not written */
  const map = new Map<number, number>()
  const dropped = new Set<number>()
  const merges: Array<{ id: number, into: number }> = []
  for (const [fence, g] of byFence) {
    await inTx(o.pool, async q => {
      if (fence !== null && await heldElsewhere(q, fence, o.node)) {
        for (const id of g.ids) dropped.add(id)
        const n = g.ids.length + g.series.length
        res.dropped += n
        o.onDropped?.(fence, n)
        return
      }
      for (const id of g.ids) {
        const l = await local.store.incident(id)
        if (l === undefined) continue
        const p = await writeIncident(q, l, `${o.scope}:${id}`, o.node, o.now)
        if (p === undefined) continue
        map.set(id, p)
        if (l.merged_into !== null) merges.push({ id: p, into: l.merged_into })
        res.incidents++
      }
      for (const s of g.series) {
        if (s.series === null) await q('DELETE FROM alert_series WHERE key = $1', [s.key])
        else {
          await q(`INSERT INTO alert_series (key, rule, agent, data) VALUES ($1, $2, $3, $4::jsonb)
            ON CONFLICT (key) DO UPDATE SET rule = EXCLUDED.rule, data = EXCLUDED.data, agent = CASE WHEN EXCLUDED.agent = '' THEN alert_series.agent ELSE EXCLUDED.agent END`,
          [s.key, s.series.rule, s.agent, JSON.stringify(s.series)])
        }
        res.series++
      }
    })
  }
  const pgId = (id: number): number | undefined => dropped.has(id) ? undefined : map.get(id) ?? (id < LOCAL_ID_MIN ? id : undefined)

  const mails = (local.db.prepare('SELECT * FROM outbox ORDER BY id').all() as Array<Record<string, unknown>>).map(r => ({
    ...(r as unknown as OutboxMail), incident_ids: JSON.parse(r['incident_ids'] as string) as number[], recipients: JSON.parse(r['recipients'] as string) as string[], attachments: JSON.parse(r['attachments'] as string) as string[]
  }))
  const held = local.held()
  await inTx(o.pool, async q => {
    // 障害 merges made here, now that every member has its PostgreSQL id.
    for (const m of merges) {
      const into = pgId(m.into)
      if (into !== undefined && into !== m.id) await q('UPDATE incidents SET merged_into = $1 WHERE id = $2 AND merged_into IS NULL', [into, m.id])
    }
    for (const m of mails) {
      const ids = m.incident_ids.map(pgId)
      // A mail not accepted yet whose incidents were all dropped: the agent's holder decides what to send.
      if (m.sent_at === null && ids.length > 0 && ids.every(i => i === undefined)) { res.dropped++; continue }
      const r = await insertMail(q, { ...m, incident_ids: ids.filter((i): i is number => i !== undefined), message_id: messageIdOf(m.id, o.scope) })
      if (m.sent_at !== null) res.sent += r
      else res.held += r
    }
    for (const h of held) {
      const ids = h.mail.incident_ids.map(pgId)
      if (ids.length > 0 && ids.every(i => i === undefined)) { res.dropped++; continue }
      res.held += await insertMail(q, {
        ...h.mail, attachments: [...h.mail.attachments ?? []], incident_ids: ids.filter((i): i is number => i !== undefined),
        attempts: 0, next_attempt_at: o.now, sent_at: null, last_error: null, message_id: heldMessageId(h.id, o.scope)
      })
    }
  })
  return res
}

async function inTx (pool: Pool, fn: (q: Q) => Promise<void>): Promise<void> {
  const c = await pool.connect()
  let broken = false
  try {
    await c.query('BEGIN')
    try {
      await fn(async (sql, values = []) => await c.query(sql, values))
      await c.query('COMMIT')
    } catch (err) {
      await c.query('ROLLBACK').catch(() => { broken = true })
      throw err
    }
  } finally {
    c.release(broken)
  }
}

/** heldElsewhere: another node holds the lease now (the row is locked FOR SHARE so it cannot move while this transaction writes). */
async function heldElsewhere (q: Q, lease: string, node: string): Promise<boolean> {
  const r = await q('SELECT holder, expires_at > now() AS live FROM leases WHERE name = $1 FOR SHARE', [lease])
  const row = r.rows[0] as { holder: string, live: boolean } | undefined
  return row !== undefined && row.live && row.holder !== node
}

/** writeIncident writes one local incident to PostgreSQL and returns its id there. */
async function writeIncident (q: Q, l: Incident, origin: string, node: string, now: number): Promise<number | undefined> {
  let p = (await q('SELECT incident_id FROM degraded_origins WHERE origin = $1', [origin])).rows[0]?.incident_id as string | undefined
  let target: number | undefined = p === undefined ? undefined : Number(p)
  if (target === undefined && l.id < LOCAL_ID_MIN) {
    // A copy of a PostgreSQL incident, changed here.
    if ((await q('SELECT 1 FROM incidents WHERE id = $1', [l.id])).rowCount === 1) target = l.id
  }
  if (target === undefined) {
    // The same series still open in PostgreSQL (opened before the warm copy, or by a peer): that is the incident.
    const open = (await q('SELECT id, detected_at FROM incidents WHERE series_key = $1 AND resolved_at IS NULL FOR UPDATE', [l.series_key])).rows[0] as { id: string, detected_at: string } | undefined
    if (open !== undefined && Number(open.detected_at) <= (l.resolved_at ?? Infinity)) target = Number(open.id)
  }
  if (target === undefined) {
    const vals = COLS.map(c => value(c, l[c]))
    const list = COLS.join(', ')
    const ph = COLS.map((_, i) => `$${i + 2}`).join(', ')
    // The local id when free (links in mails sent while degraded stay right), else a new one.
    const r = await q(`INSERT INTO incidents (id, ${list}) VALUES ($1, ${ph}) ON CONFLICT DO NOTHING RETURNING id`, [l.id, ...vals])
    p = r.rows[0]?.id as string | undefined
    if (p === undefined) p = (await q(`INSERT INTO incidents (${list}) VALUES (${COLS.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`, vals)).rows[0]!.id as string
    target = Number(p)
  } else {
    // What this node saw while alone, merged into the row: a resolution, mails, an acknowledgement. Each step is idempotent.
    await q(`UPDATE incidents SET
        resolved_at = COALESCE(resolved_at, $2::bigint),
        resolve_reason = CASE WHEN resolved_at IS NULL AND $2::bigint IS NOT NULL THEN $3 ELSE resolve_reason END,
        value = CASE WHEN resolved_at IS NULL AND $2::bigint IS NOT NULL THEN $4::float8 ELSE value END,
        notified_at = LEAST(notified_at, $5::bigint),
        last_notified_at = GREATEST(last_notified_at, $6::bigint),
        resolved_notified = GREATEST(resolved_notified, $7::int),
        escalated_at = COALESCE(escalated_at, $8::bigint),
        acked_at = COALESCE(acked_at, $9::bigint),
        acked_by = CASE WHEN acked_at IS NULL THEN $10 ELSE acked_by END
      WHERE id = $1`, [target, l.resolved_at, l.resolve_reason, finite(l.value), l.notified_at, l.last_notified_at, l.resolved_notified, l.escalated_at, l.acked_at, l.acked_by])
  }
  await q('INSERT INTO degraded_origins (origin, incident_id, node, at) VALUES ($1, $2, $3, $4) ON CONFLICT (origin) DO NOTHING', [origin, target, node, now])
  return target
}

/** insertMail records one mail in PostgreSQL's outbox unless its Message-ID is there already; 1 when written. */
async function insertMail (q: Q, m: Omit<OutboxMail, 'id'> & { message_id: string }): Promise<number> {
  const r = await q(`INSERT INTO outbox (kind, incident_ids, receiver, recipients, subject, text, html, attachments, created_at, attempts, next_attempt_at, sent_at, last_error, message_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (message_id) WHERE message_id IS NOT NULL DO NOTHING`,
  [m.kind, JSON.stringify(m.incident_ids), m.receiver, JSON.stringify(m.recipients), m.subject, m.text, m.html, JSON.stringify(m.attachments), m.created_at, m.attempts, m.next_attempt_at, m.sent_at, m.last_error, m.message_id])
  return r.rowCount ?? 0
}

function value (c: typeof COLS[number], v: unknown): unknown {
  if (c === 'labels' || c === 'systems' || c === 'matched_lines') return JSON.stringify(v ?? (c === 'labels' ? {} : []))
  if (c === 'value' || c === 'threshold') return finite(v as number | null)
  return v ?? null
}

function finite (v: number | null | undefined): number | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : v
}
