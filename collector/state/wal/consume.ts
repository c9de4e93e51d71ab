// The one loop by which a stage follows the WAL: read records, hand them on,
// and when caught up wait for the next flush or a deadline, whichever comes
// first, leaving neither a waiter in the WAL nor a timer behind. stop() ends a
// wait at once; the loop then returns after the hand-off under way.

import type { Wal } from './log.js'
import type { WalReader } from './reader.js'
import type { WalRecord } from './record.js'

export interface ConsumeHandlers {
  /** idleMs: how long to wait for new data when caught up, unless idle says otherwise */
  idleMs: number
  /** records takes a read's records (never empty), in WAL order */
  records: (recs: WalRecord[]) => Promise<void> | void
  /** idle runs when a read found nothing; it may return how long to wait (0: read again at once) */
  idle?: () => Promise<number | undefined | void> | number | undefined | void
}

export class WalConsumer {
  private stopping = false
  /** ends the wait under way, if any */
  private wake: (() => void) | undefined

  /** readBytes: the most one read returns (at least one record; default 1 MiB) */
  constructor (readonly wal: Wal, readonly reader: WalReader, private readonly readBytes = 1024 * 1024) {}

  get stopped (): boolean { return this.stopping }

  /** read returns the next records after the reader's position (none when caught up). */
  async read (): Promise<WalRecord[]> {
    return await this.reader.read(this.readBytes)
  }

  /** wait resolves on the next WAL flush, after ms, or on stop(), and cleans up after itself either way. */
  wait (ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve()
    return new Promise(resolve => {
      const done = (): void => {
        clearTimeout(timer)
        off()
        if (this.wake === done) this.wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      const off = this.wal.onData(done)
      this.wake = done
    })
  }

  /** run reads and hands on records until stop(); an error of a handler or a read ends it (rejects). */
  async run (h: ConsumeHandlers): Promise<void> {
    while (!this.stopping) {
      const recs = await this.read()
      if (recs.length > 0) {
        await h.records(recs)
        continue
      }
      const ms = (await h.idle?.()) ?? h.idleMs
      if (ms > 0 && !this.stopping) await this.wait(ms)
    }
  }

  /** stop ends the wait under way and makes run() return before its next read. */
  stop (): void {
    this.stopping = true
    this.wake?.()
  }
}
