// Incidents of the daily window from the collector's record (alerting.db, read
// only): opened in the window, still open at its end, resolved in it. The rows
// and their notice judgement are the monthly report's (../incidents.ts).

import Database from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { readRecord, type IncidentRow } from '../incidents.js'
import type { ReportConfig } from '../config.js'
import type { Lang } from '../i18n.js'

export interface DayIncident extends IncidentRow {
  /** detected in the window */
  opened: boolean
  /** not resolved at the window's end */
  open: boolean
  /** resolved in the window */
  resolvedIn: boolean
}

export interface DayIncidents { available: boolean, rows: DayIncident[] }

export function dayIncidents (dataDir: string, start: number, end: number, lang: Lang, r: ReportConfig): DayIncidents {
  const file = join(dataDir, 'alerting.db')
  if (!existsSync(file)) return { available: false, rows: [] }
  const db = new Database(file, { readonly: true, fileMustExist: true })
  let first: number | null
  try {
    db.pragma('busy_timeout = 5000')
    const row = db.prepare('SELECT min(detected_at) AS m FROM incidents WHERE detected_at < ? AND (resolved_at IS NULL OR resolved_at >= ?)').get(end, start) as { m: number | null }
    first = row.m
  } finally {
    db.close()
  }
  if (first === null) return { available: true, rows: [] }
  const limit = r.targets.notifyWithinMin * 60_000
  const rec = readRecord(dataDir, first, end, lang, { notifyWithinMin: r.targets.notifyWithinMin, majorSeverities: r.major.severities, majorMinMs: r.major.minDuration })
  const rows = rec.incidents.filter(i => i.resolvedAt === null || i.resolvedAt >= start).map((i): DayIncident => {
    const open = i.resolvedAt === null || i.resolvedAt >= end
    // Still open and not notified, but the notice is not due yet at the window's end: not judged.
    const notYetDue = i.notifiedAt === null && open && end - i.detectedAt <= limit && i.muted === ''
    return {
      ...i,
      resolvedAt: open ? null : i.resolvedAt,
      durationMin: ((open ? end : i.resolvedAt!) - i.detectedAt) / 60_000,
      notifiedInTime: notYetDue ? null : i.notifiedInTime,
      opened: i.detectedAt >= start,
      open,
      resolvedIn: !open
    }
  })
  return { available: true, rows }
}
