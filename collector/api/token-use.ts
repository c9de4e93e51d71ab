// The last use of each API token (by name): when and on which node. Uses are noted in
// memory on every accepted request and written at most once per token per flush (a
// minute): to dataDir/token-use.json on one collector, to PostgreSQL in a cluster.

import { existsSync, readFileSync } from 'node:fs'
import { writeFileAtomic } from '../../common/atomic-write.js'

export interface TokenUseRecord { name: string, lastUsedAt: number, node: string }

/** TokenUseBackend keeps the records; put keeps the newer time of each name. */
export interface TokenUseBackend {
  all(): Promise<TokenUseRecord[]>
  put(records: TokenUseRecord[]): Promise<void>
}

/** FileTokenUse is the backend of one collector: one JSON file, replaced atomically. */
export class FileTokenUse implements TokenUseBackend {
  constructor (readonly file: string) {}

  async all (): Promise<TokenUseRecord[]> {
    if (!existsSync(this.file)) return []
    try {
      const j = JSON.parse(readFileSync(this.file, 'utf8')) as unknown
      return Array.isArray(j) ? (j as TokenUseRecord[]).filter(r => typeof r?.name === 'string' && Number.isFinite(r.lastUsedAt) && typeof r.node === 'string') : []
    } catch {
      return [] // a damaged file loses only the last-use times; it is rewritten on the next flush
    }
  }

  async put (records: TokenUseRecord[]): Promise<void> {
    const by = new Map((await this.all()).map(r => [r.name, r]))
    for (const r of records) if ((by.get(r.name)?.lastUsedAt ?? -1) < r.lastUsedAt) by.set(r.name, r)
    await writeFileAtomic(this.file, JSON.stringify([...by.values()].sort((a, b) => a.name.localeCompare(b.name))) + '\n', { mode: 0o600 })
  }
}

export interface TokenUseOptions {
  node: string
  now: () => number
  backend: TokenUseBackend
  /** how often the noted uses are written (default 60 s: at most one write per token per minute) */
  flushMs?: number
  onError?: (err: unknown) => void
}

/** TokenUse notes uses in memory and writes them in batches; a failed write keeps them for the next. */
export class TokenUse {
  /** token writes done (one per token per flush) */
  writes = 0
  /** flushes that failed (the uses stayed in memory and went with a later one) */
  failures = 0
  private readonly dirty = new Map<string, TokenUseRecord>()
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly o: TokenUseOptions) {}

  seen (name: string): void {
    this.dirty.set(name, { name, lastUsedAt: this.o.now(), node: this.o.node })
  }

  async flush (): Promise<number> {
    if (this.dirty.size === 0) return 0
    const batch = [...this.dirty.values()]
    this.dirty.clear()
    try {
      await this.o.backend.put(batch)
      this.writes += batch.length
      return batch.length
    } catch (err) {
      this.failures++
      // Back into memory unless a newer use came meanwhile.
      for (const r of batch) if (!this.dirty.has(r.name)) this.dirty.set(r.name, r)
      this.o.onError?.(err)
      return 0
    }
  }

  /** list: the stored records with the uses not yet written over them. */
  async list (): Promise<TokenUseRecord[]> {
    const by = new Map((await this.o.backend.all()).map(r => [r.name, r]))
    for (const r of this.dirty.values()) if ((by.get(r.name)?.lastUsedAt ?? -1) <= r.lastUsedAt) by.set(r.name, r)
    return [...by.values()]
  }

  start (): void {
    const tick = (): void => { this.timer = setTimeout(() => { void this.flush().finally(tick) }, this.o.flushMs ?? 60_000); this.timer.unref() }
    tick()
  }

  async stop (): Promise<void> {
    clearTimeout(this.timer)
    await this.flush()
  }
}
