// wal: the collector's write-ahead log, bounded in bytes (a full WAL refuses batches with E_WAL_FULL).

import { Type } from '@sinclair/typebox'
import { SizeBytes, Strict } from '../../common/config.js'

export const WalSchema = Type.Object({
  maxBytes: SizeBytes({ default: '1GiB', min: 1024 * 1024 }),
  segmentBytes: SizeBytes({ default: '64MiB', min: 64 * 1024 })
}, { ...Strict, default: {} })
