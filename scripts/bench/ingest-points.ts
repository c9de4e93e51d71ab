// The ingest bench's points, one definition for both sides: client c's point i is the same point
// whether it goes as line protocol straight to InfluxDB or in a protocol frame through the
// collector (which stamps host/role/site from the token). Five float fields, like a cpu input.

import { toColumns } from '../../protocol/columns.js'
import type { Point } from '../../protocol/messages.js'

export const MEASUREMENT = 'bench'
export const FIELDS = ['usr', 'sys', 'iowait', 'idle', 'steal'] as const
export const ROLE = 'server'
export const SITE = 'tokyo'

/** Each client is one host; its timestamps are unique (base + i ms), so InfluxDB keeps every point. */
export interface PointSet { clients: number, perClient: number, base: number }

export const hostOf = (c: number): string => `bench${c}`
const tagN = (i: number): string => String(i % 10)
const value = (c: number, i: number, f: number): number => ((c * 7 + i * 13 + f * 31) % 10_000) / 100

/** line is the point as the collector writes it: tags sorted, numbers as written by String(). */
export function line (set: PointSet, c: number, i: number): string {
  let s = `${MEASUREMENT},host=${hostOf(c)},n=${tagN(i)},role=${ROLE},site=${SITE} `
  for (let f = 0; f < FIELDS.length; f++) s += `${f === 0 ? '' : ','}${FIELDS[f]!}=${String(value(c, i, f))}`
  return s + ` ${set.base + i}`
}

/**
 * colsFrame is the same batch as frame() in protocol 3's columns, encoded as the agent's spool
 * encodes it (toColumns, then JSON): one series per tag n, rows in point order.
 */
export function colsFrame (set: PointSet, c: number, seq: number, from: number, to: number): string {
  const points: Point[] = []
  for (let i = from; i < to; i++) {
    const f: Record<string, number> = {}
    for (let k = 0; k < FIELDS.length; k++) f[FIELDS[k]!] = value(c, i, k)
    points.push({ m: MEASUREMENT, t: set.base + i, tags: { n: tagN(i) }, f })
  }
  return JSON.stringify({ type: 'batch', seq, ...toColumns(points) })
}

/** frame is a protocol batch of points [from, to) of client c, as an agent sends it (tags without identity). */
export function frame (set: PointSet, c: number, seq: number, from: number, to: number): string {
  let s = `{"type":"batch","seq":${seq},"points":[`
  for (let i = from; i < to; i++) {
    s += `${i === from ? '' : ','}{"m":"${MEASUREMENT}","t":${set.base + i},"tags":{"n":"${tagN(i)}"},"f":{`
    for (let f = 0; f < FIELDS.length; f++) s += `${f === 0 ? '' : ','}"${FIELDS[f]!}":${String(value(c, i, f))}`
    s += '}}'
  }
  return s + ']}'
}
