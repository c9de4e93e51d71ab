// Protocol 3's columnar points (docs/protocol.md, "Columns"): the points of one series that carry
// only numbers go as one entry — measurement, tags and field names once, then a flat array of
// numbers, each row its time followed by one value per field. JSON.parse makes one array of doubles
// of it instead of three objects per point, and the collector stamps the series, not each point.

import type { Point } from './messages.js'

/** One series' rows: v is [t, f[0], f[1], …, t, f[0], …], f.length + 1 numbers a row. */
export interface Cols {
  m: string
  tags?: Record<string, string>
  f: string[]
  v: number[]
}

/** rowsOf is how many points a series entry holds (its v checked whole: a multiple of the row width). */
export function rowsOf (c: Cols): number {
  return c.v.length / (c.f.length + 1)
}

/** pointsIn counts the points of a batch: its points and the rows of its columns. */
export function pointsIn (b: { points: readonly Point[], cols?: readonly Cols[] | undefined }): number {
  let n = b.points.length
  const cols = b.cols
  if (cols !== undefined) for (let i = 0; i < cols.length; i++) n += rowsOf(cols[i]!)
  return n
}

/**
 * toColumns splits points into those that go as columns (every field a finite number) and the rest,
 * which stay points. A series is its measurement, tags and field names in order; series keep the
 * order of their first point, and rows the order of their points.
 */
export function toColumns (points: readonly Point[]): { points: Point[], cols: Cols[] } {
  const rest: Point[] = []
  const cols: Cols[] = []
  const bySeries = new Map<string, Cols>()
  for (const p of points) {
    const f: string[] = []
    let numeric = true
    for (const k in p.f) {
      const x = p.f[k]
      if (typeof x !== 'number' || !Number.isFinite(x)) { numeric = false; break }
      f.push(k)
    }
    if (!numeric || f.length === 0) { rest.push(p); continue }
    const key = `${p.m}\u0000${p.tags === undefined ? '' : JSON.stringify(p.tags)}\u0000${f.join('\u0000')}`
    let c = bySeries.get(key)
    if (c === undefined) {
      c = p.tags === undefined ? { m: p.m, f, v: [] } : { m: p.m, tags: p.tags, f, v: [] }
      bySeries.set(key, c)
      cols.push(c)
    }
    c.v.push(p.t)
    for (const k of f) c.v.push(p.f[k] as number)
  }
  return { points: rest, cols }
}

/**
 * fromColumns appends the points of columnar series to out, each with its own tags object (a
 * reader may stamp them in place).
 */
export function fromColumns (cols: readonly Cols[], out: Point[] = []): Point[] {
  for (const c of cols) {
    const w = c.f.length + 1
    const v = c.v
    for (let o = 0; o < v.length; o += w) {
      const f: Record<string, number> = {}
      for (let j = 0; j < c.f.length; j++) {
        const k = c.f[j]!
        // A field named "__proto__" is an own property, as JSON.parse makes it, not the prototype.
        if (k === '__proto__') Object.defineProperty(f, k, { value: v[o + 1 + j]!, enumerable: true, writable: true, configurable: true })
        else f[k] = v[o + 1 + j]!
      }
      out.push(c.tags === undefined ? { m: c.m, t: v[o]!, f } : { m: c.m, t: v[o]!, tags: { ...c.tags }, f })
    }
  }
  return out
}
