// One month's figures: every section's queries against InfluxDB and the
// incident record, computed the same way for the report month and the month
// before it (for the month-over-month column).

import type { Window } from '../alerting/store.js'
import type { ReportConfig } from './config.js'
import { InfluxQL, Sources, type InfluxTarget, type Tier } from './influxql.js'
import { serviceIntervals, slotsIn, type Interval, type Month, type ServiceHours } from './period.js'
import { hostFigures, type HostRow } from './hosts.js'
import { diskFigures, type DiskRow } from './disks.js'
import { trafficFigures, type TrafficDay } from './network.js'
import { deviceTrafficFigures, type DeviceTraffic } from './sections/device-traffic.js'
import { availabilityFigures, targetLabels, type AvailRow } from './availability.js'
import { matcherMatches } from '../alerting/silences.js'
import { jobFigures, type JobRow } from './jobs.js'
import type { ExpectedJobs } from './expected-jobs.js'
import { incidentStats, readRecord, type IncidentRecord, type IncidentStats } from './incidents.js'
import type { Lang } from './i18n.js'
import { securityFigures, type SecurityFigures } from './sections/security.js'
import { judgeInventory, readInventory, type InventoryJudgement } from './sections/inventory.js'

export interface MonthFigures {
  month: Month
  /** ms spent per section (queries and computation), for the benchmark */
  timings: Record<string, number>
  tiers: Record<string, Tier>
  /** service-hours minutes in the month (before planned stops) */
  serviceMinutes: number
  hosts: HostRow[]
  disks: DiskRow[]
  traffic: TrafficDay[]
  /** device interfaces (snmp_if), the busiest report.topInterfaces */
  deviceTraffic: DeviceTraffic
  availability: AvailRow[]
  jobs: JobRow[]
  record: IncidentRecord
  stats: IncidentStats
  totals: Totals
  /** the security section (empty for the month before) */
  security: SecurityFigures
  /** 構成管理: each host's inventory as of the month's end (empty for the month before) */
  inventory: InventoryJudgement[]
}

export interface Totals {
  worstService: AvailRow | null
  worstHost: AvailRow | null
  /** all services together: 100 × Σ(measured − down) / Σ measured */
  serviceOverall: number | null
  targetsMeeting: number
  targetsJudged: number
  batchRuns: number
  batchOnTime: number
  batchRate: number | null
  worstResponse: AvailRow | null
}

export interface FigureInputs {
  influx: InfluxTarget
  dataDir: string
  report: ReportConfig
  serviceHours: ServiceHours
  /** the service hours of each report.overrides entry (undefined: the default) */
  overrideHours: Array<ServiceHours | undefined>
  /** maintenance windows from the config, used when alerting.db does not hold them */
  configMaintenance: Window[]
  lang: Lang
  /** the names of the log rules (alert-rules, type: log): their firings are the suspicious log matches */
  logRules?: string[]
  /** collector.yaml jobs: with the calendar, for the runs that never reported */
  expectedJobs?: ExpectedJobs
}

export async function monthFigures (m: Month, o: FigureInputs, q = new InfluxQL(o.influx), summaryOnly = false): Promise<MonthFigures> {
  const r = { start: m.start, end: m.end }
  const src = new Sources(q, o.influx)
  await src.probe(r)
  const record = readRecord(o.dataDir, m.start, m.end, o.lang, { notifyWithinMin: o.report.targets.notifyWithinMin, majorSeverities: o.report.major.severities, majorMinMs: o.report.major.minDuration })
  const maintenance = maintenanceOf(record, o)
  const intervals = serviceIntervals(m, o.serviceHours, maintenance)
  const plan = targetPlan(o)
  const t = o.report.thresholds
  const timings: Record<string, number> = {}
  const timed = async <T>(name: string, p: () => Promise<T>): Promise<T> => {
    const a = performance.now()
    try { return await p() } finally { timings[name] = Math.round(performance.now() - a) }
  }
  // The month before feeds only the summary's previous-month column: no per-host capacity tables.
  const none = async (): Promise<never[]> => []
  const [hosts, disks, traffic, deviceTraffic, availability, jobs] = await Promise.all([
    summaryOnly ? none() : timed('hosts', async () => await hostFigures(q, src, r, { cpu: t.cpu, mem: t.mem })),
    summaryOnly ? none() : timed('disks', async () => await diskFigures(q, src, r, m.timezone, { warning: t.disk, fullWithinDays: o.report.diskFullWithinDays })),
    summaryOnly ? none() : timed('network', async () => await trafficFigures(q, src, r, m.timezone)),
    summaryOnly ? { rows: [], interfaces: 0 } : timed('deviceTraffic', async () => await deviceTrafficFigures(q, src, r, m.timezone, o.report.topInterfaces)),
    timed('availability', async () => await availabilityByHours(q, src, m, o, maintenance, intervals, plan)),
    timed('jobs', async () => await jobFigures(q, src, r, o.expectedJobs === undefined ? undefined : { ...o.expectedJobs, target: o.influx }))
  ])
  const [security, inventory] = await Promise.all([
    summaryOnly ? { hosts: [], days: [] } : timed('security', async () => await securityFigures(q, o.influx, m, o.serviceHours.calendar, o.logRules ?? [])),
    summaryOnly ? [] : timed('inventory', async () => judgeInventory(await readInventory(q, o.influx.rawRp, m.start - 7 * 86_400_000, m.end), m.end - 1, m.timezone, o.report.inventory))
  ])
  return {
    timings,
    month: m,
    tiers: Object.fromEntries(src.tiers),
    serviceMinutes: intervals.reduce((s, i) => s + slotsIn(i) * 5, 0),
    hosts, disks, traffic, deviceTraffic, availability, jobs, record,
    stats: incidentStats(record.incidents),
    totals: totals(availability, jobs),
    security,
    inventory
  }
}

/** maintenanceOf is the record's maintenance windows plus the config's that the record does not hold. */
export function maintenanceOf (record: IncidentRecord, o: Pick<FigureInputs, 'configMaintenance'>): Window[] {
  const known = new Set(record.maintenance.filter(w => w.created_by === 'config').map(w => w.name))
  return [...record.maintenance, ...o.configMaintenance.filter(w => !known.has(w.name))]
}

/** targetPlan says, for a host or service, which service hours and availability goal apply: the first matching override, else the defaults. */
function targetPlan (o: FigureInputs): (r: AvailRow) => { group: number, target: number } {
  return r => {
    const labels = targetLabels(r)
    const i = o.report.overrides.findIndex(ov => matcherMatches(ov.match, labels, ''))
    if (i < 0) return { group: -1, target: o.report.targets.availability }
    const ov = o.report.overrides[i]!
    return { group: ov.serviceHours === undefined ? -1 : i, target: ov.availability ?? o.report.targets.availability }
  }
}

/** availabilityByHours runs the availability queries once per distinct service-hours schedule and keeps each target's own. */
async function availabilityByHours (q: InfluxQL, src: Sources, m: Month, o: FigureInputs, maintenance: Window[], intervals: Interval[], plan: (r: AvailRow) => { group: number, target: number }): Promise<AvailRow[]> {
  const groups = [-1, ...o.report.overrides.flatMap((ov, i) => ov.serviceHours !== undefined ? [i] : [])]
  const all = await Promise.all(groups.map(async g => {
    const sh = g < 0 ? o.serviceHours : o.overrideHours[g]!
    const rows = await availabilityFigures(q, src, g < 0 ? intervals : serviceIntervals(m, sh, maintenance), maintenance, o.report.targets.responseMs)
    return rows.filter(r => plan(r).group === g).map(r => ({ ...r, target: plan(r).target, schedule: sh.schedule.name }))
  }))
  return all.flat().sort((x, y) => x.kind.localeCompare(y.kind) || x.host.localeCompare(y.host) || x.service.localeCompare(y.service))
}

function totals (av: AvailRow[], jobs: JobRow[]): Totals {
  // "Lowest" is the target furthest below (or least above) its own goal.
  const lowest = (rows: AvailRow[]): AvailRow | null => rows.filter(r => r.availability !== null).sort((a, b) => (a.availability! - a.target) - (b.availability! - b.target))[0] ?? null
  const services = av.filter(r => r.kind === 'service')
  const measured = services.reduce((s, r) => s + r.measuredMin, 0)
  const down = services.reduce((s, r) => s + r.downMin, 0)
  const judged = av.filter(r => r.availability !== null)
  const runs = jobs.reduce((s, j) => s + j.runs + j.missed, 0)
  const onTime = jobs.reduce((s, j) => s + j.onTime, 0)
  return {
    worstService: lowest(services),
    worstHost: lowest(av.filter(r => r.kind === 'host')),
    serviceOverall: measured > 0 ? 100 * (measured - down) / measured : null,
    targetsMeeting: judged.filter(r => r.availability! >= r.target).length,
    targetsJudged: judged.length,
    batchRuns: runs,
    batchOnTime: onTime,
    batchRate: runs > 0 ? 100 * onTime / runs : null,
    worstResponse: services.filter(r => r.response !== null).sort((a, b) => b.response!.p95 - a.response!.p95)[0] ?? null
  }
}
