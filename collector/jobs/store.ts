// The job tracker's durable state (dataDir/jobs.db, SQLite, synchronous=FULL):
// the expected runs that fell due and their outcome, and per job whether it is
// running and which alert flags the collector last wrote — restart-safe.

import Database from 'better-sqlite3'
import { join } from 'node:path'

export interface JobState {
  job: string
  host: string
  /** due times up to here are recorded in runs */
  planned_to: number
  running_since: number | null
  missed: number
  overrun: number
  /** the job's tags (JSON) as last evaluated: a change clears the old series and re-counts early runs */
  tags: string | null
}

export interface RunRow { job: string, host: string, due_at: number, started_at: number | null, finished_at: number | null, exit_code: number | null, ok: number }

export class JobStore {
  private readonly db: Database.Database

  constructor (dataDir: string) {
    this.db = new Database(join(dataDir, 'jobs.db'))
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS runs (job TEXT NOT NULL, host TEXT NOT NULL, due_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER,
        exit_code INTEGER, ok INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job, host, due_at));
      CREATE TABLE IF NOT EXISTS state (job TEXT NOT NULL, host TEXT NOT NULL, planned_to INTEGER NOT NULL, running_since INTEGER,
        missed INTEGER NOT NULL DEFAULT 0, overrun INTEGER NOT NULL DEFAULT 0, tags TEXT, PRIMARY KEY (job, host));`)
  }

  /** state returns a job's state, creating it planned up to `now` (no alert for days before the job was configured). */
  state (job: string, host: string, now: number): JobState {
    this.db.prepare('INSERT OR IGNORE INTO state (job, host, planned_to) VALUES (?, ?, ?)').run(job, host, now)
    return this.db.prepare('SELECT * FROM state WHERE job = ? AND host = ?').get(job, host) as JobState
  }

  setState (s: JobState): void {
    this.db.prepare('UPDATE state SET planned_to = ?, running_since = ?, missed = ?, overrun = ?, tags = ? WHERE job = ? AND host = ?')
      .run(s.planned_to, s.running_since, s.missed, s.overrun, s.tags, s.job, s.host)
  }

  /** states lists every job the store knows, configured now or not. */
  states (): JobState[] {
    return this.db.prepare('SELECT * FROM state').all() as JobState[]
  }

  /** forget drops a job that is no longer configured (its runs stay for the record). */
  forget (job: string, host: string): void {
    this.db.prepare('DELETE FROM state WHERE job = ? AND host = ?').run(job, host)
  }

  /** expect records due runs (kept if already there, e.g. succeeded early). */
  expect (job: string, host: string, dues: readonly number[]): void {
    const ins = this.db.prepare('INSERT OR IGNORE INTO runs (job, host, due_at) VALUES (?, ?, ?)')
    this.tx(() => { for (const d of dues) ins.run(job, host, d) })
  }

  /** finish records a run's end against its due time; a success is never overwritten by a later failure. */
  finish (job: string, host: string, due: number, started: number, finished: number, exitCode: number): void {
    this.db.prepare(`INSERT INTO runs (job, host, due_at, started_at, finished_at, exit_code, ok) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (job, host, due_at) DO UPDATE SET started_at = excluded.started_at, finished_at = excluded.finished_at, exit_code = excluded.exit_code, ok = 1
      WHERE runs.ok = 0 AND excluded.ok = 1`).run(job, host, due, started, finished, exitCode, exitCode === 0 ? 1 : 0)
    if (exitCode !== 0) {
      this.db.prepare('UPDATE runs SET started_at = ?, finished_at = ?, exit_code = ? WHERE job = ? AND host = ? AND due_at = ? AND ok = 0').run(started, finished, exitCode, job, host, due)
    }
  }

  succeeded (job: string, host: string, due: number): boolean {
    const r = this.db.prepare('SELECT ok FROM runs WHERE job = ? AND host = ? AND due_at = ?').get(job, host, due) as { ok: number } | undefined
    return r?.ok === 1
  }

  /** latestDue is the newest recorded due run at or before t. */
  latestDue (job: string, host: string, t: number): RunRow | undefined {
    return this.db.prepare('SELECT * FROM runs WHERE job = ? AND host = ? AND due_at <= ? ORDER BY due_at DESC LIMIT 1').get(job, host, t) as RunRow | undefined
  }

  /** takeFuture removes and returns the runs recorded for due times after t (early successes). */
  takeFuture (job: string, host: string, t: number): RunRow[] {
    const rows = this.db.prepare('SELECT * FROM runs WHERE job = ? AND host = ? AND due_at > ?').all(job, host, t) as RunRow[]
    this.db.prepare('DELETE FROM runs WHERE job = ? AND host = ? AND due_at > ?').run(job, host, t)
    return rows
  }

    runs (job: string, host: string): RunRow[] {
    return this.db.prepare('SELECT * FROM runs WHERE job = ? AND host = ? ORDER BY due_at').all(job, host) as RunRow[]
  }

  tx (fn: () => void): void { this.db.transaction(fn)() }

  close (): void { this.db.close() }
}
