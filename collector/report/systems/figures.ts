// Per-system figures for the months of a report: availability and response
// compliance from InfluxDB, incidents from the record, and the fiscal-year-to-date
// major count at each month's end.

import type { CollectorConfig } from '../../config.js'
import type { SystemConfig } from '../../config/systems.js'
import { DEFAULT_SCHEDULES } from '../../alerting/config.js'
import { maintenanceOf, type FigureInputs } from '../figures.js'
import { readRecord } from '../incidents.js'
import { InfluxQL, Sources } from '../influxql.js'
import { fiscalYearOf, fiscalYearStart, makeServiceHours, type Month, type ServiceHours } from '../period.js'
import { addAvail, emptyAvail, systemAvailability, type SystemAvail } from './availability.js'
import { addStats, belongsTo, excludedSpans, systemIncident, systemIncidentStats, type SystemIncident, type SystemIncidentStats } from './incidents.js'

export interface SystemMonth {
  month: Month
  fiscalYear: number
  avail: SystemAvail
  /** the system's incidents detected in the month: counted, exempt and not service-affecting alike */
  incidents: SystemIncident[]
  stats: SystemIncidentStats
  /** counted major incidents from 1 April of the month's fiscal year to the month's end */
  majorYtd: number
}

export interface SystemPeriod {
  system: SystemConfig
  /** the schedule name of its service hours */
  schedule: string
  months: SystemMonth[]
  total: { avail: SystemAvail, stats: SystemIncidentStats, majorYtd: number }
}

/** systemServiceHours resolves a system's schedule (always, or a named schedule) on the business calendar. */
export function systemServiceHours (c: CollectorConfig, sys: SystemConfig): ServiceHours {
  const cal = { timezone: c.report.timezone, ...(c.alerting?.calendar ?? {}) }
  const spec = sys.schedule === 'always'
    ? { name: 'always', days: 'all' as const, hours: [] }
    : (c.alerting?.schedules ?? DEFAULT_SCHEDULES).find(s => s.name === sys.schedule)
  // checkSystems has made sure the name exists; this guards configs built by hand.
  if (spec === undefined) throw new Error(`systems: ${sys.name}: schedule ${JSON.stringify(sys.schedule)} is not defined`)
  return makeServiceHours({ name: spec.name, days: spec.days, hours: spec.hours ?? [] }, cal)
}

export async function systemFigures (c: CollectorConfig, o: FigureInputs, months: readonly Month[], q = new InfluxQL(o.influx)): Promise<SystemPeriod[]> {
  if (c.systems.length === 0 || months.length === 0) return []
  const tz = c.report.timezone
  const last = months[months.length - 1]!
  const fyStarts = months.map(m => fiscalYearStart(fiscalYearOf(m.year, m.month), tz))
  const from = Math.min(months[0]!.start, ...fyStarts)
  const record = readRecord(o.dataDir, from, last.end, o.lang, { notifyWithinMin: o.report.targets.notifyWithinMin, majorSeverities: o.report.major.severities, majorMinMs: o.report.major.minDuration })
  const maintenance = maintenanceOf(record, o)
  const sources = await Promise.all(months.map(async m => { const s = new Sources(q, o.influx); await s.probe({ start: m.start, end: m.end }); return s }))
  return await Promise.all(c.systems.map(async (sys): Promise<SystemPeriod> => {
    const sh = systemServiceHours(c, sys)
    const mine = record.incidents.filter(r => belongsTo(r, sys)).map(r => systemIncident(r, sys, last.end))
    const spans = excludedSpans(mine, last.end)
    const per = await Promise.all(months.map(async (m, i): Promise<SystemMonth> => {
      const incidents = mine.filter(x => x.row.detectedAt >= m.start && x.row.detectedAt < m.end)
      const ytd = mine.filter(x => x.counted && x.row.major && x.row.detectedAt >= fyStarts[i]! && x.row.detectedAt < m.end).length
      const avail = await systemAvailability(q, sources[i]!, sys, { month: m, serviceHours: sh, maintenance, ...spans })
      return { month: m, fiscalYear: fiscalYearOf(m.year, m.month), avail, incidents, stats: systemIncidentStats(incidents), majorYtd: ytd }
    }))
    const total = per.reduce((a, x) => ({ avail: addAvail(a.avail, x.avail), stats: addStats(a.stats, x.stats), majorYtd: x.majorYtd }), { avail: emptyAvail(), stats: systemIncidentStats([]), majorYtd: 0 })
    return { system: sys, schedule: sh.schedule.name, months: per, total }
  }))
}
