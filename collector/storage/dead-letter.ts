// Lines InfluxDB refused for good land here, one JSON object per line with the reason, so an
// operator can see what was dropped and replay it after a fix. The file is bounded: lines past
// the bound are counted in kanshi_dead_letter_dropped_total and logged once with the total.

import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'

export interface DeadLetterOptions {
  metrics: Pick<Metrics, 'deadLetterDropped'>
  logger: Logger
  /** the file's bound (bytes), default 256 MiB */
  maxBytes?: number
  now?: () => number
  /** the file name in dir (default dead-letter.jsonl; with several targets dead-letter-<target>.jsonl) */
  fileName?: string
}

export class DeadLetter {
  private readonly file: string
  private readonly maxBytes: number
  private readonly now: () => number
  private bytes = -1
  /** refused lines not kept because the file reached its bound */
  dropped = 0

  constructor (dir: string, private readonly o: DeadLetterOptions) {
    this.file = join(dir, o.fileName ?? 'dead-letter.jsonl')
    this.maxBytes = o.maxBytes ?? 256 * 1024 * 1024
    this.now = o.now ?? Date.now
  }

  get path (): string { return this.file }

  async add (lines: string[], reason: string, status?: number): Promise<void> {
    if (this.bytes < 0) this.bytes = await fsp.stat(this.file).then(s => s.size, () => 0)
    const at = new Date(this.now()).toISOString()
    const kept: string[] = []
    let size = 0
    let dropped = 0
    for (const line of lines) {
      const rec = JSON.stringify({ at, status, reason, line }) + '\n'
      const n = Buffer.byteLength(rec)
      if (this.bytes + size + n > this.maxBytes) { dropped++; continue }
      kept.push(rec)
      size += n
    }
    if (dropped > 0) this.drop(dropped)
    if (size === 0) return
    await fsp.appendFile(this.file, kept.join(''), { mode: 0o600 })
    this.bytes += size
  }

  private drop (n: number): void {
    const first = this.dropped === 0
    this.dropped += n
    this.o.metrics.deadLetterDropped.inc(n)
    if (first) this.o.logger.warn({ file: this.file, maxBytes: this.maxBytes, dropped: this.dropped }, 'dead-letter file is full: further refused lines are dropped, counted in kanshi_dead_letter_dropped_total')
  }
}
