// Batch jobs and backups run under `kanshi-agent job run`: the wrapper writes
// a start file and one result file per run into <dataDir>/jobs/, so both
// survive the agent being down; this input turns each into a `service` point
// (check=job: running=1 at the start, so a hung job is visible; exit_code and
// the rest at the end) and deletes the file one round later, once on disk.

import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomicSync } from '../../common/atomic-write.js'
import type { Accumulator, Input } from './input.js'

export interface JobResult {
  name: string
  command: string
  started: number
  finished: number
  exitCode: number | null
  signal: string | null
  /** local deadline "HH:MM" and whether the job finished by it */
  deadline?: string
  onTime?: boolean
  /** the last lines of output, for the message */
  tail: string
}

/** A run that has started and not yet finished. */
export interface JobStart { name: string, command: string, started: number }

export function jobsDir (dataDir: string): string {
  return join(dataDir, 'jobs')
}

/** writeJobResult stores a result atomically and durably (temp file, fsync, rename, fsync dir). */
export function writeJobResult (dataDir: string, r: JobResult): string {
  const dir = jobsDir(dataDir)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = join(dir, `${r.finished}-${r.name.replace(/[^\w.-]/g, '_')}-${process.pid}.json`)
  // 0o644 as before: the wrapper may run as another user than the agent that reads the file.
  writeFileAtomicSync(file, JSON.stringify(r), { mode: 0o644 })
  return file
}

/** writeJobStart records that a run started; the wrapper removes the file when it writes the result. */
export function writeJobStart (dataDir: string, r: JobStart): string {
  const dir = jobsDir(dataDir)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  // Named by the start time: sorts before the run's result file, named by its (later) finish time.
  const file = join(dir, `${r.started}-${r.name.replace(/[^\w.-]/g, '_')}-${process.pid}.start.json`)
  writeFileAtomicSync(file, JSON.stringify(r), { mode: 0o644 })
  return file
}

/** deadlineMet tells whether finished (ms) is at or before HH:MM local time on the day the job started. */
export function deadlineMet (started: number, finished: number, deadline: string, timeZone: string): boolean {
  const m = /^(\d{2}):(\d{2})$/.exec(deadline)
  if (m === null) return false
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }).formatToParts(new Date(started))
  const startMin = Number(parts.find(p => p.type === 'hour')!.value) * 60 + Number(parts.find(p => p.type === 'minute')!.value)
  const deadlineMin = Number(m[1]) * 60 + Number(m[2])
  // Which day's deadline: one passed less than 12 h before the start means the job started late
  // (08:01 for 08:00); one further back is the next day's (a nightly batch started 23:00, due 06:00).
  const sinceDeadline = (startMin - deadlineMin + 1440) % 1440
  if (sinceDeadline > 0 && sinceDeadline <= 720) return false
  const minutesToDeadline = (deadlineMin - startMin + 1440) % 1440
  // timezones differ from UTC by whole minutes, so the local minute starts where the UTC minute does
  const deadlineAt = started - (started % 60_000) + minutesToDeadline * 60_000
  return finished <= deadlineAt
}

export class JobResults implements Input {
  readonly name = 'jobs'
  private toDelete: string[] = []

  constructor (private readonly dataDir: string) {}

  async gather (acc: Accumulator): Promise<void> {
    for (const f of this.toDelete) rmSync(f, { force: true })
    this.toDelete = []
    const dir = jobsDir(this.dataDir)
    let names: string[]
    try { names = readdirSync(dir).filter(n => n.endsWith('.json')).sort() } catch { return }
    for (const n of names) {
      const file = join(dir, n)
      let r: JobResult
      try { r = JSON.parse(readFileSync(file, 'utf8')) as JobResult } catch { rmSync(file, { force: true }); continue }
      if (typeof r.finished !== 'number') {
        // a start: its own point, without up, so job_failed is not resolved or raised by it
        acc.add('service', { running: 1, started_ms: r.started, message: 'running' }, { service: r.name, check: 'job' }, r.started)
        this.toDelete.push(file)
        continue
      }
      const ok = r.exitCode === 0
      const late = r.onTime === false
      const fields: Record<string, number | string> = {
        up: ok && !late ? 1 : 0,
        exit_code: r.exitCode ?? -1,
        duration_s: Math.round((r.finished - r.started) / 100) / 10,
        started_ms: r.started,
        running: 0,
        message: (ok ? (late ? `finished late (deadline ${r.deadline})` : 'ok') : r.signal !== null ? `killed by ${r.signal}` : `exit code ${r.exitCode}`) + (r.tail !== '' && !ok ? `: ${r.tail.slice(-300)}` : '')
      }
      if (r.onTime !== undefined) fields['on_time'] = r.onTime ? 1 : 0
      acc.add('service', fields, { service: r.name, check: 'job' }, r.finished)
      this.toDelete.push(file)
    }
  }
}
