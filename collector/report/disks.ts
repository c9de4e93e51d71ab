// Per disk (host × mount): used % at the first and last 5-minute slot of the
// month, growth as the least-squares slope through the daily means, and the
// date the line reaches 100 %, flagged when that is near.

import { col, str, timeCond, type InfluxQL, type Range, type Sources } from './influxql.js'

const DAY = 86_400_000

export interface DiskRow {
  host: string
  mount: string
  sizeBytes: number | null
  start: number
  startAt: number
  end: number
  endAt: number
  /** percentage points per 30 days; null with fewer than two days of data */
  growth30d: number | null
  /** when the fitted line reaches 100 % (null: not growing); may be before the month's end when full already */
  fullAt: number | null
  /** full within `diskFullWithinDays` of the month's end */
  flagged: boolean
  aboveWarning: boolean
}

export async function diskFigures (q: InfluxQL, src: Sources, r: Range, tz: string, o: { warning: number, fullWithinDays: number }): Promise<DiskRow[]> {
  if (src.tier('disk') === 'none') return []
  const from = src.from('disk', r)
  const w = timeCond(r)
  const [first, last, size, daily] = await q.query([
    `SELECT first("used_percent_mean") AS "v" FROM ${from} WHERE ${w} GROUP BY "host", "mount"`,
    `SELECT last("used_percent_mean") AS "v" FROM ${from} WHERE ${w} GROUP BY "host", "mount"`,
    `SELECT last("total_bytes_mean") AS "v" FROM ${from} WHERE ${w} GROUP BY "host", "mount"`,
    `SELECT mean("used_percent_mean") AS "v" FROM ${from} WHERE ${w} GROUP BY time(1d), "host", "mount" fill(none) tz(${str(tz)})`
  ])
  const key = (t: Record<string, string>): string => `${t['host']}\u0000${t['mount']}`
  const rows = new Map<string, DiskRow>()
  for (const s of first!) {
    const row = s.values[0]
    const v = row === undefined ? null : col(s, 'v')(row)
    if (row === undefined || v === null) continue
    rows.set(key(s.tags), { host: s.tags['host']!, mount: s.tags['mount'] ?? '', sizeBytes: null, start: v, startAt: Number(row[0]), end: v, endAt: Number(row[0]), growth30d: null, fullAt: null, flagged: false, aboveWarning: false })
  }
  for (const s of last!) {
    const d = rows.get(key(s.tags))
    const row = s.values[0]
    if (d === undefined || row === undefined) continue
    d.end = col(s, 'v')(row) ?? d.end
    d.endAt = Number(row[0])
  }
  for (const s of size!) {
    const d = rows.get(key(s.tags))
    const row = s.values[0]
    if (d !== undefined && row !== undefined) d.sizeBytes = col(s, 'v')(row)
  }
  for (const s of daily!) {
    const d = rows.get(key(s.tags))
    if (d === undefined) continue
    const v = col(s, 'v')
    // Each daily mean stands at the middle of its day.
    const pts = s.values.map(row => [Number(row[0]) + DAY / 2, v(row)] as const).filter((p): p is readonly [number, number] => p[1] !== null)
    const fit = leastSquares(pts)
    if (fit === undefined) continue
    d.growth30d = fit.slope * DAY * 30
    if (fit.slope > 0) d.fullAt = Math.round((100 - fit.intercept) / fit.slope)
  }
  for (const d of rows.values()) {
    d.aboveWarning = d.end > o.warning
    d.flagged = d.end >= 100 || (d.fullAt !== null && d.fullAt <= r.end + o.fullWithinDays * DAY)
  }
  return [...rows.values()].sort((a, b) => a.host.localeCompare(b.host) || a.mount.localeCompare(b.mount))
}

/** leastSquares fits y = intercept + slope·x; undefined with fewer than two distinct x. */
export function leastSquares (pts: ReadonlyArray<readonly [number, number]>): { slope: number, intercept: number } | undefined {
  if (pts.length < 2) return undefined
  // Centre x to keep the sums of squared Unix milliseconds exact enough.
  const x0 = pts[0]![0]
  let sx = 0; let sy = 0
  for (const [x, y] of pts) { sx += x - x0; sy += y }
  const mx = sx / pts.length
  const my = sy / pts.length
  let sxy = 0; let sxx = 0
  for (const [x, y] of pts) { const dx = x - x0 - mx; sxy += dx * (y - my); sxx += dx * dx }
  if (sxx === 0) return undefined
  const slope = sxy / sxx
  return { slope, intercept: my - slope * (mx + x0) }
}
