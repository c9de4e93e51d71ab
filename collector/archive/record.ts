// One archive record: a line "<hash> <body JSON>\n" inside a day's gzip file. The body names the
// previous record's hash (p), its number in the day (n) and its WAL position (w), so an edited byte,
// a removed or swapped record each break the chain, and a record archived twice after a crash shows.

import { createHash } from 'node:crypto'

/** The hash before the first record ever archived. */
export const GENESIS = '0'.repeat(64)

/** Where a record came from in the WAL: the end of its WAL record, and the event's index in it. */
export type WalPos = [segment: number, offset: number, index: number]

export interface RecordBody {
  /** record number within the day, from 1 */
  n: number
  /** the previous record's hash (the day before's last, or GENESIS) */
  p: string
  w: WalPos
  /** kind: log (a log event), alert (an alert state change), audit (an audit log record), gap (events the archive had to skip, counted) */
  k: 'log' | 'alert' | 'audit' | 'gap'
  /** audit: the record's id in audit.db */
  a?: number
  /** received at the collector (ms) */
  r: number
  /** event time (ms) */
  t?: number
  host?: string
  role?: string
  site?: string
  source?: string
  level?: string
  message?: string
  tags?: Record<string, string>
  /** alert: the alert point's fields (value, threshold, active, duration_s) */
  f?: Record<string, number | string | boolean>
  /** gap: how many events were skipped */
  skipped?: number
}

export const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex')

/** encodeLine returns the line and its hash (the SHA-256 of the body JSON, which names the previous hash). */
export function encodeLine (body: RecordBody): { line: string, hash: string } {
  const json = JSON.stringify(body)
  const hash = sha256(json)
  return { line: `${hash} ${json}\n`, hash }
}

export interface ParsedLine { hash: string, body: RecordBody, json: string }

/** parseLine splits a line; it returns a reason string when the line is not "<64 hex> <JSON object>". */
export function parseLine (line: string): ParsedLine | string {
  const sp = line.indexOf(' ')
  const hash = line.slice(0, sp)
  if (sp !== 64 || !/^[0-9a-f]{64}$/.test(hash)) return 'the line does not start with a 64-digit hash'
  const json = line.slice(sp + 1)
  try {
    const body = JSON.parse(json) as RecordBody
    if (typeof body !== 'object' || body === null || !Number.isInteger(body.n) || typeof body.p !== 'string' || !Array.isArray(body.w)) return 'the body lacks n, p or w'
    return { hash, body, json }
  } catch {
    return 'the body is not JSON'
  }
}

/** posAfter is true when a comes after b in the WAL. */
export function posAfter (a: WalPos, b: WalPos): boolean {
  for (let i = 0; i < 3; i++) if (a[i]! !== b[i]!) return a[i]! > b[i]!
  return false
}

const formats = new Map<string, Intl.DateTimeFormat>()

/** dayOf is the calendar day (YYYY-MM-DD) of ms in the time zone. */
export function dayOf (ms: number, timeZone: string): string {
  let f = formats.get(timeZone)
  if (f === undefined) formats.set(timeZone, f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }))
  return f.format(ms)
}

export const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.log\.gz$/
export const dayFile = (day: string): string => `${day}.log.gz`
export const manifestFile = (day: string): string => `${day}.manifest`
