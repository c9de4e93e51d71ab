// Draining a log stream source (journald, Windows Event Log) in tests: each
// pump polls once into a fresh batch and keeps its events.

import type { LogEvent } from '../../protocol/messages.js'
import { Batch } from '../../agent/inputs/logs/gate.js'
import type { StreamSource } from '../../agent/inputs/logs/stream.js'

export function pumpInto (events: LogEvent[]): (src: StreamSource) => Promise<void> {
  return async src => {
    const b = new Batch(1000, 1 << 20)
    await src.poll(b, Date.now())
    events.push(...b.events)
  }
}
