// Lines InfluxDB refused for good land here, one JSON object per line with the
// reason, so an operator can see what was dropped and replay it after a fix.

import { promises as fsp } from 'node:fs'
import { join } from 'node:path'

export class DeadLetter {
  private readonly file: string
  private bytes = -1
  /** lines counted but not kept because the file reached its bound */
  overflow = 0

  constructor (dir: string, private readonly maxBytes = 256 * 1024 * 1024, private readonly now: () => number = Date.now) {
    this.file = join(dir, 'dead-letter.jsonl')
  }

  get path (): string { return this.file }

  async add (lines: string[], reason: string, status?: number): Promise<void> {
    if (this.bytes < 0) this.bytes = await fsp.stat(this.file).then(s => s.size, () => 0)
    const at = new Date(this.now()).toISOString()
    let text = ''
    for (const line of lines) {
      const rec = JSON.stringify({ at, status, reason, line }) + '\n'
      if (this.bytes + text.length + rec.length > this.maxBytes) { this.overflow++; continue }
      text += rec
    }
    if (text === '') return
    await fsp.appendFile(this.file, text, { mode: 0o600 })
    this.bytes += Buffer.byteLength(text)
  }
}
