// The tables of the service levels by system: availability and response
// compliance per system and month, the incident figures, every incident of a
// system, and the exempt ones apart. The monthly report and the quarter /
// fiscal-year report render the same tables.

import type { Column, ColType, Table, Cell } from '../tables.js'
import { words, type Lang, type WordKey } from '../i18n.js'
import { monthLabel } from '../period.js'
import type { SystemAvail } from './availability.js'
import { writeUpFlags, type SystemIncident, type SystemIncidentStats } from './incidents.js'
import { exclusionText } from '../incidents.js'
import type { SystemPeriod } from './figures.js'

type Row = Record<string, Cell>

export function col (lang: Lang, key: string, header: WordKey, type: ColType, width: number, digits?: number): Column {
  return { key, header: words(lang)(header), type, width, ...(digits !== undefined ? { digits } : {}) }
}

const rate = (n: number, d: number): number | null => d > 0 ? 100 * n / d : null

/** flagText is the 要確認 cell of an incident: the write-up parts still blank, an unconfirmed recovery, an impact nobody judged. */
export function flagText (i: SystemIncident, lang: Lang): string {
  const w = words(lang)
  const f = writeUpFlags(i)
  const part = { cause: w('yCause'), actions: w('yActions'), prevention: w('yPrevention') }
  return [f.missing.length > 0 ? w('fNoWriteUp', { p: f.missing.map(k => part[k]).join(lang === 'ja' ? '・' : ', ') }) : '', f.unconfirmed ? w('fNoConfirm') : '', f.autoImpact ? w('fAutoSa') : ''].filter(x => x !== '').join(lang === 'ja' ? '、' : '; ')
}

/**
 * systemTables builds the five tables; with more than one month each system also gets a period-total row.
 * With publicUrl (alerting.publicUrl) each incident links its console page, where its 障害報告書 is.
 */
export function systemTables (periods: readonly SystemPeriod[], lang: Lang, publicUrl?: string): Table[] {
  if (periods.length === 0) return []
  const w = words(lang)
  const judge = (v: boolean | null): string => v === null ? w('na') : v ? w('met') : w('missed')
  const yes = (b: boolean | null): string => b === null ? w('na') : b ? w('yes') : w('no')
  const C = (key: string, header: WordKey, type: ColType, width: number, digits?: number): Column => col(lang, key, header, type, width, digits)
  const availRows: Row[] = []
  const countRows: Row[] = []
  const many = periods.some(p => p.months.length > 1)
  for (const p of periods) {
    const t = p.system.targets
    const seasons = p.system.busySeason.map(s => `${s.from}–${s.to}: ${s.responseMs}`).join(', ')
    const avail = (label: string, a: SystemAvail): Row => ({
      system: p.system.name, month: label, schedule: p.schedule,
      scheduledMin: a.scheduledMin, plannedMin: a.plannedMin, exemptMin: a.exemptMin, notSaMin: a.notSaMin, downMin: a.downMin, noDataMin: a.noDataMin,
      avail: a.availability, availTarget: t.availability, availMet: judge(a.availability === null ? null : a.availability >= t.availability),
      compliance: a.compliance, samples: a.responseSamples, respTarget: seasons === '' ? String(t.responseMs) : `${t.responseMs} (${seasons})`, busyMin: a.busyMin,
      complianceTarget: t.responseCompliance, complianceMet: judge(a.compliance === null ? null : a.compliance >= t.responseCompliance)
    })
    const counts = (label: string, s: SystemIncidentStats, majorYtd: number): Row => ({
      system: p.system.name, month: label, counted: s.counted,
      recoveryMet: s.recoveryJudged > 0 ? `${s.recoveryMet} / ${s.recoveryJudged}` : w('na'), recoveryMax: s.recoveryMaxMin, recoveryTarget: t.recoveryMinutes,
      reportRate: rate(s.reportInTime, s.reportJudged), noticeRate: rate(s.noticeInTime, s.noticeJudged), noticeTarget: t.noticeMinutes,
      major: s.major, majorYtd, majorTarget: t.majorPerYear, majorMet: judge(majorYtd <= t.majorPerYear),
      exempt: s.exempt, notSa: s.notServiceAffecting
    })
    for (const m of p.months) {
      availRows.push(avail(monthLabel(m.month), m.avail))
      countRows.push(counts(monthLabel(m.month), m.stats, m.majorYtd))
    }
    if (many) {
      availRows.push(avail(w('yTotal'), p.total.avail))
      countRows.push(counts(w('yTotal'), p.total.stats, p.total.majorYtd))
    }
  }
  const incidents = periods.flatMap(p => p.months.flatMap(m => m.incidents.filter(i => i.row.exempt === null).map(i => ({ p, i }))))
  const exempt = periods.flatMap(p => p.months.flatMap(m => m.incidents.filter(i => i.row.exempt !== null).map(i => ({ p, i }))))
  const notSa = incidents.filter(({ i }) => !i.row.serviceAffecting && i.row.muted !== 'maintenance')
  return [
    {
      id: 'systems', sheet: 'Systems', title: w('ySection'),
      columns: [C('system', 'ySystem', 'text', 14), C('month', 'yMonth', 'text', 10), C('avail', 'avail', 'pct', 11, 3), C('availTarget', 'yAvailTarget', 'num', 9, 2), C('availMet', 'yAvailMet', 'text', 8),
        C('scheduledMin', 'scheduledMin', 'int', 11), C('downMin', 'downMin', 'num', 9, 1), C('plannedMin', 'plannedMin', 'int', 9), C('exemptMin', 'yExemptMin', 'int', 8), C('notSaMin', 'yNotSaMin', 'int', 8), C('noDataMin', 'noDataMin', 'int', 9),
        C('compliance', 'yCompliance', 'pct', 11, 2), C('complianceTarget', 'yComplianceTarget', 'num', 9, 1), C('complianceMet', 'yComplianceMet', 'text', 8), C('respTarget', 'yRespTarget', 'text', 14), C('samples', 'ySamples', 'int', 9), C('busyMin', 'yBusyMin', 'int', 9), C('schedule', 'schedule', 'text', 14)],
      rows: availRows
    },
    {
      id: 'systemIncidentFigures', sheet: 'System incidents', title: w('yIncidentFigures'),
      columns: [C('system', 'ySystem', 'text', 14), C('month', 'yMonth', 'text', 10), C('counted', 'yCounted', 'int', 9), C('recoveryMet', 'yRecoveryMet', 'text', 10), C('recoveryMax', 'yRecoveryMax', 'num', 9, 1), C('recoveryTarget', 'yRecoveryTarget', 'int', 9),
        C('reportRate', 'yReportRate', 'pct', 10, 1), C('noticeRate', 'yNoticeRate', 'pct', 10, 1), C('noticeTarget', 'yNoticeTarget', 'int', 9),
        C('major', 'yMajor', 'int', 8), C('majorYtd', 'yMajorYtd', 'int', 9), C('majorTarget', 'yMajorTarget', 'int', 9), C('majorMet', 'yMajorMet', 'text', 8), C('exempt', 'yExemptCount', 'int', 7), C('notSa', 'yNotSa', 'int', 9)],
      rows: countRows
    },
    {
      id: 'systemIncidents', sheet: 'Incident list', title: w('yIncidents'),
      columns: [C('system', 'ySystem', 'text', 14), C('id', 'id', 'int', 6), C('severity', 'severity', 'text', 9), C('host', 'host', 'text', 12), C('summary', 'summaryCol', 'text', 30), C('detected', 'detected', 'datetime', 17), C('recovered', 'yRecoveredAt', 'datetime', 17),
        C('recoveryMin', 'yRecoveryMin', 'num', 9, 1), C('recoveryOk', 'yRecoveryOk', 'text', 8), C('reportMin', 'yReportMin', 'num', 9, 1), C('reportOk', 'yReportOk', 'text', 8), C('noticeMin', 'yNoticeMin', 'num', 9, 1), C('noticeOk', 'yNoticeOk', 'text', 8),
        C('major', 'major', 'text', 6), C('sa', 'yServiceAffecting', 'text', 8), C('counted', 'yCountedCol', 'text', 7),
        C('confirmed', 'yConfirmed', 'datetime', 17), C('cause', 'yCause', 'text', 30), C('actions', 'yActions', 'text', 30), C('prevention', 'yPrevention', 'text', 30), C('flags', 'yFlags', 'text', 28),
        ...(publicUrl !== undefined ? [C('link', 'yReportLink', 'text', 40)] : [])],
      rows: incidents.map(({ p, i }) => ({
        system: p.system.name, id: i.row.id, severity: i.row.severity, host: i.row.host, summary: i.row.summary, detected: i.row.detectedAt,
        recovered: i.row.confirmedRecoveryAt ?? i.row.resolvedAt, recoveryMin: i.recoveryMin, recoveryOk: yes(i.recoveryMet),
        reportMin: i.row.notifyMin, reportOk: yes(i.reportMet), noticeMin: i.row.userNoticeMin, noticeOk: yes(i.noticeMet),
        major: i.row.major ? w('yes') : '', sa: i.row.serviceAffecting ? w('yes') : w('no'), counted: i.counted ? w('yes') : w('no'),
        confirmed: i.row.confirmedRecoveryAt, cause: i.row.writeUp.cause, actions: i.row.writeUp.actions, prevention: i.row.writeUp.prevention, flags: flagText(i, lang),
        ...(publicUrl !== undefined ? { link: `${publicUrl.replace(/\/+$/, '')}/console/incidents/${i.row.id}` } : {})
      }))
    },
    {
      id: 'exempt', sheet: 'Exempt', title: w('yExemptList'),
      columns: [C('system', 'ySystem', 'text', 14), C('id', 'id', 'int', 6), C('host', 'host', 'text', 12), C('summary', 'summaryCol', 'text', 30), C('detected', 'detected', 'datetime', 17), C('recovered', 'yRecoveredAt', 'datetime', 17), C('category', 'yExemptCategory', 'text', 16), C('reason', 'yExemptReason', 'text', 36),
        C('cause', 'yCause', 'text', 30), C('actions', 'yActions', 'text', 30), C('prevention', 'yPrevention', 'text', 30)],
      rows: exempt.map(({ p, i }) => ({
        system: p.system.name, id: i.row.id, host: i.row.host, summary: i.row.summary, detected: i.row.detectedAt,
        recovered: i.row.confirmedRecoveryAt ?? i.row.resolvedAt, category: i.row.exempt!.category, reason: i.row.exempt!.reason,
        cause: i.row.writeUp.cause, actions: i.row.writeUp.actions, prevention: i.row.writeUp.prevention
      }))
    },
    {
      id: 'notServiceAffecting', sheet: 'No service impact', title: w('yNotSaList'),
      columns: [C('system', 'ySystem', 'text', 14), C('id', 'id', 'int', 6), C('severity', 'severity', 'text', 9), C('host', 'host', 'text', 12), C('summary', 'summaryCol', 'text', 30), C('detected', 'detected', 'datetime', 17), C('recovered', 'yRecoveredAt', 'datetime', 17),
        C('reason', 'yNotSaReason', 'text', 36), C('impact', 'yImpact', 'text', 30)],
      rows: notSa.map(({ p, i }) => ({
        system: p.system.name, id: i.row.id, severity: i.row.severity, host: i.row.host, summary: i.row.summary, detected: i.row.detectedAt,
        recovered: i.row.confirmedRecoveryAt ?? i.row.resolvedAt, reason: exclusionText(i.row, lang), impact: i.row.writeUp.impact
      }))
    }
  ]
}

/** PAGE_HIDDEN are the columns the printed page leaves to the workbook and CSV (the page header names each system's targets). */
const PAGE_HIDDEN: Partial<Record<Table['id'], Set<string>>> = {
  systems: new Set(['schedule', 'respTarget', 'samples', 'busyMin', 'noDataMin']),
  systemIncidents: new Set(['severity', 'host', 'reportMin', 'noticeMin', 'confirmed', 'link'])
}

/** forPage narrows a system table to what fits an A4 page. */
export function forPage (t: Table): Table {
  const hide = PAGE_HIDDEN[t.id]
  return hide !== undefined ? { ...t, columns: t.columns.filter(c => !hide.has(c.key)) } : t
}
