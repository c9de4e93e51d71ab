// The contract every agent input implements, after Telegraf's Gather(acc):
// an input adds points to an accumulator and returns errors instead of logging them.

import type { Point } from '../../protocol/messages.js'

export type Fields = Record<string, number | boolean | string>
export type Tags = Record<string, string>

/** Accumulator collects the points of one gather round; t defaults to the round's timestamp. */
export interface Accumulator {
  add(measurement: string, fields: Fields, tags?: Tags, t?: number): void
}

/** Input is a polled input: gather is called once per collection interval. */
export interface Input {
  readonly name: string
  gather(acc: Accumulator, now: number): Promise<void>
  /** close releases timers, watchers and child processes (long-running inputs). */
  close?(): Promise<void>
}

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
