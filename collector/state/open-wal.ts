// Opens the collector's WAL: recovery feeds the agents' sequence numbers, and
// what recovery cut or kept is logged once and kept in metrics.

import { join } from 'node:path'
import type { Logger } from 'pino'
import type { CollectorConfig } from '../config.js'
import type { Metrics } from '../metrics.js'
import { decodeHead } from './entry.js'
import type { SeqStore } from './seqs.js'
import { Wal } from './wal/index.js'

export async function openWal (config: CollectorConfig, readers: string[], seqs: SeqStore, metrics: Metrics, logger: Logger): Promise<Wal> {
  const wal = await Wal.open({
    dir: join(config.dataDir, 'wal'),
    maxBytes: config.wal.maxBytes,
    segmentBytes: config.wal.segmentBytes,
    readers,
    onRecover: data => {
      const e = decodeHead(data)
      if (e.a !== '') seqs.observe(e.a, e.s)
    },
    beforeDelete: async () => await seqs.checkpoint()
  })
  const rec = wal.recovery
  metrics.walTornBytes.set(rec.tornBytes)
  metrics.walRecovered.set(rec.records)
  if (rec.tornBytes > 0) logger.warn(rec, 'WAL recovery cut a torn or corrupt tail')
  else logger.info(rec, 'WAL recovered')
  wal.onFlush = (records, _bytes, ms) => {
    metrics.walRecords.inc(records)
    metrics.walFsync.observe(ms / 1000)
  }
  metrics.walMaxBytes.set(config.wal.maxBytes)
  return wal
}
