// Bad-batch isolation: a batch InfluxDB refused for good is split in halves until each
// refused line stands alone; the other lines are written, the refused ones dead-lettered.

import type { Logger } from 'pino'
import type { Refused, SendResult } from '../../common/send-result.js'
import type { Metrics } from '../metrics.js'
import type { DeadLetter } from './dead-letter.js'

/**
 * writeIsolating writes lines through write; a refused batch is bisected, so one bad line costs
 * about 2·log2(n) more writes and no good line is lost. It says true when every line was written
 * or refused alone (and given to onRefused), false when a write gave up (shutdown): the caller keeps the lines.
 */
export async function writeIsolating (write: (lines: string[]) => Promise<SendResult>, lines: string[], onRefused: (line: string, r: Refused) => Promise<void>): Promise<boolean> {
  if (lines.length === 0) return true
  const r = await write(lines)
  if (r.kind !== 'fail') return r.kind === 'ok'
  if (lines.length === 1) {
    await onRefused(lines[0]!, r)
    return true
  }
  const mid = lines.length >> 1
  return await writeIsolating(write, lines.slice(0, mid), onRefused) && await writeIsolating(write, lines.slice(mid), onRefused)
}

/** toDeadLetter is the onRefused that keeps a refused line in the dead-letter file, counts it and logs it. */
export function toDeadLetter (o: { deadLetter: DeadLetter, metrics: Pick<Metrics, 'deadLettered'>, logger: Logger, backend: string, target?: string }): (line: string, r: Refused) => Promise<void> {
  return async (line, r) => {
    await o.deadLetter.add([line], r.reason, r.status)
    o.metrics.deadLettered.inc(o.target === undefined ? { backend: o.backend } : { backend: o.backend, target: o.target }, 1)
    o.logger.error({ reason: r.reason, status: r.status, line: line.slice(0, 200) }, 'storage refused a point for good; moved to the dead-letter file')
  }
}
