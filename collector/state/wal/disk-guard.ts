// The WAL's answer to a full or failing disk: a small file of spare room is
// kept beside the log so that, once writes fail, the readers can still write
// their cursors (and the seq checkpoint) and consumed segments can be freed.
// After a failure a tiny write is tried every second; appends resume once it
// succeeds with the spare room set aside again.

import { promises as fsp } from 'node:fs'
import { join } from 'node:path'

/** RESERVE_BYTES: spare room for cursors and checkpoints after the disk filled up */
const RESERVE_BYTES = 256 * 1024

export class DiskGuard {
  /** set while the disk refuses writes; cleared by the next successful write */
  error: string | undefined
  private timer: NodeJS.Timeout | undefined
  private closed = false

  constructor (private readonly dir: string) {}

  /** reserve sets the spare room aside; false when the disk has no room for it. */
  async reserve (): Promise<boolean> {
    const spare = join(this.dir, '.reserve')
    try {
      await fsp.writeFile(spare, Buffer.alloc(RESERVE_BYTES))
      return true
    } catch {
      await fsp.rm(spare, { force: true })
      return false
    }
  }

  private async release (): Promise<void> {
    await fsp.rm(join(this.dir, '.reserve'), { force: true })
  }

  /** failed records a failed write: the spare room is released for the cursors and probing starts. */
  async failed (err: unknown): Promise<void> {
    await this.release()
    this.error = `write-ahead log write failed: ${(err as NodeJS.ErrnoException).code ?? String(err)}`
    this.scheduleProbe()
  }

  private scheduleProbe (): void {
    if (this.timer !== undefined || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.probe()
    }, 1000)
    this.timer.unref()
  }

  private async probe (): Promise<void> {
    if (this.closed || this.error === undefined) return
    const path = join(this.dir, '.probe')
    // Appends resume only once the spare room is set aside again and there is room beyond it:
    // otherwise they take the room the cursors and the rollup checkpoint need to free segments.
    if (await this.reserve()) {
      try {
        await fsp.writeFile(path, Buffer.alloc(64 * 1024))
        await fsp.unlink(path)
        this.error = undefined
        return
      } catch {
        await fsp.unlink(path).catch(() => {})
        await this.release()
      }
    }
    this.scheduleProbe()
  }

  close (): void {
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
  }
}
