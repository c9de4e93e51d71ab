// The highest batch seq held durably per agent: what welcome.ackedSeq reports
// and what makes a resent batch an acked no-op instead of a duplicate.
// Rebuilt at start from a checkpoint file plus the records still in the WAL.

import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from '../../common/atomic-write.js'

export class SeqStore {
  private readonly durable = new Map<string, number>()
  private readonly file: string

  constructor (dir: string) {
    this.file = join(dir, 'acked-seqs.json')
  }

  async load (): Promise<void> {
    try {
      const o = JSON.parse(await fsp.readFile(this.file, 'utf8')) as Record<string, number>
      for (const [k, v] of Object.entries(o)) if (Number.isSafeInteger(v)) this.durable.set(k, v)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }

  /** observe records a durable seq (from recovery or after fsync). */
  observe (agent: string, seq: number): void {
    if (seq > (this.durable.get(agent) ?? 0)) this.durable.set(agent, seq)
  }

  acked (agent: string): number {
    return this.durable.get(agent) ?? 0
  }

  /** checkpoint persists the map atomically and durably; run before WAL segments are deleted. */
  async checkpoint (): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(Object.fromEntries(this.durable)))
  }
}
