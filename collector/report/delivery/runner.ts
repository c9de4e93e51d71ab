// The collector's report timer: at each due time it generates the report into
// outDir/<kind>/<period>/, queues one mail per receiver in the durable outbox and
// records the period as done in the same SQLite transaction (a restart neither
// skips nor repeats), audits it, and applies the retention.

import type { Logger } from 'pino'
import { backoffDelay } from '../../../common/backoff.js'
import type { AlertStore } from '../../alerting/store.js'
import type { AuditLog } from '../../audit/log.js'
import type { BusinessCalendar } from '../../../common/calendar.js'
import type { ReportsConfig } from '../../config/reports.js'
import { periodDir, prune, writeManifest } from './archive.js'
import { attachable, composeReportMail, type Locale } from './mail.js'
import { REPORT_KINDS, baseline, nextDue, skippedBetween, type Occurrence, type ReportKind, type ReportSchedule } from './schedule.js'

/** What a generator is asked for: one period of one kind, written into outDir. */
export interface GenerateRequest { period: string, outDir: string, lang: Locale, pdf: boolean, now: number }

/** What it made: file names inside outDir, why there is no PDF, and the lines that need action. */
export interface Generated { files: string[], pdfSkipped?: string | undefined, summary: string[] }

export type Generator = (r: GenerateRequest) => Promise<Generated>
export type Generators = Record<ReportKind, Generator>

export interface RunnerOptions {
  config: ReportsConfig
  calendar: BusinessCalendar
  store: AlertStore
  audit: AuditLog
  receivers: ReadonlyArray<{ name: string, email: readonly string[], locale: Locale }>
  generators: Generators
  /** sends the outbox now (the alerting notifier's deliver), so a report mail leaves at once */
  deliver: (now: number) => Promise<unknown>
  now: () => number
  logger: Logger
  publicUrl?: string | undefined
}

/** In a cluster only the leader runs reports, and it claims each due time in PostgreSQL (fenced by its epoch) before mailing. */
export interface LeaderGate {
  leader: () => boolean
  claim: (job: string, dueAt: number) => Promise<boolean>
  /** runs before reports are generated (cluster: the shared incident record is mirrored into alerting.db) */
  before?: () => Promise<void>
}

/** What one tick did for a kind. */
export interface Ran { kind: ReportKind, period: string, ok: boolean, mails: number[], error?: string }

/** After a failed generation (InfluxDB down, disk full) try again in 1 min doubling to 30 min. */
const RETRY = { minMs: 60_000, maxMs: 30 * 60_000 }
/** The timer wakes at the next due time, and at least this often (a clock change is noticed). */
const MAX_SLEEP_MS = 60_000
const FOLLOWER_SLEEP_MS = 5000

export class ReportRunner {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<Ran[]> | undefined
  private stopped = false
  private readonly failures = new Map<ReportKind, { attempts: number, retryAt: number, period: string }>()
  /** set in cluster mode (collector/cluster/); unset: this collector is the only one and always runs */
  gate: LeaderGate | undefined

  constructor (private readonly o: RunnerOptions) {}

  private schedules (): Array<[ReportKind, ReportSchedule, readonly string[]]> {
    return REPORT_KINDS.flatMap(k => {
      const s = this.o.config[k]
      return s === undefined ? [] : [[k, s, s.receivers] as [ReportKind, ReportSchedule, readonly string[]]]
    })
  }

  private started: Promise<void> = Promise.resolve()

  start (): void {
    this.started = this.baselines()
    this.arm(0)
  }

  /** First start: what was due before the collector ran is not owed. */
  private async baselines (): Promise<void> {
    const now = this.o.now()
    for (const [kind, s] of this.schedules()) {
      if (await this.o.store.reportDone(kind) === undefined) await this.o.store.setReportDone(kind, baseline(kind, s, now, this.o.calendar), now)
    }
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    await this.running
  }

  /** next says what each kind runs next and when (for logs and tests). */
  async next (now = this.o.now()): Promise<Occurrence[]> {
    const out: Occurrence[] = []
    for (const [kind, s] of this.schedules()) out.push(nextDue(kind, s, await this.o.store.reportDone(kind), now, this.o.calendar))
    return out
  }

  /** tick runs what is due at now, one kind after the other; concurrent calls share the run. */
  async tick (): Promise<Ran[]> {
    this.running ??= this.runDue().finally(() => { this.running = undefined })
    return await this.running
  }

  private arm (ms: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      void this.tick().catch(err => this.o.logger.error({ err }, 'report run failed'))
        .then(async () => await this.sleepMs()).catch(() => 60_000).then(ms => { this.arm(ms) })
    }, ms)
    this.timer.unref()
  }

  private async sleepMs (): Promise<number> {
    // Not the cluster leader: nothing is due here; look again soon in case this node takes the lease.
    if (this.gate !== undefined && !this.gate.leader()) return FOLLOWER_SLEEP_MS
    const now = this.o.now()
    const due = Math.min(...(await this.next(now)).map(o => o.dueAt), ...[...this.failures.values()].map(f => f.retryAt))
    return Math.max(1000, Math.min(MAX_SLEEP_MS, due - now))
  }

  private async runDue (): Promise<Ran[]> {
    // cluster: only the leader generates and mails reports.
    const out: Ran[] = []
    await this.started
    if (this.gate !== undefined && !this.gate.leader()) return out
    let prepared = false
    for (const [kind, s, receivers] of this.schedules()) {
      const now = this.o.now()
      const last = await this.o.store.reportDone(kind)
      const occ = nextDue(kind, s, last, now, this.o.calendar)
      if (occ.dueAt > now) continue
      const f = this.failures.get(kind)
      if (f !== undefined && f.period === occ.period && f.retryAt > now) continue
      if (!prepared) { await this.gate?.before?.(); prepared = true }
      if (last !== undefined) {
        const skipped = skippedBetween(kind, s, last, occ, this.o.calendar)
        if (skipped.length > 0) {
          this.o.logger.warn({ kind, skipped, running: occ.period }, 'reports missed while the collector was down are not generated; run kanshi-report for them')
          this.o.audit.append('collector', 'report.skipped', { kind, periods: skipped, running: occ.period }, now)
        }
      }
      out.push(await this.run(occ, receivers, now))
    }
    this.retain()
    return out
  }

  private async run (occ: Occurrence, receivers: readonly string[], now: number): Promise<Ran> {
    const { kind, period } = occ
    const { config, store, audit, logger } = this.o
    const outDir = periodDir(config.outDir, kind, period)
    const t0 = performance.now()
    let g: Generated
    try {
      g = await this.o.generators[kind]({ period, outDir, lang: config.lang, pdf: config.pdf, now })
    } catch (err) {
      const prev = this.failures.get(kind)
      const attempts = prev?.period === period ? prev.attempts + 1 : 1
      const retryAt = this.o.now() + backoffDelay(RETRY, attempts - 1)
      this.failures.set(kind, { attempts, retryAt, period })
      const error = (err as Error).message ?? String(err)
      logger.error({ kind, period, err, retryAt }, 'report generation failed; tried again later')
      audit.append('collector', 'report.failed', { kind, period, error: error.slice(0, 500), attempts }, this.o.now())
      return { kind, period, ok: false, mails: [], error }
    }
    this.failures.delete(kind)
    const generatedAt = this.o.now()
    await writeManifest(config.outDir, { kind, period, files: g.files, generatedAt, pdfSkipped: g.pdfSkipped, summary: g.summary })
    const attachments = attachable(g.files).map(f => `${outDir}/${f}`)
    if (this.gate !== undefined && !await this.gate.claim(`report:${kind}`, occ.dueAt)) {
      // Lost the lease meanwhile, or another leader mailed this period already: not mailed twice.
      logger.warn({ kind, period }, 'cluster: report not mailed: this collector no longer leads, or the period was delivered by another')
      if (!this.gate.leader()) return { kind, period, ok: false, mails: [], error: 'not the cluster leader' }
      await store.setReportDone(kind, period, generatedAt)
      return { kind, period, ok: true, mails: [] }
    }
    const mails = await store.tx(async t => {
      const ids: number[] = []
      for (const name of receivers) {
        const r = this.o.receivers.find(x => x.name === name)!
        const m = composeReportMail({ kind, period, locale: r.locale, summary: g.summary, attachments, pdfSkipped: g.pdfSkipped, publicUrl: this.o.publicUrl })
        ids.push(await t.enqueue({ kind: 'report', incident_ids: [], receiver: r.name, recipients: [...r.email], subject: m.subject, text: m.text, html: m.html, attachments, created_at: generatedAt }))
      }
      await t.setReportDone(kind, period, generatedAt)
      return ids
    })
    audit.append('collector', 'report.generated', { kind, period, files: g.files, pdfSkipped: g.pdfSkipped ?? null, mails, receivers, ms: Math.round(performance.now() - t0) }, generatedAt)
    logger.info({ kind, period, files: g.files, mails: mails.length }, 'report generated and queued for mail')
    this.o.deliver(this.o.now()).catch(err => logger.error({ err }, 'report mail delivery failed; the outbox retries'))
    return { kind, period, ok: true, mails }
  }

  private retain (): void {
    const now = this.o.now()
    try {
      const gone = prune(this.o.config.outDir, this.o.config.keep, now)
      if (gone.length === 0) return
      this.o.logger.info({ removed: gone }, 'reports older than reports.keep removed')
      this.o.audit.append('collector', 'report.pruned', { removed: gone, keepMs: this.o.config.keep }, now)
    } catch (err) {
      this.o.logger.warn({ err }, 'could not apply reports.keep')
    }
  }
}
