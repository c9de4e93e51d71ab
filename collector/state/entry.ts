// What one WAL record holds: a batch as accepted from an agent, with the
// collector's identity tags already stamped on every point.

import type { LogEvent, Point } from '../../protocol/messages.js'
import type { WalRecord } from './wal.js'

export interface WalEntry {
  /** agent id; '' for points the collector writes itself (host_up) */
  a: string
  /** the agent's batch seq; 0 for the collector's own points */
  s: number
  /** receive time at the collector (ms) */
  r: number
  p: Point[]
  e?: LogEvent[]
  /** set on the collector's 5-minute rollups: they go to the rollup retention policy / bucket */
  rollup?: true
}

export function encodeEntry (e: WalEntry): Buffer {
  return Buffer.from(JSON.stringify(e))
}

export function decodeEntry (b: Buffer): WalEntry {
  return JSON.parse(b.toString('utf8')) as WalEntry
}

/** recordEntry is the record's entry: the appender's own object while the WAL still caches it, else parsed. Read-only. */
export function recordEntry (r: WalRecord): WalEntry {
  return (r.entry as WalEntry | undefined) ?? decodeEntry(r.data)
}
