// The rollup stage's repair settings from the collector's config: the query target's raw
// retention policy (read over InfluxQL, as reports read it) and rollup.repairDelay/repeatAfter.

import type { CollectorConfig } from '../config.js'
import { InfluxQL } from '../report/influxql.js'
import { influxTarget } from '../report/report.js'
import type { Position } from '../state/wal/index.js'
import type { RollupStageOptions } from './rollup-stage.js'
import { parseRetention, type RepairResult } from './rollup-repair-run.js'

export function rollupRepair (config: CollectorConfig, influxUrl: string | undefined, stored: () => Position, onResult: (r: RepairResult) => void): NonNullable<RollupStageOptions['repair']> {
  const t = { ...influxTarget(config), url: config.influx.url ?? influxUrl ?? influxTarget(config).url, timeoutMs: 30_000 }
  const ql = new InfluxQL(t)
  return {
    delayMs: config.rollup.repairDelay,
    againMs: config.rollup.repeatAfter,
    target: { db: t.db, rawRp: t.rawRp, rollupRp: t.rollupRp, rawKeepMs: parseRetention(config.influx.retention.raw) },
    query: async stmts => await ql.query(stmts),
    stored,
    onResult
  }
}
