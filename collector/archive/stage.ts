// The archive stage: follows the WAL (reader 'archive') and writes every log event and alert state
// change (and, polled each second, every audit record) into the archive, committing its cursor only after the day file is on the disk. A write that fails
// (full disk, archive.minFree) holds the cursor and is retried; once the records held reach
// archive.holdFraction of the WAL's bound they are skipped, counted, and a gap record says so.

import type { Logger } from 'pino'
import type { Counter, Gauge } from 'prom-client'
import { WalConsumer, type Position, type Wal, type WalReader, type WalRecord } from '../state/wal/index.js'
import type { Point } from '../../protocol/messages.js'
import { recordEntry } from '../state/entry.js'
import { dayOf, posAfter, type WalPos } from './record.js'
import type { ArchiveWriter, NewRecord } from './writer.js'
import type { AuditSource } from './audit-source.js'

export interface ArchiveStageOptions {
  wal: Wal
  reader: WalReader
  writer: ArchiveWriter
  timeZone: string
  /** skip held records once they reach this fraction of wal.maxBytes */
  holdFraction: number
  logger: Logger
  now: () => number
  metrics: { up: Gauge, events: Counter, skipped: Counter, excluded?: Counter }
  /** exclude: events of this role/site are kept shorter in InfluxDB (influx.retention.logsBy); the archive leaves them out */
  exclude?: (role: string, site: string) => boolean
  /** the audit log to archive too (dataDir/audit.db) */
  audit?: AuditSource
  /** wait between two attempts after a failure (default 5 s) */
  retryMs?: number
}

/** What the archive cursor holds besides its position: events skipped and not yet told in a gap record. */
interface State { gap?: { skipped: number, w: WalPos } }

export class ArchiveStage {
  /** why the archive is not writing, for /readyz; undefined while it writes */
  problem: string | undefined
  private readonly consumer: WalConsumer
  private loop: Promise<void> | undefined
  private loaded = false
  private gap: State['gap']
  private duplicates = 0
  private auditAt = 0
  private sleeping: { timer: NodeJS.Timeout, done: () => void } | undefined

  constructor (private readonly o: ArchiveStageOptions) {
    this.consumer = new WalConsumer(o.wal, o.reader)
    this.gap = (o.reader.state as State | undefined)?.gap
  }

  start (): void {
    this.loop = this.run().catch(err => this.o.logger.fatal({ err }, 'archive stage stopped on an unexpected error'))
  }

  async stop (): Promise<void> {
    this.consumer.stop()
    if (this.sleeping !== undefined) { clearTimeout(this.sleeping.timer); this.sleeping.done() }
    await this.loop
    this.o.audit?.close()
  }

  private async run (): Promise<void> {
    while (!this.consumer.stopped) {
      try {
        if (!this.loaded) { await this.o.writer.load(); this.forgetOldWal(); this.loaded = true }
        await this.o.writer.closeIfBefore(dayOf(this.o.now(), this.o.timeZone))
        await this.takeAudit()
        const recs = await this.consumer.read()
        if (recs.length === 0) {
          await this.o.writer.writeHead(Date.now(), 0)
          // A gap not yet told (the records after it were skipped too) is written when the archive can write again.
          if (this.gap !== undefined) await this.take([])
          else await this.consumer.wait(1000)
          continue
        }
        await this.take(recs)
        await this.o.writer.writeHead(Date.now())
        if (this.problem !== undefined) this.o.logger.info('archive writing again')
        this.problem = undefined
        this.o.metrics.up.set(1)
      } catch (err) {
        const why = (err as Error).message
        if (this.problem !== why) this.o.logger.error({ err: why }, 'archive write failed; the WAL keeps the records and the archive retries')
        this.problem = `archive: ${why}`
        this.o.metrics.up.set(0)
        // The files may hold part of the failed append: read them back before the next one.
        this.loaded = false
        this.o.reader.rewind()
        await this.skipHeld()
        await this.sleep(this.o.retryMs ?? 5000)
      }
    }
  }

  /** take archives the log events of recs (those not archived before a crash), then commits the cursor. */
  private async take (recs: WalRecord[]): Promise<void> {
    const w = this.o.writer
    const out: NewRecord[] = []
    const now = this.o.now()
    const lastW = recs.at(-1)?.end ?? this.o.reader.committed
    if (this.gap !== undefined) {
      out.push({ w: this.gap.w, k: 'gap', r: now, skipped: this.gap.skipped })
    }
    let excluded = 0
    for (const rec of recs) {
      const e = recordEntry(rec)
      const events = e.e ?? []
      for (let i = 0; i < events.length; i++) {
        const pos: WalPos = [rec.end.segment, rec.end.offset, i]
        if (!posAfter(pos, w.lastW)) { this.duplicates++; continue }
        const ev = events[i]!
        const { host, role, site, ...tags } = ev.tags ?? {}
        if (this.o.exclude?.(role ?? '', site ?? '') === true) { excluded++; continue }
        out.push({
          w: pos, k: 'log', r: e.r, t: ev.t, host: host ?? e.a, role: role ?? '', site: site ?? '', source: ev.source, level: ev.level, message: ev.message,
          ...(Object.keys(tags).length > 0 ? { tags } : {})
        })
      }
      // Alert state changes are the collector's own `alert` points; they follow the events in position.
      if (e.a === '') this.alerts(e.p, rec.end, events.length, w.lastW, out)
    }
    if (excluded > 0) this.o.metrics.excluded?.inc(excluded)
    if (this.duplicates > 0) {
      this.o.logger.info({ records: this.duplicates }, 'records archived before a restart (cursor not yet saved) skipped')
      this.duplicates = 0
    }
    if (out.length > 0) {
      await w.append(dayOf(now, this.o.timeZone), out)
      this.o.metrics.events.inc(out.filter(r => r.k === 'log').length)
    }
    this.gap = undefined
    await this.o.reader.commit({ ...lastW }, 0, {})
  }

  /** takeAudit archives the audit records after the last one archived, at most once a second. */
  private async takeAudit (): Promise<void> {
    const t = Date.now()
    if (this.o.audit === undefined || t - this.auditAt < 1000) return
    this.auditAt = t
    const w = this.o.writer
    const recs = this.o.audit.after(w.lastAudit)
    if (recs.length > 0) await w.append(dayOf(this.o.now(), this.o.timeZone), recs.map(r => ({ ...r, w: [...w.lastW] })))
  }

  /**
   * forgetOldWal: an archive ahead of the WAL's end means the WAL was removed and started anew; its
   * positions start again, and would all look archived already.
   */
  private forgetOldWal (): void {
    const end = this.o.wal.durableEnd()
    const w = this.o.writer
    if (!posAfter(w.lastW, [end.segment, end.offset, Number.MAX_SAFE_INTEGER])) return
    this.o.logger.warn({ archived: w.lastW, walEnd: end }, 'the archive is ahead of the WAL (the WAL was removed): WAL positions are taken as new')
    w.lastW = [-1, -1, -1]
  }

  /** alerts adds the alert points of one WAL record (index from first on) not archived before. */
  private alerts (points: Point[], end: Position, first: number, lastW: WalPos, out: NewRecord[]): void {
    for (let j = 0; j < points.length; j++) {
      const pt = points[j]!
      const pos: WalPos = [end.segment, end.offset, first + j]
      if (pt.m !== 'alert' || !posAfter(pos, lastW)) continue
      const { host = '', role = '', site = '', rule = '', severity = '', state = '' } = pt.tags ?? {}
      const { summary, ...f } = pt.f
      out.push({ w: pos, k: 'alert', r: pt.t, t: pt.t, host, role, site, source: `alert/${rule}`, level: severity, message: `${state}: ${String(summary ?? '')}`, tags: { rule, severity, state }, f })
    }
  }

  /** skipHeld gives up the records held once they reach the bound, so the WAL never fills for the archive's sake. */
  private async skipHeld (): Promise<void> {
    const bound = this.o.wal.maxTotalBytes * this.o.holdFraction
    let skipped = 0
    while (!this.consumer.stopped && this.o.wal.bytesFrom(this.o.reader.committed) > bound) {
      const recs = await this.consumer.read()
      if (recs.length === 0) break
      // Skip no more than needed: up to the record after which the WAL holds no more than the bound.
      let last = recs[0]!
      let n = 0
      for (const r of recs) {
        last = r
        const e = recordEntry(r)
        n += (e.e?.length ?? 0) + (e.a === '' ? e.p.filter(p => p.m === 'alert').length : 0)
        if (this.o.wal.bytesFrom(r.end) <= bound) break
      }
      this.gap = { skipped: (this.gap?.skipped ?? 0) + n, w: [last.end.segment, last.end.offset, 0] }
      skipped += n
      await this.o.reader.commit({ ...last.end }, 0, { gap: this.gap } satisfies State)
      this.o.reader.rewind()
    }
    if (skipped > 0) {
      this.o.metrics.skipped.inc(skipped)
      this.o.logger.error({ skipped, total: this.gap?.skipped }, 'archive: log events skipped to keep the WAL from filling; a gap record will name the count when writing resumes')
    }
  }

  private async sleep (ms: number): Promise<void> {
    if (this.consumer.stopped) return
    await new Promise<void>(resolve => {
      const done = (): void => { this.sleeping = undefined; resolve() }
      this.sleeping = { timer: setTimeout(done, ms), done }
    })
  }
}
