// The rule evaluator: per rule and series, inactive → pending → firing →
// resolved, driven by the points and events as they leave the WAL and by a
// clock tick (for `for`, absence and log windows). Pure: state in, state and
// transitions out, the clock a parameter.

import type { LogEvent, Point } from '../../protocol/messages.js'
import type { Cols } from '../../protocol/columns.js'
import type { Rule } from './rules.js'
import { matches } from './rules.js'
import { seriesHash } from '../storage/line-protocol.js'
import { MATCHED_LINES_MAX, MATCHED_LINE_CHARS } from './incident-store.js'

export type AlertState = 'inactive' | 'pending' | 'firing'

export interface Series {
  key: string
  rule: string
  labels: Record<string, string>
  state: AlertState
  /** when the condition last became true (start of pending) */
  since: number
  firedAt: number
  value: number
  lastSeen: number
  /** [t, value] within the rule's window, oldest first */
  samples: Array<[number, number]>
  /** log rules: the first matching lines of the current window */
  lines: string[]
  /** the point's `message` field as last seen (a check's or plugin's output), for {{message}} */
  text?: string
  /** cluster: the agent whose data last moved this series ('' for the collector's own points) */
  agent?: string
}

export type TransitionKind = 'pending' | 'firing' | 'resolved' | 'cancelled'

export interface Transition {
  kind: TransitionKind
  rule: Rule
  series: Series
  at: number
  /** why a firing series resolved without recovering (out of schedule, rule removed) */
  reason?: string
}

const MAX_SAMPLES = 2000
/** log rules keep the first lines of the window: stored with the incident (incident-store MATCHED_LINES_MAX) */
const MAX_LINES = MATCHED_LINES_MAX

export function compare (v: number, op: Rule['op'], x: number): boolean {
  switch (op) {
    case '>': return v > x
    case '>=': return v >= x
    case '<': return v < x
    case '<=': return v <= x
    case '==': return v === x
    case '!=': return v !== x
    default: return false
  }
}

export function aggregate (samples: Array<[number, number]>, agg: Rule['agg']): number {
  if (samples.length === 0) return NaN
  switch (agg) {
    case 'last': return samples[samples.length - 1]![1]
    case 'max': return samples.reduce((m, s) => Math.max(m, s[1]), -Infinity)
    case 'min': return samples.reduce((m, s) => Math.min(m, s[1]), Infinity)
    case 'avg': return samples.reduce((n, s) => n + s[1], 0) / samples.length
    default: return NaN
  }
}

/**
 * predictLinear fits value = a + b·t by least squares over the samples and
 * returns the value predicted at time at (Prometheus predict_linear).
 */
export function predictLinear (samples: Array<[number, number]>, at: number): number {
  const n = samples.length
  if (n < 2) return NaN
  const t0 = samples[0]![0]
  let sx = 0; let sy = 0; let sxx = 0; let sxy = 0
  for (const [t, v] of samples) {
    const x = (t - t0) / 1000
    sx += x; sy += v; sxx += x * x; sxy += x * v
  }
  const den = n * sxx - sx * sx
  if (den === 0) return NaN
  const b = (n * sxy - sx * sy) / den
  const a = (sy - b * sx) / n
  return a + b * (at - t0) / 1000
}

/** consecutive: the last `count` samples are all past the threshold (device down = 2 failed pings in a row). */
function consecutive (samples: Array<[number, number]>, rule: Rule): boolean {
  if (samples.length < rule.count) return false
  for (let i = samples.length - rule.count; i < samples.length; i++) if (!compare(samples[i]![1], rule.op, rule.threshold)) return false
  return true
}

// Tag keys sorted in this array, reused: the key is built once per point and rule, and
// Object.keys().sort().map().join() allocated four arrays for it (3% of the collector's CPU at ingest).
const sortedKeys: string[] = []

/** seriesKey is the identity of a series: rule|k=v,… over the point's tags sorted by key (stored in incidents: keep the form). */
export function seriesKey (rule: string, tags: Record<string, string>): string {
  let n = 0
  for (const k in tags) {
    if (!Object.hasOwn(tags, k)) continue
    let i = n++
    while (i > 0 && sortedKeys[i - 1]! > k) { sortedKeys[i] = sortedKeys[i - 1]!; i-- }
    sortedKeys[i] = k
  }
  let key = rule + '|'
  for (let i = 0; i < n; i++) key += (i === 0 ? '' : ',') + sortedKeys[i]! + '=' + tags[sortedKeys[i]!]!
  return key
}

/** sameLabels: tags (own keys) are exactly the series' labels. */
function sameLabels (labels: Record<string, string>, tags: Record<string, string>): boolean {
  let n = 0
  for (const k in tags) {
    if (!Object.hasOwn(tags, k)) continue
    if (labels[k] !== tags[k]) return false
    n++
  }
  for (const k in labels) if (Object.hasOwn(labels, k)) n--
  return n === 0
}

const RECENT_MAX = 1 << 16

export interface EvaluatorOptions {
  rules: Rule[]
  /** schedule check for a rule at time t on a series (its labels carry the host); always true when absent */
  inSchedule?: (rule: Rule, t: number, labels: Record<string, string>) => boolean
}

export class Evaluator {
  private rules: Rule[]
  private byMeasurement = new Map<string, Rule[]>()
  readonly series = new Map<string, Series>()
  /** the series last seen per hash of rule and tags (checked on use: a collision or a removed series misses) */
  private readonly recent = new Map<number, Series>()
  private readonly inSchedule: (rule: Rule, t: number, labels: Record<string, string>) => boolean

  constructor (o: EvaluatorOptions) {
    this.rules = []
    this.inSchedule = o.inSchedule ?? (() => true)
    this.setRules(o.rules, 0) // no series yet: nothing resolves
  }

  /** setRules swaps the rule set (reload); series of removed rules resolve, others keep their state. */
  setRules (rules: Rule[], now: number): Transition[] {
    const out: Transition[] = []
    const names = new Set(rules.map(r => r.name))
    for (const [k, s] of this.series) {
      if (names.has(s.rule)) continue
      const old = this.rules.find(r => r.name === s.rule)
      if (old !== undefined && s.state === 'firing') out.push({ kind: 'resolved', rule: old, series: s, at: now, reason: 'rule removed' })
      this.series.delete(k)
    }
    this.rules = rules
    this.byMeasurement = new Map()
    for (const r of rules) {
      const list = this.byMeasurement.get(r.measurement) ?? []
      list.push(r)
      this.byMeasurement.set(r.measurement, list)
    }
    return out
  }

  getRules (): readonly Rule[] { return this.rules }

  private get (rule: Rule, tags: Record<string, string>): Series {
    // A hit in the front cache (same rule, same labels, still the live series) skips building the key string.
    const h = seriesHash(rule.name, tags)
    const hit = this.recent.get(h)
    if (hit !== undefined && hit.rule === rule.name && sameLabels(hit.labels, tags) && this.series.get(hit.key) === hit) return hit
    const key = seriesKey(rule.name, tags)
    let s = this.series.get(key)
    if (s === undefined) {
      s = { key, rule: rule.name, labels: { ...tags }, state: 'inactive', since: 0, firedAt: 0, value: NaN, lastSeen: 0, samples: [], lines: [] }
      this.series.set(key, s)
    }
    if (this.recent.size >= RECENT_MAX) this.recent.clear()
    this.recent.set(h, s)
    return s
  }

  /** observePoints feeds points (as stamped by ingest) and returns the transitions they cause. */
  observePoints (points: Point[], now: number): Transition[] {
    const out: Transition[] = []
    for (const p of points) {
      const rules = this.byMeasurement.get(p.m)
      if (rules === undefined) continue
      for (const rule of rules) {
        if (rule.type === 'log') continue
        const v = p.f[rule.field]
        if (typeof v !== 'number' || !matches(rule, p.tags)) continue
        const s = this.get(rule, p.tags ?? {})
        const msg = p.f['message']
        if (typeof msg === 'string') s.text = msg.slice(0, 500)
        s.lastSeen = Math.max(s.lastSeen, p.t)
        if (rule.when !== undefined && !rule.when.every(([k, want]) => p.f[k] === want)) {
          s.samples.length = 0 // not applicable now (an interface shut down on purpose): the series clears
          if (rule.type !== 'absent') this.step(rule, s, now, out)
          continue
        }
        this.sample(rule, s, p.t, v)
        if (rule.type !== 'absent') this.step(rule, s, now, out)
      }
    }
    return out
  }

  /**
   * observeCols feeds columnar series (protocol 3) as observePoints feeds their rows as points: per
   * series and rule the match, the series state and the field's position are found once.
   */
  observeCols (cols: readonly Cols[], now: number, out: Transition[] = []): Transition[] {
    for (const c of cols) {
      const rules = this.byMeasurement.get(c.m)
      if (rules === undefined) continue
      const w = c.f.length + 1
      const v = c.v
      for (const rule of rules) {
        if (rule.type === 'log') continue
        const j = c.f.indexOf(rule.field)
        if (j < 0 || !matches(rule, c.tags)) continue
        const s = this.get(rule, c.tags ?? {})
        const when = rule.when?.map(([k, want]): [number, number] => [c.f.indexOf(k), want])
        for (let o = 0; o < v.length; o += w) {
          const t = v[o]!
          s.lastSeen = Math.max(s.lastSeen, t)
          if (when !== undefined && !when.every(([i, want]) => i >= 0 && v[o + 1 + i] === want)) {
            s.samples.length = 0
            if (rule.type !== 'absent') this.step(rule, s, now, out)
            continue
          }
          this.sample(rule, s, t, v[o + 1 + j]!)
          if (rule.type !== 'absent') this.step(rule, s, now, out)
        }
      }
    }
    return out
  }

  /** observeEvents feeds log events to log rules (grouped by host and source). */
  observeEvents (events: LogEvent[], now: number): Transition[] {
    const rules = this.byMeasurement.get('log_event')
    if (rules === undefined) return []
    const out: Transition[] = []
    for (const e of events) {
      const tags: Record<string, string> = { ...e.tags, source: e.source, level: e.level }
      for (const rule of rules) {
        if (rule.type !== 'log') continue
        if (rule.levels !== undefined && !rule.levels.has(e.level)) continue
        if (rule.match !== undefined && !rule.match.test(e.message)) continue
        if (!matches(rule, tags)) continue
        const s = this.get(rule, { host: tags['host'] ?? '', role: tags['role'] ?? '', site: tags['site'] ?? '', source: e.source })
        s.lastSeen = Math.max(s.lastSeen, e.t)
        s.samples.push([e.t, 1])
        if (s.lines.length < MAX_LINES) s.lines.push(e.message.slice(0, MATCHED_LINE_CHARS))
        this.trim(rule, s, now)
        this.step(rule, s, now, out)
      }
    }
    return out
  }

  /** tick advances time: pending series reach `for`, absences are noticed, log windows slide. */
  tick (now: number): Transition[] {
    const out: Transition[] = []
    const rules = new Map(this.rules.map(r => [r.name, r]))
    for (const s of this.series.values()) {
      const rule = rules.get(s.rule)
      if (rule === undefined) continue
      if (rule.type === 'log') this.trim(rule, s, now)
      this.step(rule, s, now, out)
    }
    return out
  }

  /**
   * sample adds a value and trims the window. A rule that keeps its last n samples (no window)
   * reuses the one that drops out: no array a point on the ingest path.
   */
  private sample (rule: Rule, s: Series, t: number, v: number): void {
    const n = rule.windowMs > 0 ? 0 : Math.max(1, rule.count)
    if (n > 0 && s.samples.length >= n) {
      if (s.samples.length > n) s.samples.splice(0, s.samples.length - n)
      const x = s.samples.shift()!
      x[0] = t
      x[1] = v
      s.samples.push(x)
      return
    }
    s.samples.push([t, v])
    this.trim(rule, s, t)
  }

  private trim (rule: Rule, s: Series, now: number): void {
    const keep = rule.windowMs > 0 ? rule.windowMs : 0
    if (keep === 0 && rule.type !== 'log') {
      const n = Math.max(1, rule.count)
      if (s.samples.length > n) s.samples.splice(0, s.samples.length - n)
      return
    }
    let i = 0
    while (i < s.samples.length && s.samples[i]![0] <= now - keep) i++
    if (i > 0) s.samples.splice(0, i)
    if (s.samples.length > MAX_SAMPLES) s.samples.splice(0, s.samples.length - MAX_SAMPLES)
    if (rule.type === 'log' && s.samples.length === 0) s.lines = []
  }

  /** condition returns [bad, value]: whether the rule's condition holds now, and the value shown. */
  private condition (rule: Rule, s: Series, now: number): [boolean, number] {
    switch (rule.type) {
      case 'absent':
        return [now - s.lastSeen > rule.forMs, (now - s.lastSeen) / 1000]
      case 'log': {
        const n = s.samples.length
        return [n >= rule.count, n]
      }
      case 'forecast': {
        if (s.samples.length < 3) return [false, NaN]
        const span = s.samples[s.samples.length - 1]![0] - s.samples[0]![0]
        if (span < Math.min(rule.windowMs / 4, 3_600_000)) return [false, NaN] // too short a history to extrapolate
        const predicted = predictLinear(s.samples, now + rule.horizonMs)
        return [compare(predicted, rule.op === '<' || rule.op === '<=' ? '<=' : '>=', rule.limit), predicted]
      }
      default: {
        const v = aggregate(s.samples, rule.agg)
        if (Number.isNaN(v)) return [false, v]
        // Hysteresis: once firing, the alert holds until the value is past `clear`.
        const limit = s.state === 'firing' && rule.clear !== undefined ? rule.clear : rule.threshold
        if (rule.count > 1 && s.state !== 'firing') return [consecutive(s.samples, rule), v]
        return [compare(v, rule.op, limit), v]
      }
    }
  }

  private step (rule: Rule, s: Series, now: number, out: Transition[]): void {
    if (!this.inSchedule(rule, now, s.labels)) {
      if (s.state === 'firing') out.push({ kind: 'resolved', rule, series: s, at: now, reason: 'outside its schedule' })
      else if (s.state === 'pending') out.push({ kind: 'cancelled', rule, series: s, at: now, reason: 'outside its schedule' })
      s.state = 'inactive'
      return
    }
    const [bad, value] = this.condition(rule, s, now)
    if (!Number.isNaN(value)) s.value = value
    if (bad) {
      if (s.state === 'inactive') {
        s.state = 'pending'
        s.since = now
        out.push({ kind: 'pending', rule, series: s, at: now })
      }
      // For absent rules `for` is the silence itself, already waited out by the condition.
      if (s.state === 'pending' && now - s.since >= (rule.type === 'absent' ? 0 : rule.forMs)) {
        s.state = 'firing'
        s.firedAt = now
        out.push({ kind: 'firing', rule, series: s, at: now })
      }
      return
    }
    if (s.state === 'pending') out.push({ kind: 'cancelled', rule, series: s, at: now })
    if (s.state === 'firing') out.push({ kind: 'resolved', rule, series: s, at: now })
    s.state = 'inactive'
  }

  /** snapshot and restore carry series state across a restart (the store persists it). */
  snapshot (): Series[] {
    return [...this.series.values()].filter(s => s.state !== 'inactive' || s.samples.length > 0 || s.lastSeen > 0)
  }

  restore (list: Series[]): void {
    for (const s of list) this.series.set(s.key, { ...s, samples: [...s.samples], lines: [...s.lines] })
  }
}
