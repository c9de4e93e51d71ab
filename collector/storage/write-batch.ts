// One storage write's worth of WAL entries, kept as entries until sent: a back end that takes a
// body gets the points rendered straight into bytes (line-body.ts); the text lines are made only
// for back ends that take lines, and to find a line InfluxDB refused.

import { pointCount, type WalEntry } from '../state/entry.js'
import { LineBody } from './line-body.js'
import { colLines, eventsToLines, pointLine, seriesOf } from './line-protocol.js'

export class WriteBatch {
  /** entries whose points go to the raw retention, and the collector's rollups */
  readonly raw: WalEntry[] = []
  readonly rollup: WalEntry[] = []
  /** log events, as lines (their own retention; few, and folded per series and ms) */
  readonly logs: string[] = []
  /** lines at most: points and log lines (a point with no writable field makes none) */
  count = 0

  add (e: WalEntry): void {
    (e.rollup === true ? this.rollup : this.raw).push(e)
    this.count += pointCount(e)
    if (e.e !== undefined && e.e.length > 0) {
      const before = this.logs.length
      eventsToLines(e.e, this.logs)
      this.count += this.logs.length - before
    }
  }
}

/** pointLines is the entries' points as text lines, as entryToLines makes them. */
export function pointLines (entries: readonly WalEntry[]): string[] {
  const out: string[] = []
  for (const e of entries) {
    const series = seriesOf(e)
    for (let i = 0; i < e.p.length; i++) {
      const p = e.p[i]!
      const line = pointLine(series[i]!, p.f, p.t)
      if (line !== undefined) out.push(line)
    }
    if (e.c !== undefined) colLines(e.c, out)
  }
  return out
}

/** pointBody is the entries' points as one body: pointLines(entries).join('\n'), encoded. */
export function pointBody (entries: readonly WalEntry[], count: number): LineBody {
  // About 120 bytes a line for metrics; the body grows if it needs more.
  const body = new LineBody(Math.max(4096, count * 128))
  for (const e of entries) body.addPoints(e)
  return body
}
