// API tokens' last use in the cluster's PostgreSQL (api_token_use, migration 4): the newest
// use of each token wins, whichever node writes last.

import type { TokenUseBackend, TokenUseRecord } from '../api/token-use.js'
import type { Pool } from './pg.js'

export class PgTokenUse implements TokenUseBackend {
  constructor (private readonly pool: Pool, private readonly ready: () => Promise<void> = async () => {}) {}

  async all (): Promise<TokenUseRecord[]> {
    await this.ready()
    const r = await this.pool.query<{ name: string, last_used_at: string, node: string }>('SELECT name, last_used_at, node FROM api_token_use ORDER BY name')
    return r.rows.map(x => ({ name: x.name, lastUsedAt: Number(x.last_used_at), node: x.node }))
  }

  async put (records: TokenUseRecord[]): Promise<void> {
    if (records.length === 0) return
    await this.ready()
    // One statement for the batch; an older time never replaces a newer one.
    await this.pool.query(`INSERT INTO api_token_use (name, last_used_at, node)
      SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])
      ON CONFLICT (name) DO UPDATE SET last_used_at = EXCLUDED.last_used_at, node = EXCLUDED.node
      WHERE EXCLUDED.last_used_at > api_token_use.last_used_at`,
    [records.map(r => r.name), records.map(r => r.lastUsedAt), records.map(r => r.node)])
  }
}
