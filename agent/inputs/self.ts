// The agent's own health as the `agent` measurement: spool depth and drops,
// memory, CPU and the clock skew measured at the last welcome.

import type { Accumulator, Input } from './input.js'
import type { Spool } from '../spool.js'
import type { Transport } from '../transport.js'

export class SelfInput implements Input {
  readonly name = 'agent'
  private lastCpu = process.cpuUsage()
  private lastAt = performance.now()

  constructor (private readonly spool: Spool, private readonly transport: Transport) {}

  async gather (acc: Accumulator): Promise<void> {
    const cpu = process.cpuUsage()
    const at = performance.now()
    const usedUs = (cpu.user - this.lastCpu.user) + (cpu.system - this.lastCpu.system)
    const wallUs = (at - this.lastAt) * 1000
    this.lastCpu = cpu
    this.lastAt = at
    acc.add('agent', {
      spool_batches: this.spool.batches,
      spool_bytes: this.spool.sizeBytes,
      spool_dropped_batches: this.spool.droppedBatches,
      spool_dropped_points: this.spool.droppedPoints,
      spool_rejected_batches: this.spool.rejectedBatches,
      spool_acked_batches: this.spool.ackedBatches,
      spool_released_batches: this.spool.releasedBatches,
      collector_index: this.transport.collectorIndex,
      rss_bytes: process.memoryUsage.rss(),
      cpu_percent: wallUs > 0 ? Math.round(usedUs / wallUs * 10000) / 100 : 0,
      clock_skew_ms: this.transport.clockSkewMs,
      connected: this.transport.state === 'ready' ? 1 : 0
    })
  }
}
