// influx.retention.logsBy: log events of some agents (kiosks: role kiosk) are kept shorter than
// the logs policy. Each target is swept on a timer: on 1.x DELETE FROM log_event WHERE <tags> AND
// time < now - keep; on 2.x POST /api/v2/delete with the same predicate on the log bucket.

import type { Logger } from 'pino'
import type { LogsByRule } from '../config/influx.js'
import type { Metrics } from '../metrics.js'
import type { StorageBackend } from './backend.js'

export interface SweepTarget { name: string, backend: StorageBackend, rules: readonly LogsByRule[], intervalMs: number }

export interface LogSweeperOptions {
  targets: SweepTarget[]
  metrics: Pick<Metrics, 'logsSwept'>
  logger: Logger
  /** the collector's clock (tests drive it) */
  now: () => number
}

/** whereOf is a rule's tag selector as tag → value. */
export function whereOf (rule: LogsByRule): Record<string, string> {
  const w: Record<string, string> = {}
  if (rule.where.role !== undefined) w['role'] = rule.where.role
  if (rule.where.site !== undefined) w['site'] = rule.where.site
  return w
}

/** shortLived builds the test for "an event of this role/site is kept shorter by a logsBy rule" (the archive leaves those out). */
export function shortLived (rules: readonly LogsByRule[]): ((role: string, site: string) => boolean) | undefined {
  if (rules.length === 0) return undefined
  return (role, site) => rules.some(r => (r.where.role === undefined || r.where.role === role) && (r.where.site === undefined || r.where.site === site))
}

export class LogSweeper {
  private readonly timers: NodeJS.Timeout[] = []
  private readonly failing = new Set<string>()
  private running: Promise<void> = Promise.resolve()

  constructor (private readonly o: LogSweeperOptions) {}

  /** start sweeps every target at once, then every intervalMs. */
  start (): void {
    for (const t of this.o.targets) {
      if (t.rules.length === 0 || t.backend.deleteLogs === undefined) continue
      this.queue(t)
      const timer = setInterval(() => this.queue(t), t.intervalMs)
      timer.unref()
      this.timers.push(timer)
    }
  }

  async stop (): Promise<void> {
    for (const t of this.timers) clearInterval(t)
    await this.running
  }

  private queue (t: SweepTarget): void {
    this.running = this.running.then(async () => { await this.sweep(t) })
  }

  /** sweep deletes, for each rule of t, the matching log events older than its keep; a failure is logged once until it works again. */
  async sweep (t: SweepTarget): Promise<void> {
    const del = t.backend.deleteLogs?.bind(t.backend)
    if (del === undefined) return
    for (const rule of t.rules) {
      const where = whereOf(rule)
      const r = await del(where, this.o.now() - rule.keep)
      const key = `${t.name} ${JSON.stringify(where)}`
      this.o.metrics.logsSwept.inc({ target: t.name, result: r.kind === 'ok' ? 'ok' : 'fail' })
      if (r.kind === 'ok') {
        if (this.failing.delete(key)) this.o.logger.info({ target: t.name, where }, 'log retention sweep works again')
        continue
      }
      if (!this.failing.has(key)) this.o.logger.error({ target: t.name, where, reason: r.reason }, 'log retention sweep (influx.retention.logsBy) failed: these log events stay until it succeeds (retried every sweepInterval)')
      this.failing.add(key)
    }
  }
}
