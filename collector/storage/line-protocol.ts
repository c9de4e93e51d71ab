// InfluxDB line protocol, escaped exactly: the one place where points become
// text for /write (v1) and /api/v2/write (v2). Numbers are always written as
// floats so a field never changes type between 1 and 1.5.

import type { LogEvent } from '../../protocol/messages.js'
import type { WalEntry } from '../state/entry.js'
import type { Cols } from '../../protocol/columns.js'

// Measurement: comma and space. Tag keys, tag values and field keys: comma, equals sign and space.
// InfluxDB 1.x's parser takes "\" as escaping whatever byte follows it, but unescapes only "\,", "\ "
// and "\=": a backslash is written as itself (doubled it would be stored doubled), except one that
// ends the name or stands before a character escaped there, which would swallow that escape or the
// separator: it becomes "＼" (U+FF3C). Line breaks and other control characters cannot pass in names
// or tag values (InfluxDB echoes bad lines in a response header, where they break the HTTP parser),
// so they become (escaped) spaces. Checked against a real influxd by test/integration/fuzz-ws.test.ts.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f]/g
const LONE_BACKSLASH_RE = /\\(?=[,= ]|$)/g
const MEASUREMENT_RE = /[, ]/g
const KEY_RE = /[,= ]/g
// String field values: only quote and backslash; a line break inside the quotes is kept as it is
// (InfluxDB reads the escape "\n" as a backslash and an n, not as a newline).
const STRING_RE = /[\\"]/g

// Almost every name and value needs none of this: one test first, and the string as it is when it
// passes (the replace chains are costly on the hot path).
// eslint-disable-next-line no-control-regex -- as above
const MEASUREMENT_TEST = /[\u0000-\u001f\u007f\\, ]/
// eslint-disable-next-line no-control-regex -- as above
const KEY_TEST = /[\u0000-\u001f\u007f\\,= ]/

function clean (s: string): string {
  return s.replace(CONTROL_RE, ' ').replace(LONE_BACKSLASH_RE, '\uff3c')
}

/** escapeMeasurement escapes a measurement name (comma, space). */
export function escapeMeasurement (s: string): string {
  return MEASUREMENT_TEST.test(s) ? clean(s).replace(MEASUREMENT_RE, c => '\\' + c) : s
}

/** escapeKey escapes a tag key, tag value or field key (comma, equals sign, space). */
export function escapeKey (s: string): string {
  return KEY_TEST.test(s) ? clean(s).replace(KEY_RE, c => '\\' + c) : s
}

/** escapeString quotes a string field value; line breaks stay raw inside the quotes. */
export function escapeString (s: string): string {
  return '"' + (s.includes('"') || s.includes('\\') ? s.replace(STRING_RE, c => '\\' + c) : s) + '"'
}

function fieldValue (v: number | boolean | string): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  return escapeString(v)
}

// Tag keys are sorted in this array, reused: Object.keys(tags).sort() allocates work arrays even for three keys.
const sorted: string[] = []

/**
 * seriesLine renders a point's series as the start of its line: the escaped measurement, then the
 * tags sorted by key (what InfluxDB does anyway, and faster for it), empty values left out (InfluxDB
 * has none). Two points share it exactly when InfluxDB keeps them in one series, so it is also the
 * rollups' series key.
 */
export function seriesLine (m: string, tags: Record<string, string> | undefined): string {
  let line = escapeMeasurement(m)
  if (tags === undefined) return line
  let n = 0
  for (const k in tags) {
    let i = n++
    while (i > 0 && sorted[i - 1]! > k) { sorted[i] = sorted[i - 1]!; i-- }
    sorted[i] = k
  }
  for (let i = 0; i < n; i++) {
    const k = sorted[i]!
    const v = tags[k]!
    if (v !== '') line += ',' + escapeKey(k) + '=' + escapeKey(v)
  }
  return flat(line)
}

/**
 * flat has V8 copy a string built by concatenation into one piece (a regex runs on flat strings
 * only; /^$/ fails at once): a long-kept series line takes about half the heap flat.
 */
const FLATTEN = /^$/
function flat (s: string): string {
  FLATTEN.test(s)
  return s
}

/**
 * known holds the series lines made so far, by seriesHash, each with what it was made from: a fleet
 * sends the same series every interval, so a line is looked up, not built again. Cleared when full.
 */
const known = new Map<number, { line: string, parts: string[] }>()
const SERIES_CACHE_MAX = 1 << 20

function hashString (h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return Math.imul(h ^ s.length, 0x01000193)
}

/**
 * seriesHash is the cache's key: FNV-1a over the measurement and each tag value, in their order, and
 * each tag key's length and first and last characters (the keys repeat on every point, so hashing all
 * their characters costs; lengths alone collide). The lookup compares whole keys either way.
 */
export function seriesHash (m: string, tags: Record<string, string> | undefined): number {
  let h = hashString(0x811c9dc5, m)
  if (tags !== undefined) {
    for (const k in tags) {
      h = Math.imul(h ^ k.length, 0x01000193)
      h = Math.imul(h ^ k.charCodeAt(0), 0x01000193)
      h = Math.imul(h ^ k.charCodeAt(k.length - 1), 0x01000193)
      h = hashString(h, tags[k]!)
    }
  }
  return h
}

function sameSeries (parts: readonly string[], m: string, tags: Record<string, string> | undefined): boolean {
  if (parts[0] !== m) return false
  let j = 1
  if (tags !== undefined) {
    for (const k in tags) {
      if (parts[j] !== k || parts[j + 1] !== tags[k]) return false
      j += 2
    }
  }
  return j === parts.length
}

/** seriesLineCached is seriesLine, looked up when the same measurement and tags (in the same order) came before. */
export function seriesLineCached (m: string, tags: Record<string, string> | undefined): string {
  const h = seriesHash(m, tags)
  const hit = known.get(h)
  if (hit !== undefined && sameSeries(hit.parts, m, tags)) return hit.line
  const line = seriesLine(m, tags)
  if (hit !== undefined) return line // another series has this hash: made each time, never wrong
  if (known.size >= SERIES_CACHE_MAX) known.clear()
  // Exactly sized: an array grown by push keeps spare room.
  let n = 1
  if (tags !== undefined) for (const _ in tags) n += 2
  const parts = new Array<string>(n)
  parts[0] = m
  let j = 1
  if (tags !== undefined) for (const k in tags) { parts[j++] = k; parts[j++] = tags[k]! }
  known.set(h, { line, parts })
  return line
}

const SERIES = Symbol('series')

/**
 * seriesOf is each point's series line, made once per WAL entry: the storage writer starts its lines
 * with it and the rollups key their series by it, and both take the same (read-only) entry from the
 * WAL's memory tail. Kept under a symbol, which JSON.stringify leaves out.
 */
export function seriesOf (e: WalEntry): readonly string[] {
  const held = (e as { [SERIES]?: string[] })[SERIES]
  if (held !== undefined) return held
  const out = e.p.map(p => seriesLineCached(p.m, p.tags))
  ;(e as { [SERIES]?: string[] })[SERIES] = out
  return out
}

const COL_SERIES = Symbol('series')

/** colSeries is a columnar series' line (protocol 3), made once per series entry and kept on it. */
export function colSeries (c: Cols): string {
  const held = (c as { [COL_SERIES]?: string })[COL_SERIES]
  if (held !== undefined) return held
  const line = seriesLineCached(c.m, c.tags)
  ;(c as { [COL_SERIES]?: string })[COL_SERIES] = line
  return line
}

/** colLines renders columnar series as lines, appended to out (the rows' order kept). */
export function colLines (cols: readonly Cols[], out: string[]): void {
  for (const c of cols) {
    const series = colSeries(c)
    const w = c.f.length + 1
    for (let o = 0; o < c.v.length; o += w) {
      // As pointLine makes it, from the names and values by position.
      let line = series
      let first = true
      for (let j = 0; j < c.f.length; j++) {
        const v = fieldValue(c.v[o + 1 + j]!)
        if (v === undefined) continue
        line += fieldStart(c.f[j]!, first) + v
        first = false
      }
      if (!first) out.push(line + ' ' + String(Math.trunc(c.v[o]!)))
    }
  }
}

/**
 * pointLine finishes a line from its series line; it returns undefined when nothing writable is
 * left (no finite field), so a bad value never produces a line InfluxDB would refuse.
 */
export function pointLine (series: string, fields: Record<string, number | boolean | string>, t: number): string | undefined {
  let line = series
  let first = true
  for (const k in fields) {
    const v = fieldValue(fields[k]!)
    if (v === undefined) continue
    line += fieldStart(k, first) + v
    first = false
  }
  if (first) return undefined
  return line + ' ' + String(Math.trunc(t))
}

/** " key=" and ",key=" per field key, escaped once rather than for every point. */
const starts = new Map<string, readonly [string, string]>()
function fieldStart (k: string, first: boolean): string {
  let s = starts.get(k)
  if (s === undefined) {
    const key = escapeKey(k)
    s = [' ' + key + '=', ',' + key + '=']
    if (starts.size >= 100_000) starts.clear()
    starts.set(k, s)
  }
  return first ? s[0] : s[1]
}

/** toLine renders one point (undefined when it has no writable field). */
export function toLine (m: string, tags: Record<string, string> | undefined, fields: Record<string, number | boolean | string>, t: number): string | undefined {
  return pointLine(seriesLine(m, tags), fields, t)
}

/** entryToLines renders a WAL entry's points and log events as lines, appended to out. */
export function entryToLines (e: WalEntry, out: string[], events: string[] = out): void {
  const series = seriesOf(e)
  for (let i = 0; i < e.p.length; i++) {
    const p = e.p[i]!
    const line = pointLine(series[i]!, p.f, p.t)
    if (line !== undefined) out.push(line)
  }
  if (e.c !== undefined) colLines(e.c, out)
  if (e.e !== undefined && e.e.length > 0) eventsToLines(e.e, events)
}

/**
 * eventsToLines renders log events as log_event points. Two events of one
 * series in the same millisecond would overwrite each other in InfluxDB: the
 * same message is folded into count, a different one moves to the next free ms.
 */
export function eventsToLines (events: LogEvent[], out: string[]): void {
  const seen = new Map<string, { message: string, count: number, idx: number }>()
  const lines: Array<{ ev: LogEvent, t: number, count: number }> = []
  for (const ev of events) {
    const series = `${ev.source}\u0000${ev.level}\u0000${JSON.stringify(ev.tags ?? {})}`
    let t = ev.t
    for (;;) {
      const key = `${series}\u0000${t}`
      const prev = seen.get(key)
      if (prev === undefined) {
        seen.set(key, { message: ev.message, count: 1, idx: lines.length })
        lines.push({ ev, t, count: 1 })
        break
      }
      if (prev.message === ev.message) {
        lines[prev.idx]!.count++
        break
      }
      t++
    }
  }
  for (const { ev, t, count } of lines) {
    const line = toLine('log_event', { ...ev.tags, source: ev.source, level: ev.level }, { message: ev.message, count }, t)
    if (line !== undefined) out.push(line)
  }
}
