// Every InfluxDB target of `influx:` (one map or a list): one StorageWriter each, on its own WAL
// cursor, so each target gets every point and one that was down is brought up to date from the WAL.
// Here too: the stored position (what every target holds), the per-target /readyz reasons, and the
// lag guard that gives up a failing target's backlog before the WAL fills for everyone.

import type { Logger } from 'pino'
import type { InfluxConfig } from '../config/influx.js'
import type { Metrics } from '../metrics.js'
import type { Position, Wal, WalReader } from '../state/wal/index.js'
import type { StorageBackend } from './backend.js'
import { DeadLetter } from './dead-letter.js'
import { before, StorageWriter, type Skipped } from './writer.js'

/** failing: a write failed and none succeeded since (a writer that has not written yet is not failing) */
const failing = (w: StorageWriter): boolean => !w.healthy && w.lastError !== undefined

/** One target at work: its config, back end, writer and WAL cursor. */
export interface StorageTarget {
  readonly name: string
  readonly config: InfluxConfig
  readonly backend: StorageBackend
  readonly writer: StorageWriter
  readonly reader: WalReader
}

export interface StorageTargetsOptions {
  wal: Wal
  /** each target with its back end (targets without a URL are left out by the caller) */
  targets: Array<{ config: InfluxConfig, backend: StorageBackend }>
  dataDir: string
  metrics: Metrics
  logger: Logger
  /** how often the lag guard looks (ms, default 2 s) */
  guardMs?: number
  /** writer backoff bounds (tests) */
  minBackoffMs?: number
  maxBackoffMs?: number
}

export class StorageTargets {
  readonly list: readonly StorageTarget[]
  private readonly listeners = new Set<(pos: Position) => void>()
  private stored: Position
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly o: StorageTargetsOptions) {
    const many = o.targets.length > 1
    this.list = o.targets.map(({ config, backend }) => {
      const reader = o.wal.reader(config.reader)
      const logger = o.logger.child({ component: 'storage', backend: backend.name, ...(many ? { target: config.name } : {}) })
      const writer = new StorageWriter({
        wal: o.wal, reader, backend, metrics: o.metrics, logger,
        deadLetter: new DeadLetter(o.dataDir, { metrics: o.metrics, logger, ...(many ? { fileName: `dead-letter-${config.name}.jsonl` } : {}) }),
        batchLines: config.batchLines,
        backlogBatchLines: config.backlogBatchLines,
        lingerMs: config.flushInterval,
        // Four writes in flight keep InfluxDB busy while a backlog drains (it answers each after its own WAL fsync).
        concurrency: 4,
        rollups: config.rollups,
        ...(o.minBackoffMs !== undefined ? { minBackoffMs: o.minBackoffMs } : {}),
        ...(o.maxBackoffMs !== undefined ? { maxBackoffMs: o.maxBackoffMs } : {}),
        ...(many ? { target: config.name } : {}),
        onCommit: () => this.notify(),
        onSkipped: s => this.skipped(config.name, logger, s)
      })
      return { name: config.name, config, backend, writer, reader }
    })
    this.stored = this.storedPosition()
  }

  /** many tells whether there is more than one target (reasons and labels then name each). */
  get many (): boolean { return this.list.length > 1 }

  /**
   * storedPosition is the WAL position every target's writer has committed: everything before it
   * is in every InfluxDB target (the min over the targets; with one, its cursor).
   */
  storedPosition (): Position {
    let min: Position | undefined
    for (const t of this.list) if (min === undefined || before(t.reader.committed, min)) min = t.reader.committed
    return { ...(min ?? { segment: 0, offset: 0 }) }
  }

  /** onStored calls cb with the new stored position each time it moves; it returns the unsubscribe. */
  onStored (cb: (pos: Position) => void): () => void {
    this.listeners.add(cb)
    return () => { this.listeners.delete(cb) }
  }

  private notify (): void {
    const pos = this.storedPosition()
    if (!before(this.stored, pos)) return
    this.stored = pos
    for (const cb of this.listeners) cb({ ...pos })
  }

  start (): void {
    for (const t of this.list) t.writer.start()
    if (this.many) {
      this.timer = setInterval(() => this.guard(), this.o.guardMs ?? 2000)
      this.timer.unref()
    }
  }

  async stop (): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    await Promise.all(this.list.map(async t => await t.writer.stop()))
  }

  async close (): Promise<void> {
    await Promise.all(this.list.map(async t => await t.backend.close()))
  }

  /**
   * guard gives up, one segment at a time, the backlog of a target that fails while another
   * target stores, once that backlog passes its influx.lagFraction of wal.maxBytes: the WAL then
   * holds data for the targets that work, and ingest goes on. With one target nothing is given up.
   */
  guard (): void {
    const wal = this.o.wal
    for (const t of this.list) this.o.metrics.storageLag.set({ target: t.name }, wal.bytesFrom(t.reader.committed))
    for (const slow of this.list) {
      if (!failing(slow.writer) || slow.writer.skipping) continue
      if (wal.bytesFrom(slow.reader.committed) <= slow.config.lagFraction * wal.maxTotalBytes) continue
      const ahead = this.list.filter(t => t !== slow && !failing(t.writer) && t.reader.committed.segment > slow.reader.committed.segment)
      if (ahead.length === 0) continue // no target holds this data yet: keep it, the WAL's bound holds ingest back
      const next = wal.nextSegment(slow.reader.committed.segment)
      if (next !== undefined) slow.writer.skipTo({ segment: next, offset: 0 })
    }
  }

  private skipped (name: string, logger: Logger, s: Skipped): void {
    this.o.metrics.storageSkipped.inc({ target: name }, s.lines)
    logger.error({
      target: name, points: s.lines, records: s.records, bytes: s.bytes,
      from: s.firstTs > 0 ? new Date(s.firstTs).toISOString() : undefined, to: s.lastTs > 0 ? new Date(s.lastTs).toISOString() : undefined
    }, `InfluxDB target ${name} kept failing while its backlog passed influx.lagFraction of the WAL: ${s.lines} points it never got were given up (kanshi_storage_skipped_points_total); the other targets hold them — copy that time span over (docs/operations.md)`)
  }

  /**
   * problems are the /readyz reasons: with one target as before; with several, a failing target is
   * a warning while another stores, and a problem only when none does.
   */
  async problems (): Promise<{ problems: string[], warnings: string[] }> {
    const reasons = await Promise.all(this.list.map(async t => {
      const w = t.writer
      if (!w.healthy && w.lastError !== undefined) return w.lastError
      if (!(await t.backend.ping())) return 'InfluxDB does not answer'
      return undefined
    }))
    const named = reasons.map((r, i) => r === undefined ? undefined : this.many ? `storage[${this.list[i]!.name}]: ${r}` : `storage: ${r}`)
    const failing = named.filter((r): r is string => r !== undefined)
    if (failing.length < this.list.length && this.many) return { problems: [], warnings: failing }
    return { problems: failing, warnings: [] }
  }

  /** healthy tells whether every target's writer stores (the first target's, for the old single-writer API). */
  get healthy (): boolean { return this.list.every(t => t.writer.healthy) }
}
