// Builds the job tracker from collector.yaml (jobs:, alerting's calendar and
// schedules); none when no job is configured and none ever was.

import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { CollectorConfig } from '../config.js'
import type { Wal } from '../state/wal/index.js'
import type { BusinessCalendar } from '../../common/calendar.js'
import { japanCalendar } from '../../common/holidays.js'
import { DEFAULT_SCHEDULES } from '../alerting/config.js'
import { JobTracker } from './tracker.js'

export const JOBS_READER = 'jobs'

/** jobsCalendar is the business calendar jobs are planned on: alerting's, or the default one. */
export function jobsCalendar (config: Pick<CollectorConfig, 'alerting'>): BusinessCalendar {
  return japanCalendar({ ...(config.alerting !== undefined ? { timezone: config.alerting.timezone, ...config.alerting.calendar } : {}) })
}

/** jobsWanted: jobs are configured, or were (jobs.db): then alerts of removed jobs still resolve. */
export function jobsWanted (config: Pick<CollectorConfig, 'jobs' | 'dataDir'>): boolean {
  return config.jobs.length > 0 || existsSync(join(config.dataDir, 'jobs.db'))
}

export function createJobTracker (config: CollectorConfig, wal: Wal, logger: Logger, now: () => number): JobTracker | undefined {
  if (!jobsWanted(config)) return undefined
  return new JobTracker({
    wal, reader: wal.reader(JOBS_READER), dataDir: config.dataDir, jobs: config.jobs,
    calendar: jobsCalendar(config), schedules: config.alerting?.schedules ?? DEFAULT_SCHEDULES,
    agents: config.agents, now, logger: logger.child({ component: 'jobs' })
  })
}
