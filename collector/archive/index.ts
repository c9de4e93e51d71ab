// The archive's factory for build(): the stage when archive.enabled, with its writer and metrics.

import type { Logger } from 'pino'
import type { KeyObject } from 'node:crypto'
import { ConfigError } from '../../common/config.js'
import type { CollectorConfig } from '../config.js'
import type { Metrics } from '../metrics.js'
import type { Wal } from '../state/wal/index.js'
import { loadSigningKey } from './manifest.js'
import { ArchiveStage } from './stage.js'
import { ArchiveWriter } from './writer.js'
import { AuditSource } from './audit-source.js'

export { ArchiveStage } from './stage.js'

/** ARCHIVE_READER is the archive's WAL reader name. */
export const ARCHIVE_READER = 'archive'

/** createArchive returns the archive stage (not started), or undefined when archive.enabled is false. */
export function createArchive (o: { config: CollectorConfig, wal: Wal, metrics: Metrics, logger: Logger, now: () => number, auditFile?: string, exclude?: (role: string, site: string) => boolean }): ArchiveStage | undefined {
  const a = o.config.archive
  if (!a.enabled) return undefined
  const timeZone = o.config.report.timezone
  let key: KeyObject
  try { key = loadSigningKey(a.signingKey) } catch (err) { throw new ConfigError(o.config.file, 'archive.signingKey', (err as Error).message) }
  const writer = new ArchiveWriter({ dir: a.dir, key, keepMs: a.keep, minFree: a.minFree, timeZone, logger: o.logger })
  o.metrics.archiveUp.set(1)
  return new ArchiveStage({
    wal: o.wal, reader: o.wal.reader(ARCHIVE_READER), writer, timeZone, ...(o.auditFile !== undefined ? { audit: new AuditSource(o.auditFile) } : {}), holdFraction: a.holdFraction, logger: o.logger, now: o.now,
    metrics: { up: o.metrics.archiveUp, events: o.metrics.archiveEvents, skipped: o.metrics.archiveSkipped, excluded: o.metrics.archiveExcluded },
    ...(o.exclude !== undefined ? { exclude: o.exclude } : {})
  })
}
