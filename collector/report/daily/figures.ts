// Everything the daily report shows, read once: the window, incidents, job
// runs and expected runs, status at opening, disks filling up, certificates,
// log errors and warnings, agents' spool and clock.

import type { CollectorConfig } from '../../config.js'
import type { BusinessCalendar } from '../../../common/calendar.js'
import { japanCalendar } from '../../../common/holidays.js'
import { InfluxQL, Sources, ident, type InfluxTarget, type Tier } from '../influxql.js'
import { diskFigures, type DiskRow } from '../disks.js'
import type { Lang } from '../i18n.js'
import { dayWindow, type DayWindow } from './window.js'
import { dayIncidents, type DayIncidents } from './incidents.js'
import { expectedRuns, jobRuns, type Expected, type JobRun } from './jobs.js'
import { dailyJobs } from '../expected-jobs.js'
import { DEFAULT_SCHEDULES } from '../../alerting/config.js'
import { agentHealth, certificates, logCounts, statusAtOpening, type AgentRow, type CertRow, type LogRow, type TargetStatus } from './status.js'

const DAY = 86_400_000

export interface DailyFigures {
  window: DayWindow
  incidents: DayIncidents
  /** runs that finished in the window */
  runs: JobRun[]
  expected: Expected[]
  status: TargetStatus[]
  /** disks flagged full within report.daily.diskFullWithinDays of the window's end */
  disks: DiskRow[]
  diskTier: Tier
  /** certificates with at most report.daily.certDays left */
  certs: CertRow[]
  logs: LogRow[]
  /** every agent seen in the window */
  agents: AgentRow[]
}

export function calendarOf (c: CollectorConfig): BusinessCalendar {
  return japanCalendar({ timezone: c.report.timezone, ...(c.alerting?.calendar ?? {}) })
}

export async function dailyFigures (c: CollectorConfig, target: InfluxTarget, day: string, lang: Lang, now: number): Promise<DailyFigures> {
  const cal = calendarOf(c)
  const w = dayWindow(day, c.report.serviceHours, cal, now)
  const d = c.report.daily
  const q = new InfluxQL(target)
  const raw = target.rawRp
  // Disks: the monthly forecast over the 30 days before the window's end, rollups where they hold the disk data.
  const diskRange = { start: w.end - 30 * DAY, end: w.end }
  const src = new Sources(q, target)
  const diskTier = await probeDisk(q, target, diskRange)
  src.tiers.set('disk', diskTier)
  const [allRuns, status, disks, certs, logs, agents] = await Promise.all([
    jobRuns(q, raw, w.start - DAY, w.end),
    statusAtOpening(q, raw, w.end, d.staleAfter),
    diskFigures(q, src, diskRange, w.timezone, { warning: c.report.thresholds.disk, fullWithinDays: d.diskFullWithinDays }),
    certificates(q, raw, w.end),
    logCounts(q, target.logsRp ?? raw, w.start, w.end, d.topMessages, target.logsBy),
    agentHealth(q, raw, w.start, w.end)
  ])
  return {
    window: w,
    incidents: dayIncidents(c.dataDir, w.start, w.end, lang, c.report),
    runs: allRuns.filter(r => r.finished >= w.start),
    expected: expectedRuns(dailyJobs(c.report.jobs, c.jobs, c.alerting?.schedules ?? DEFAULT_SCHEDULES), allRuns, w, cal),
    status,
    disks: disks.filter(x => x.flagged),
    diskTier,
    certs: certs.filter(x => x.daysLeft <= d.certDays),
    logs,
    agents
  }
}

/** probeDisk is Sources.probe for the one measurement the daily report reads from rollups. */
async function probeDisk (q: InfluxQL, t: InfluxTarget, r: { start: number, end: number }): Promise<Tier> {
  const from = (rp: string | undefined): string => rp === undefined ? ident('disk') : `${ident(rp)}.${ident('disk')}`
  const w = `time >= ${r.start}ms AND time < ${r.end}ms`
  const [roll, raw] = await q.query([`SELECT count("used_percent_count") FROM ${from(t.rollupRp)} WHERE ${w}`, `SELECT count("used_percent") FROM ${from(t.rawRp)} WHERE ${w}`])
  const n = (s: typeof roll): number => (s ?? []).reduce((a, x) => a + x.values.reduce((b, v) => b + Number(v[1] ?? 0), 0), 0)
  return n(roll) > 0 ? 'rollup' : n(raw) > 0 ? 'raw' : 'none'
}
