// Whether a log record becomes an event (filters, level floor, rate limit,
// each refusal counted), and the batch of events one poll fills.

import type { LogEvent } from '../../../protocol/messages.js'
import { Limits } from '../../../protocol/messages.js'
import type { GateSpec } from './config.js'
import { clip, detectLevel, levelRank, TokenBucket, type Level } from './logline.js'
import { classify } from './security.js'

const TRUNCATED = ' …[truncated by kanshi]'

export interface Stats { lines: number, filtered: number, dropped: number, truncated: number, lostFiles: number, errors: number, redacted: number }

/**
 * Gate decides whether a record becomes an event: redaction first (so that
 * nothing after it sees the personal data), then include/exclude filters,
 * the minimum level and the per-source rate limit, counting each refusal;
 * the rate limit's drops are also reported as one event per poll.
 */
export class Gate {
  readonly stats: Stats = { lines: 0, filtered: 0, dropped: 0, truncated: 0, lostFiles: 0, errors: 0, redacted: 0 }
  private droppedUnreported = 0
  private readonly bucket: TokenBucket

  constructor (readonly spec: GateSpec, private readonly stamp: (source: string, t: number) => number, now: number) {
    this.bucket = new TokenBucket(spec.rateLimit, spec.burst, now)
  }

  /** pass adds the record to the batch as an event unless a filter or the rate limit stops it. */
  pass (batch: Batch, text: string, source: string, now: number, o: { level?: Level, t?: number, truncated?: boolean, tags?: Readonly<Record<string, string>> | undefined } = {}): void {
    const s = this.spec
    if (s.redact !== undefined) {
      const r = s.redact.apply(text)
      text = r.text
      this.stats.redacted += r.count
    }
    if ((s.include.length > 0 && !s.include.some(re => re.test(text))) || s.exclude.some(re => re.test(text))) { this.stats.filtered++; return }
    const level = o.level ?? detectLevel(text, s.levels, s.defaultLevel)
    if (levelRank(level) > levelRank(s.minLevel)) { this.stats.filtered++; return }
    if (!this.bucket.take(now)) { this.stats.dropped++; this.droppedUnreported++; return }
    this.stats.lines++
    const message = o.truncated === true ? clip(text, Limits.maxEventMessageLength - TRUNCATED.length) + TRUNCATED : clip(text, Limits.maxEventMessageLength)
    // Security events (failed logons, lockouts, malware, logins) carry a `kind` tag; the entry's own tags win,
    // then the record's (a trap's device identity).
    const kind = s.security === false ? undefined : classify(source, text)
    const tags = kind === undefined && o.tags === undefined ? s.tags : { ...(kind !== undefined ? { kind } : {}), ...s.tags, ...o.tags }
    batch.add({ t: this.stamp(source, o.t ?? now), source: clip(source, 1024), level, message, ...(Object.keys(tags).length > 0 ? { tags } : {}) })
  }

  /** reportDrops adds one event saying how many lines the rate limit dropped since the last one. */
  reportDrops (batch: Batch, now: number): void {
    if (this.droppedUnreported === 0) return
    const source = this.spec.source ?? this.spec.name
    batch.add({ t: this.stamp(source, now), source, level: 'warning', message: `kanshi: ${this.droppedUnreported} lines dropped by the rate limit of ${this.spec.rateLimit} lines/s (burst ${this.spec.burst})` })
    this.droppedUnreported = 0
  }
}

export class Batch {
  events: LogEvent[] = []
  bytes = 0
  constructor (readonly maxEvents: number, readonly maxBytes: number) {}
  get full (): boolean { return this.events.length >= this.maxEvents || this.bytes >= this.maxBytes }
  add (ev: LogEvent): void {
    this.events.push(ev)
    this.bytes += Buffer.byteLength(ev.message) + ev.source.length + 80
  }
}

