// collector.yaml jobs: the batch jobs and backups expected to run, each on a
// host, on the days of a schedule, successfully finished by a local deadline.

import { Type, type StaticDecode } from '@sinclair/typebox'
import { ConfigError, DurationMs, Strict } from '../../common/config.js'

const JobSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128, description: 'the job name (kanshi-agent job run --name)' }),
  host: Type.String({ minLength: 1, description: 'the agent id the job runs on' }),
  schedule: Type.String({ default: 'business-days', minLength: 1, description: 'business-days, daily, or the name of a schedule (its days)' }),
  deadline: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'a local time HH:MM by which the run must have succeeded' }),
  maxDuration: Type.Optional(DurationMs({ min: 1000, description: 'a duration such as "3h"' }))
}, Strict)

export const JobsSchema = Type.Array(JobSchema, { default: [], description: 'a list of { name, host, schedule, deadline, maxDuration }' })

export type JobConfig = StaticDecode<typeof JobSchema>

/** The job schedules that need no schedules: entry. */
export const JOB_DAYS = ['business-days', 'daily'] as const

/** checkJobs wants a unique name per host and a known schedule; it throws ConfigError. */
export function checkJobs (file: string, jobs: readonly JobConfig[], scheduleNames: readonly string[]): void {
  const seen = new Set<string>()
  for (const [i, j] of jobs.entries()) {
    const key = `${j.host}\u0000${j.name}`
    if (seen.has(key)) throw new ConfigError(file, `jobs.${i}.name`, `expected a unique job name per host, got "${j.name}" on ${j.host} again`)
    seen.add(key)
    const known = [...JOB_DAYS, ...scheduleNames]
    if (!known.includes(j.schedule)) throw new ConfigError(file, `jobs.${i}.schedule`, `expected one of ${known.join(', ')}, got ${JSON.stringify(j.schedule)}`)
  }
}
