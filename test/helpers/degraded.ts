// The fixture of the degraded-mode store tests: a private PostgreSQL with kanshi's schema, node n1's
// cluster config on it (short timeouts) and a pool; and until(), a 50 ms wait for a condition.

import type { Test } from 'tap'
import { makePool, type Pool } from '../../collector/cluster/pg.js'
import { migrate } from '../../collector/cluster/schema.js'
import { checkCluster, type ClusterConfig } from '../../collector/config/cluster.js'
import { startPostgres, type Postgres } from './postgres.js'
import { waitFor } from './procs.js'

export async function degradedFixture (t: Test): Promise<{ pg: Postgres, config: ClusterConfig, pool: Pool }> {
  const pg = await startPostgres(t)
  const config = checkCluster('/c.yaml', { node: 'n1', postgres: { url: pg.url, passwordEnv: 'KANSHI_PG_PASSWORD', ssl: 'disable', connectTimeout: 500, statementTimeout: 1000, poolSize: 4 }, lease: 3000, heartbeat: 1000, receivers: [] }, p => p, { KANSHI_PG_PASSWORD: pg.password }, undefined)!
  const pool = makePool(config.postgres, () => {})
  t.teardown(async () => await pool.end())
  await migrate(pool)
  return { pg, config, pool }
}

export const until = async (cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => { await waitFor(cond, ms, 50) }
