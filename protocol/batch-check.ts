// isBatch: BatchSchema (messages.ts) checked by hand for the collector's hot path, allocating
// nothing (Ajv's check is costly there, BENCHMARKS.md). It answers yes or no; on no the caller
// asks Ajv, which stays the judge (test/unit/batch-check.test.ts compares the two).
// Keep it in step with the schema: every limit comes from Limits.

import { Limits } from './limits.js'

/** ucs2length counts code points as Ajv's maxLength does (a surrogate pair is one). */
function ucs2length (s: string): number {
  let n = 0
  for (let i = 0; i < s.length; n++) {
    const c = s.charCodeAt(i++)
    if (c >= 0xd800 && c <= 0xdbff && i < s.length && (s.charCodeAt(i) & 0xfc00) === 0xdc00) i++
  }
  return n
}

/** str: a string of min (0 or 1) to max code points. */
function str (v: unknown, min: number, max: number): boolean {
  if (typeof v !== 'string') return false
  const n = v.length
  if (n < min) return false
  // n UTF-16 units are at least n / 2 code points
  return n <= max || (n <= 2 * max && ucs2length(v) <= max)
}

function int (v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
}

function obj (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function tags (v: unknown): boolean {
  if (!obj(v)) return false
  let n = 0
  for (const k in v) {
    if (++n > Limits.maxTagsPerPoint || !str(k, 1, Limits.maxNameLength) || !str(v[k], 0, Limits.maxTagValueLength)) return false
  }
  return true
}

function fields (v: unknown): boolean {
  if (!obj(v)) return false
  let n = 0
  for (const k in v) {
    if (++n > Limits.maxFieldsPerPoint || !str(k, 1, Limits.maxNameLength)) return false
    const x = v[k]
    if (typeof x === 'number') { if (!Number.isFinite(x)) return false } else if (typeof x !== 'boolean' && !str(x, 0, Limits.maxStringFieldLength)) return false
  }
  return n > 0
}

function point (p: unknown): boolean {
  return obj(p) && str(p['m'], 1, Limits.maxNameLength) && int(p['t'], 0, Limits.maxTimeMs) &&
    (p['tags'] === undefined || tags(p['tags'])) && fields(p['f'])
}

function event (e: unknown): boolean {
  return obj(e) && int(e['t'], 0, Limits.maxTimeMs) && str(e['source'], 1, Limits.maxEventSourceLength) && str(e['level'], 1, Limits.maxEventLevelLength) &&
    str(e['message'], 0, Limits.maxEventMessageLength) && (e['tags'] === undefined || tags(e['tags']))
}

/** rows: the number of points in a columnar series entry, or -1 when it is not a valid one. */
function rows (c: unknown): number {
  if (!obj(c) || !str(c['m'], 1, Limits.maxNameLength) || (c['tags'] !== undefined && !tags(c['tags']))) return -1
  const f = c['f']
  const v = c['v']
  if (!Array.isArray(f) || f.length < 1 || f.length > Limits.maxFieldsPerPoint || !Array.isArray(v)) return -1
  for (let i = 0; i < f.length; i++) {
    if (!str(f[i], 1, Limits.maxNameLength)) return -1
    for (let j = 0; j < i; j++) if (f[j] === f[i]) return -1
  }
  const w = f.length + 1
  if (v.length % w !== 0) return -1
  for (let o = 0; o < v.length; o += w) {
    if (!int(v[o], 0, Limits.maxTimeMs)) return -1
    for (let j = 1; j < w; j++) { const x = v[o + j]; if (typeof x !== 'number' || !Number.isFinite(x)) return -1 }
  }
  return v.length / w
}

/** colsRows: the points in a batch's columns, or -1 when they are not valid (absent: 0). */
function colsRows (cols: unknown): number {
  if (cols === undefined) return 0
  if (!Array.isArray(cols) || cols.length > Limits.maxPointsPerBatch) return -1
  let n = 0
  for (let i = 0; i < cols.length; i++) {
    const r = rows(cols[i])
    if (r < 0) return -1
    n += r
  }
  return n
}

/**
 * colsProblem says what is wrong with a batch's columns beyond BatchSchema (the caller checked
 * that): rows that do not fit the field names, a time out of range, too many points in all.
 */
export function colsProblem (b: { points: unknown[], cols?: unknown[] }): string | undefined {
  const cols = b.cols
  if (cols === undefined) return undefined
  let n = b.points.length
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i] as { f: unknown[], v: unknown[] }
    const w = c.f.length + 1
    if (c.v.length % w !== 0) return `cols.${i}.v: ${c.v.length} numbers are not whole rows of ${w} (time and ${c.f.length} fields)`
    for (let o = 0; o < c.v.length; o += w) {
      if (!int(c.v[o], 0, Limits.maxTimeMs)) return `cols.${i}.v.${o}: a row's time must be whole milliseconds from 0 to ${Limits.maxTimeMs}`
    }
    n += c.v.length / w
  }
  if (n > Limits.maxPointsPerBatch) return `cols: ${n} points with points[] exceed ${Limits.maxPointsPerBatch} a batch`
  return undefined
}

/** isBatch says whether v passes BatchSchema and colsProblem(); it never allocates. */
export function isBatch (v: unknown): boolean {
  if (!obj(v) || v['type'] !== 'batch' || !int(v['seq'], 1, Number.MAX_SAFE_INTEGER)) return false
  if (v['resend'] !== undefined && typeof v['resend'] !== 'boolean') return false
  const points = v['points']
  if (!Array.isArray(points) || points.length > Limits.maxPointsPerBatch) return false
  for (let i = 0; i < points.length; i++) if (!point(points[i])) return false
  const r = colsRows(v['cols'])
  if (r < 0 || points.length + r > Limits.maxPointsPerBatch) return false
  const events = v['events']
  if (events === undefined) return true
  if (!Array.isArray(events) || events.length > Limits.maxEventsPerBatch) return false
  for (let i = 0; i < events.length; i++) if (!event(events[i])) return false
  return true
}
