// The report's tables, built once from the figures; the HTML, the workbook
// and the CSV files all render these, so they cannot disagree.

import type { ReportConfig } from './config.js'
import type { MonthFigures } from './figures.js'
import { summaryRows } from './summary.js'
import { words, type Lang, type WordKey } from './i18n.js'
import { securityTables } from './sections/security.js'
import { inventoryTable } from './sections/inventory.js'
import { deviceTrafficTable } from './sections/device-traffic.js'
import { exclusionText, slaExclusion } from './incidents.js'

/** the tables of the service levels by system and of the quarter / fiscal-year report (systems/tables.ts) */
export type SystemTableId = 'systems' | 'systemIncidentFigures' | 'systemIncidents' | 'exempt' | 'notServiceAffecting' | 'months' | 'periodAvailability'

/** Column types decide formatting: pct is in percent units (99.5), datetime is Unix ms. */
export type ColType = 'text' | 'int' | 'num' | 'pct' | 'datetime' | 'date' | 'gb'

export interface Column {
  key: string
  header: string
  type: ColType
  /** decimals for num and pct */
  digits?: number
  /** width in characters (workbook) */
  width: number
  /** a row field holding this cell's decimals (the summary mixes %, counts and minutes in one column) */
  digitsKey?: string
}

export type Cell = string | number | null

export interface Table {
  id: 'summary' | 'hosts' | 'disks' | 'network' | 'deviceTraffic' | 'services' | 'availability' | 'incidents' | 'jobs' | 'security' | 'logins' | 'inventory' | SystemTableId
  sheet: string
  title: string
  columns: Column[]
  rows: Array<Record<string, Cell>>
}

const GB = 1e9

export function buildTables (cur: MonthFigures, prev: MonthFigures, c: ReportConfig, lang: Lang): Table[] {
  const w = words(lang)
  const C = (key: WordKey, type: ColType, width: number, digits?: number, header?: string): Column =>
    ({ key, header: header ?? w(key), type, width, ...(digits !== undefined ? { digits } : {}) })
  const yesNo = (b: boolean): string => b ? w('yes') : ''
  const tables: Table[] = []

  tables.push({
    id: 'summary', sheet: 'Summary', title: w('summary'),
    columns: [C('item', 'text', 36), C('target', 'text', 10), ...(['actual', 'previous', 'change'] as const).map(k => ({ ...C(k, 'num', 12, 3), digitsKey: 'digits' })), C('unit', 'text', 7), C('result', 'text', 8), C('note', 'text', 40)],
    rows: summaryRows(cur, prev, c, lang).map(r => ({ item: r.item, target: r.target, actual: r.actual, previous: r.previous, change: r.change, unit: r.unit, result: r.met === null ? w('na') : r.met ? w('met') : w('missed'), note: r.note, digits: r.digits }))
  })

  tables.push({
    id: 'hosts', sheet: 'Hosts', title: w('hosts'),
    columns: [C('host', 'text', 16), C('role', 'text', 9), C('site', 'text', 10),
      C('cpuMean', 'num', 10, 1), C('cpuP95', 'num', 10, 1), C('cpuMax', 'num', 10, 1), C('cpuHours', 'num', 12, 1), C('cpuPeak', 'datetime', 17),
      C('memMean', 'num', 10, 1), C('memP95', 'num', 10, 1), C('memMax', 'num', 10, 1), C('memHours', 'num', 12, 1), C('memPeak', 'datetime', 17),
      C('firstSeen', 'datetime', 17), C('lastSeen', 'datetime', 17)],
    rows: cur.hosts.map(h => ({
      host: h.host, role: h.role, site: h.site,
      cpuMean: h.cpu?.mean ?? null, cpuP95: h.cpu?.p95 ?? null, cpuMax: h.cpu?.max ?? null, cpuHours: h.cpu?.hoursAbove ?? null, cpuPeak: h.cpu?.maxAt ?? null,
      memMean: h.mem?.mean ?? null, memP95: h.mem?.p95 ?? null, memMax: h.mem?.max ?? null, memHours: h.mem?.hoursAbove ?? null, memPeak: h.mem?.maxAt ?? null,
      firstSeen: h.firstSeen, lastSeen: h.lastSeen
    }))
  })

  tables.push({
    id: 'disks', sheet: 'Disks', title: w('disks'),
    columns: [C('host', 'text', 16), C('mount', 'text', 14), C('size', 'num', 9, 1), C('startPct', 'num', 11, 1), C('endPct', 'num', 11, 1), C('growth', 'num', 13, 2), C('fullAt', 'date', 12), C('flag', 'text', 18)],
    rows: cur.disks.map(d => ({
      host: d.host, mount: d.mount, size: d.sizeBytes === null ? null : d.sizeBytes / GB, startPct: d.start, endPct: d.end, growth: d.growth30d,
      fullAt: d.fullAt === null ? null : Math.max(d.fullAt, d.endAt),
      flag: [d.flagged ? w('flagFull', { n: c.diskFullWithinDays }) : '', d.aboveWarning ? w('flagWarn') : ''].filter(Boolean).join(', ')
    }))
  })

  tables.push({
    id: 'network', sheet: 'Network', title: w('network'),
    columns: [C('date', 'text', 11), C('host', 'text', 16), C('rx', 'gb', 11), C('tx', 'gb', 11), C('total', 'gb', 11)],
    rows: cur.traffic.map(d => ({ date: d.date, host: d.host, rx: d.rxBytes / GB, tx: d.txBytes / GB, total: (d.rxBytes + d.txBytes) / GB }))
  })
  tables.push(deviceTrafficTable(cur.deviceTraffic, lang))

  const services = cur.availability.filter(r => r.kind === 'service')
  tables.push({
    id: 'services', sheet: 'Services', title: w('services'),
    columns: [C('host', 'text', 16), C('service', 'text', 16), C('check', 'text', 9), C('avail', 'pct', 11, 3), C('meets', 'text', 7),
      C('p50', 'num', 11, 0), C('p95', 'num', 11, 0), C('respMax', 'num', 11, 0), C('withinTarget', 'pct', 13, 1)],
    rows: services.map(r => ({
      host: r.host, service: r.service, check: r.check, avail: r.availability,
      meets: r.availability === null ? w('na') : r.availability >= r.target ? w('met') : w('missed'),
      p50: r.response?.p50 ?? null, p95: r.response?.p95 ?? null, respMax: r.response?.max ?? null, withinTarget: r.response?.withinTarget ?? null
    }))
  })

  tables.push({
    id: 'availability', sheet: 'Availability', title: w('availability'),
    columns: [C('kind', 'text', 9), C('host', 'text', 16), C('service', 'text', 16), C('site', 'text', 10),
      C('scheduledMin', 'int', 12), C('plannedMin', 'int', 11), C('measuredMin', 'int', 10), C('downMin', 'num', 10, 1), C('noDataMin', 'int', 11), C('avail', 'pct', 11, 3), C('targetPct', 'num', 8, 1), C('meets', 'text', 7), C('schedule', 'text', 14)],
    rows: cur.availability.map(r => ({
      kind: r.kind === 'service' ? w('kindService') : r.device === true ? w('kindDevice') : w('kindHost'), host: r.host, service: r.service, site: r.site,
      scheduledMin: r.scheduledMin, plannedMin: r.plannedMin, measuredMin: r.measuredMin, downMin: r.downMin, noDataMin: r.noDataMin, avail: r.availability,
      targetPct: r.target, meets: r.availability === null ? w('na') : r.availability >= r.target ? w('met') : w('missed'), schedule: r.schedule
    }))
  })

  tables.push({
    id: 'incidents', sheet: 'Incidents', title: w('incidents'),
    columns: [C('id', 'int', 6), C('severity', 'text', 9), C('host', 'text', 14), C('summaryCol', 'text', 36), C('cause', 'text', 30),
      C('detected', 'datetime', 17), C('notified', 'datetime', 17), C('notifyMin', 'num', 10, 1), C('inTime', 'text', 10, undefined, w('inTime', { n: c.targets.notifyWithinMin })),
      C('acked', 'datetime', 17), C('ackedBy', 'text', 12), C('resolved', 'datetime', 17), C('duration', 'num', 10, 1), C('major', 'text', 6), C('muted', 'text', 10),
      C('slaCounted', 'text', 7), C('slaWhy', 'text', 28), C('rule', 'text', 18)],
    rows: cur.record.incidents.map(i => ({
      id: i.id, severity: i.severity, host: i.host, summaryCol: i.summary, cause: i.cause,
      detected: i.detectedAt, notified: i.notifiedAt, notifyMin: i.notifyMin,
      inTime: i.notifiedInTime === null ? w('na') : i.notifiedInTime ? w('yes') : w('no'),
      acked: i.ackedAt, ackedBy: i.ackedBy, resolved: i.resolvedAt, duration: i.durationMin, major: yesNo(i.major),
      muted: i.muted === 'maintenance' ? w('mutedMaintenance') : i.muted === 'silence' ? w('mutedSilence') : '', rule: i.rule,
      slaCounted: slaExclusion(i) === null ? w('yes') : w('no'), slaWhy: exclusionText(i, lang)
    }))
  })

  tables.push({
    id: 'jobs', sheet: 'Jobs', title: w('jobs'),
    columns: [C('host', 'text', 16), C('jobName', 'text', 20), C('runs', 'int', 9), C('failures', 'int', 8), C('late', 'int', 8), C('jobMissed', 'int', 8), C('onTime', 'int', 9), C('onTimeRate', 'pct', 12, 1)],
    rows: cur.jobs.map(j => ({ host: j.host, jobName: j.service, runs: j.runs, failures: j.failures, late: j.late, jobMissed: j.missed, onTime: j.onTime, onTimeRate: j.onTimeRate }))
  })
  tables.push(...securityTables(cur.security, lang), inventoryTable(cur.inventory, lang, c.inventory.maxUpdateAgeDays))
  return tables
}

/** formatCell renders a cell as text for HTML and CSV (pct without the % sign in CSV headers carrying it). */
export function formatCell (v: Cell, col: Column, tz: string, row?: Record<string, Cell>, short = false): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'string') return v
  switch (col.type) {
    case 'int': return String(Math.round(v))
    case 'num': case 'pct': return v.toFixed(cellDigits(col, row))
    case 'gb': return v.toFixed(2)
    case 'datetime': return short ? localStamp(v, tz).slice(5) : localStamp(v, tz)
    case 'date': return localStamp(v, tz).slice(0, 10)
    default: return String(v)
  }
}

/** cellDigits is the decimals of a num or pct cell. */
export function cellDigits (col: Column, row?: Record<string, Cell>): number {
  const d = col.digitsKey !== undefined ? row?.[col.digitsKey] : undefined
  return typeof d === 'number' ? d : col.digits ?? 1
}

const stampFormatters = new Map<string, Intl.DateTimeFormat>()

/** localStamp is "YYYY-MM-DD HH:MM" in the report's timezone. */
export function localStamp (t: number, tz: string): string {
  let f = stampFormatters.get(tz)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
    stampFormatters.set(tz, f)
  }
  const p: Record<string, string> = {}
  for (const x of f.formatToParts(new Date(t))) p[x.type] = x.value
  return `${p['year']}-${p['month']}-${p['day']} ${p['hour']}:${p['minute']}`
}
