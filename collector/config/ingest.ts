// ingest: limits on what agents may send and how fast, and when a silent host counts as down.

import { Type } from '@sinclair/typebox'
import { DurationMs, SizeBytes, Strict } from '../../common/config.js'

export const IngestSchema = Type.Object({
  maxFrameBytes: SizeBytes({ default: '4MiB', min: 1024 }),
  hostDownAfterIntervals: Type.Integer({ default: 3, minimum: 1, description: 'a whole number of intervals' }),
  defaultInterval: DurationMs({ default: '10s', min: 100 }),
  maxConnectionsPerAddress: Type.Integer({ default: 1000, minimum: 1, description: 'a whole number' }),
  maxErrorsPerMinute: Type.Integer({ default: 20, minimum: 1, description: 'a whole number' }),
  /** the newest agent protocol spoken: 2 turns columnar batches off, 1 stored acknowledgements too (an old collector's behaviour) */
  maxProtocol: Type.Integer({ default: 3, minimum: 1, maximum: 3, description: '1, 2 or 3' })
}, { ...Strict, default: {} })
