// rollup: rollups across failover (docs/scaling.md): how long after a bucket's end a partial bucket
// is repaired from raw data, and how long after that the repair runs again.

import { Type } from '@sinclair/typebox'
import { DurationMs, Strict } from '../../common/config.js'

export const RollupSchema = Type.Object({
  repairDelay: DurationMs({ default: '2m', min: 0 }),
  repeatAfter: DurationMs({ default: '10m', min: 1000 })
}, { ...Strict, default: {} })
