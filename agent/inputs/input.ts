// The contract every agent input implements, after Telegraf: a polled input
// adds points in gather(acc) and returns errors instead of logging them; a
// long-running one is started with a context and closed at shutdown.

import type { Logger } from 'pino'
import type { LogEvent, Point } from '../../protocol/messages.js'

export type Fields = Record<string, number | boolean | string>
export type Tags = Record<string, string>

/** Accumulator collects the points of one gather round; t defaults to the round's timestamp. */
export interface Accumulator {
  add(measurement: string, fields: Fields, tags?: Tags, t?: number): void
}

/** InputContext is what the agent gives a long-running input at start. */
export interface InputContext {
  /** a child logger naming the input */
  readonly logger: Logger
  /** enqueue spools a batch (durable when it resolves); cursors are the input's positions, saved with it */
  enqueue(points: Point[], events?: LogEvent[], cursors?: Record<string, unknown>): Promise<number>
  /** saveCursors records positions when reading produced no batch */
  saveCursors(cursors: Record<string, unknown>): Promise<void>
  /** savedCursor is the position saved under key (undefined before the first save) */
  savedCursor(key: string): unknown
}

/**
 * Input is one agent input. The agent starts every input, calls gather once per
 * collection interval on those that have it, and closes them in reverse order.
 */
export interface Input {
  readonly name: string
  /** start begins long-running work: timers, listeners, child processes */
  start?(ctx: InputContext): void | Promise<void>
  gather?(acc: Accumulator, now: number): Promise<void>
  /** close releases what start took; a last round may still enqueue */
  close?(): Promise<void>
}

/** PolledInput is an input gathered every interval (the system inputs). */
export type PolledInput = Input & Pick<Required<Input>, 'gather'>

/** PointAccumulator is the accumulator the agent uses; it drops non-finite numbers and counts them. */
export class PointAccumulator implements Accumulator {
  readonly points: Point[] = []
  dropped = 0
  constructor (private readonly now: number) {}

  add (measurement: string, fields: Fields, tags: Tags = {}, t: number = this.now): void {
    const f: Fields = {}
    let n = 0
    for (const [k, v] of Object.entries(fields)) {
      if (typeof v === 'number' && !Number.isFinite(v)) { this.dropped++; continue }
      f[k] = v
      n++
    }
    if (n === 0) return
    this.points.push({ m: measurement, t: Math.trunc(t), tags, f })
  }
}
