// The collector's incident record and maintenance windows (alerting.db in its
// dataDir, read-only) and the incident figures: notice within N minutes,
// time to recovery, major incidents.

import Database from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { migrate, NEWEST_INCIDENT_COLUMN, type Window } from '../alerting/store.js'
import { fold } from '../alerting/incident-store.js'
import { words, type Lang } from './i18n.js'

export interface IncidentRow {
  id: number
  rule: string
  severity: string
  host: string
  /** every host of the 障害 (its primary alert's first, then its merged members') */
  hosts: string[]
  /** ids of the alerts merged into this one */
  members: number[]
  summary: string
  /** the rendered rule description, the nearest thing to a cause the record holds */
  cause: string
  detectedAt: number
  notifiedAt: number | null
  ackedAt: number | null
  ackedBy: string | null
  resolvedAt: number | null
  /** minutes from detection to the first mail accepted by the SMTP server */
  notifyMin: number | null
  /** minutes from detection to recovery, or to the month's end while still open */
  durationMin: number
  /** 'maintenance' (planned stop: not counted), 'silence', or '' */
  muted: '' | 'maintenance' | 'silence'
  /** notified within targets.notifyWithinMin; null when not judged (muted, or recovered before a notice was due) */
  notifiedInTime: boolean | null
  major: boolean
  /** the business systems it belongs to (config systems:) */
  systems: string[]
  /** counts against availability and the SLA: operator's choice, else severity critical */
  serviceAffecting: boolean
  /** true when an operator set serviceAffecting; false when it was judged from the severity */
  serviceAffectingSet: boolean
  /** 免責, with its category and reason; exempt incidents are listed apart and not counted */
  exempt: { category: string, reason: string } | null
  /** 復旧確認時刻: the client's confirmed recovery, when recorded */
  confirmedRecoveryAt: number | null
  /** when the first notice to users (障害発生告知) was published, and minutes from detection */
  userNoticeAt: number | null
  userNoticeMin: number | null
  /** the write-up (障害報告書) */
  writeUp: { cause: string, impact: string, affectedUsers: string, actions: string, prevention: string }
}

export interface IncidentRecord {
  /** false when the collector has no alerting.db (alerting off) */
  available: boolean
  incidents: IncidentRow[]
  maintenance: Window[]
}

interface Row { [k: string]: unknown }

/** upgrade adds the columns a newer collector writes when the file was made by an older one. */
function upgrade (file: string): void {
  const ro = new Database(file, { readonly: true, fileMustExist: true })
  const current = (ro.prepare('PRAGMA table_info(incidents)').all() as Array<{ name: string }>).some(c => c.name === NEWEST_INCIDENT_COLUMN)
  ro.close()
  if (current) return
  const rw = new Database(file, { fileMustExist: true })
  try { rw.pragma('busy_timeout = 5000'); migrate(rw) } finally { rw.close() }
}

/** readRecord reads incidents detected in [start, end) and every maintenance window. */
export function readRecord (dataDir: string, start: number, end: number, lang: 'ja' | 'en', o: { notifyWithinMin: number, majorSeverities: readonly string[], majorMinMs: number }): IncidentRecord {
  const file = join(dataDir, 'alerting.db')
  if (!existsSync(file)) return { available: false, incidents: [], maintenance: [] }
  upgrade(file)
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    db.pragma('busy_timeout = 5000')
    // A 障害 of several merged alerts is read as its primary row.
    const rows = db.prepare('SELECT * FROM incidents WHERE detected_at >= ? AND detected_at < ? AND merged_into IS NULL ORDER BY detected_at, id').all(start, end) as Row[]
    const windows = (db.prepare("SELECT * FROM windows WHERE kind = 'maintenance' ORDER BY id").all() as Row[]).map(r => ({
      ...(r as unknown as Window),
      matchers: JSON.parse(String(r['matchers'])) as Record<string, string>,
      recur_days: r['recur_days'] === null ? null : JSON.parse(String(r['recur_days'])) as number[]
    }))
    const limit = o.notifyWithinMin * 60_000
    const members = membersOf(db, rows.map(r => Number(r['id'])))
    const incidents = rows.map((r): IncidentRow => {
      // A 障害 reads as one: its members' earliest detection and notice, latest recovery, highest severity.
      const mine = members.get(Number(r['id'])) ?? []
      const f = fold(asFoldable(r), mine.map(asFoldable))
      const detectedAt = f.detected_at
      const notifiedAt = f.notified_at
      const resolvedAt = f.resolved_at
      const sup = String(r['suppressed_by'] ?? '')
      const muted = sup.startsWith('maintenance') ? 'maintenance' : sup.startsWith('silence') ? 'silence' : ''
      const durationMs = (resolvedAt ?? Math.max(detectedAt, end)) - detectedAt
      let inTime: boolean | null
      // A host behind a down parent was told by the parent's mail (suppressed_by parent:<name>): no notice of its own is due.
      if (muted !== '' || sup.startsWith('parent:')) inTime = null
      else if (notifiedAt !== null) inTime = notifiedAt - detectedAt <= limit
      else if (resolvedAt !== null && resolvedAt - detectedAt <= limit) inTime = null
      else inTime = false
      const severity = f.severity
      const en = lang === 'en'
      return {
        id: Number(r['id']),
        rule: String(r['rule']),
        severity,
        host: String(r['host']),
        hosts: f.hosts,
        members: mine.map(m => Number(m['id'])),
        summary: String((en ? r['summary_en'] : r['summary']) || r['summary'] || ''),
        cause: String((en ? r['description_en'] : r['description']) || r['description'] || ''),
        detectedAt,
        notifiedAt,
        ackedAt: f.acked_at,
        ackedBy: [r, ...mine].filter(m => m['acked_at'] !== null).sort((a, b) => Number(a['acked_at']) - Number(b['acked_at']))[0]?.['acked_by'] as string | undefined ?? null,
        resolvedAt,
        notifyMin: notifiedAt === null ? null : (notifiedAt - detectedAt) / 60_000,
        durationMin: durationMs / 60_000,
        muted,
        notifiedInTime: inTime,
        major: r['major_override'] !== null ? r['major_override'] === 1 : muted !== 'maintenance' && o.majorSeverities.includes(severity) && durationMs >= o.majorMinMs,
        systems: f.systems,
        serviceAffecting: r['service_affecting'] !== null ? r['service_affecting'] === 1 : severity === 'critical',
        serviceAffectingSet: r['service_affecting'] !== null,
        exempt: r['exempt_category'] === null ? null : { category: String(r['exempt_category']), reason: String(r['exempt_reason'] ?? '') },
        confirmedRecoveryAt: r['confirmed_recovery_at'] === null ? null : Number(r['confirmed_recovery_at']),
        userNoticeAt: r['user_notice_at'] === null ? null : Number(r['user_notice_at']),
        userNoticeMin: r['user_notice_at'] === null ? null : (Number(r['user_notice_at']) - detectedAt) / 60_000,
        writeUp: { cause: String(r['cause_text']), impact: String(r['impact']), affectedUsers: String(r['affected_users']), actions: String(r['actions']), prevention: String(r['prevention']) }
      }
    })
    return { available: true, incidents, maintenance: windows }
  } finally {
    db.close()
  }
}

/** membersOf reads the alerts merged into each of the given primaries. */
function membersOf (db: Database.Database, ids: readonly number[]): Map<number, Row[]> {
  const out = new Map<number, Row[]>()
  if (ids.length === 0) return out
  const st = db.prepare('SELECT * FROM incidents WHERE merged_into = ? ORDER BY detected_at, id')
  for (const id of ids) {
    const rows = st.all(id) as Row[]
    if (rows.length > 0) out.set(id, rows)
  }
  return out
}

function asFoldable (r: Row): Parameters<typeof fold>[0] {
  const n = (k: string): number | null => r[k] === null || r[k] === undefined ? null : Number(r[k])
  return { detected_at: Number(r['detected_at']), notified_at: n('notified_at'), acked_at: n('acked_at'), resolved_at: n('resolved_at'), severity: String(r['severity']), severity_override: r['severity_override'] as string | null ?? null, host: String(r['host']), systems: JSON.parse(String(r['systems'])) as string[] }
}

/** slaExclusion says why an incident is left out of the SLA figures, or null when it counts. */
export function slaExclusion (r: IncidentRow): 'maintenance' | 'exempt' | 'notServiceAffecting' | null {
  if (r.muted === 'maintenance') return 'maintenance'
  if (r.exempt !== null) return 'exempt'
  if (!r.serviceAffecting) return 'notServiceAffecting'
  return null
}

/** exclusionText is the reason an incident is left out of the SLA figures, in words ('' when it counts). */
export function exclusionText (r: IncidentRow, lang: Lang): string {
  const w = words(lang)
  switch (slaExclusion(r)) {
    case 'maintenance': return w('mutedMaintenance')
    case 'exempt': return w('xExempt', { c: r.exempt!.category, r: r.exempt!.reason })
    case 'notServiceAffecting': return r.serviceAffectingSet ? w('xNotSaSet') : w('xNotSaAuto', { s: r.severity })
    default: return ''
  }
}

export interface IncidentStats {
  /** SLA incidents: service-affecting, not exempt, not in planned maintenance */
  count: number
  major: number
  /** SLA incidents judged for the notice rule, and those notified in time */
  judged: number
  inTime: number
  notifyRate: number | null
  /** mean minutes from detection to recovery of the recovered SLA incidents */
  mttrMin: number | null
  /** incidents left out of the figures: exempt, and not service-affecting (operator's choice or a warning) */
  exempt: number
  notServiceAffecting: number
}

export function incidentStats (rows: readonly IncidentRow[]): IncidentStats {
  const counted = rows.filter(r => slaExclusion(r) === null)
  const judged = counted.filter(r => r.notifiedInTime !== null)
  const inTime = judged.filter(r => r.notifiedInTime === true).length
  const recovered = counted.filter(r => r.resolvedAt !== null)
  return {
    count: counted.length,
    major: counted.filter(r => r.major).length,
    judged: judged.length,
    inTime,
    notifyRate: judged.length > 0 ? 100 * inTime / judged.length : null,
    mttrMin: recovered.length > 0 ? recovered.reduce((s, r) => s + r.durationMin, 0) / recovered.length : null,
    exempt: rows.filter(r => slaExclusion(r) === 'exempt').length,
    notServiceAffecting: rows.filter(r => slaExclusion(r) === 'notServiceAffecting').length
  }
}
