// Log sources that are not files (journald, the Windows event log): each keeps
// its own cursor, and records queue as they are read until a poll takes them.

import { Gate, type Batch } from './gate.js'
import type { GateSpec } from './config.js'
import type { Level } from './logline.js'

/** StreamSource is a source that is not a file: it keeps its own cursor. */
export interface StreamSource {
  readonly gate: Gate
  /** start begins reading after the saved cursor (undefined: from now on) */
  start(saved: unknown): void
  /** poll moves what arrived into the batch; false when the batch filled up first */
  poll(batch: Batch, now: number): Promise<boolean>
  /** cursor is the position just after the last record handed to a batch */
  cursor(): unknown
  close(): Promise<void>
  readonly backlog: number
}

/** A record from a stream source, with the position just after it. */
export interface QueuedRecord { t: number, level: Level, source: string, message: string, tags?: Readonly<Record<string, string>> }

/**
 * QueuedSource is what journald and the event log share: records queue up
 * as they are read, poll hands them to batches, and the cursor is the
 * position of the last record handed out (filtered ones included).
 */
export abstract class QueuedSource<R extends QueuedRecord, C> implements StreamSource {
  readonly gate: Gate
  protected queue: R[] = []
  protected last: C | undefined

  constructor (spec: GateSpec, stamp: (source: string, t: number) => number, now: number) {
    this.gate = new Gate(spec, stamp, now)
  }

  get backlog (): number { return this.queue.length }

  abstract start (saved: unknown): void
  abstract close (): Promise<void>
  /** position is the cursor just after r */
  protected abstract position (r: R): C
  /** drained runs when the queue is empty after a poll (to resume a paused reader) */
  protected drained (): void {}

  async poll (batch: Batch, now: number): Promise<boolean> {
    while (this.queue.length > 0) {
      if (batch.full) return false
      const r = this.queue.shift()!
      this.gate.pass(batch, r.message, this.gate.spec.source ?? r.source, now, { level: r.level, t: r.t, tags: r.tags })
      this.last = this.position(r)
    }
    this.drained()
    return true
  }

  cursor (): unknown { return this.last }
}

