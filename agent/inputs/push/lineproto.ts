// InfluxDB line protocol, read: what kiosk and business applications POST to
// the agent's push endpoint. A bad line is named by its number with what was
// expected; the caller refuses the whole request, so nothing half-arrives.

import type { Fields, Tags } from '../input.js'

export interface ParsedPoint { m: string, tags: Tags, f: Fields, t?: number }
export interface LineError { line: number, message: string }

export type Precision = 'ns' | 'us' | 'ms' | 's'
const DIVISOR: Record<Precision, bigint> = { ns: 1_000_000n, us: 1000n, ms: 1n, s: 1n }

/** toMillis turns a timestamp in the given precision into Unix milliseconds. */
function toMillis (digits: string, precision: Precision): number {
  const v = BigInt(digits)
  return Number(precision === 's' ? v * 1000n : v / DIVISOR[precision])
}

/**
 * parseLineProtocol reads a body of lines. Blank lines and # comments are
 * skipped. Integers (5i), unsigned (5u), floats, booleans and strings are
 * read; integers beyond 2^53 lose precision as JavaScript numbers do.
 */
export function parseLineProtocol (body: string, precision: Precision = 'ns'): { points: ParsedPoint[], errors: LineError[] } {
  const points: ParsedPoint[] = []
  const errors: LineError[] = []
  const lines = body.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.replace(/\r$/, '')
    if (text.trim() === '' || text.trimStart().startsWith('#')) continue
    try {
      points.push(parseLine(text, precision))
    } catch (err) {
      errors.push({ line: i + 1, message: (err as Error).message })
    }
  }
  return { points, errors }
}

class Reader {
  i = 0
  constructor (readonly s: string) {}
  get done (): boolean { return this.i >= this.s.length }
  peek (): string { return this.s[this.i] ?? '' }

  /** until reads up to an unescaped stop character; backslash escapes the characters escapable in this part. */
  until (stops: string, escapable: string): string {
    let out = ''
    while (!this.done) {
      const c = this.s[this.i]!
      if (c === '\\' && escapable.includes(this.s[this.i + 1] ?? '')) { out += this.s[this.i + 1]; this.i += 2; continue }
      if (stops.includes(c)) break
      out += c
      this.i++
    }
    return out
  }
}

function parseLine (text: string, precision: Precision): ParsedPoint {
  const r = new Reader(text)
  const m = r.until(', ', ', \\')
  if (m === '') throw new Error('expected a measurement name at the start of the line')
  const tags: Tags = {}
  while (r.peek() === ',') {
    r.i++
    const k = r.until('=, ', ',= \\')
    if (r.peek() !== '=' || k === '') throw new Error(`expected tag key=value after "${m}", got "${text.slice(r.i - k.length, r.i + 10)}"`)
    r.i++
    const v = r.until(', ', ',= \\')
    if (v === '') throw new Error(`expected a value for tag "${k}"`)
    tags[k] = v
  }
  if (r.peek() !== ' ') throw new Error(`expected a space and fields after "${text.slice(0, r.i)}"`)
  while (r.peek() === ' ') r.i++
  const f: Fields = {}
  for (;;) {
    const k = r.until('=, ', ',= \\')
    if (k === '' || r.peek() !== '=') throw new Error(`expected field key=value at column ${r.i + 1}`)
    r.i++
    f[k] = fieldValue(r, k)
    if (r.peek() === ',') { r.i++; continue }
    break
  }
  let t: number | undefined
  if (r.peek() === ' ') {
    while (r.peek() === ' ') r.i++
    const ts = r.s.slice(r.i).trim()
    if (ts !== '') {
      if (!/^-?\d{1,19}$/.test(ts)) throw new Error(`expected an integer timestamp (precision ${precision}), got "${ts.slice(0, 30)}"`)
      t = toMillis(ts, precision)
    }
  } else if (!r.done) {
    throw new Error(`unexpected "${r.s.slice(r.i, r.i + 20)}" after the fields`)
  }
  return { m, tags, f, ...(t !== undefined ? { t } : {}) }
}

function fieldValue (r: Reader, key: string): number | boolean | string {
  if (r.peek() === '"') {
    r.i++
    let out = ''
    for (;;) {
      if (r.done) throw new Error(`unterminated string for field "${key}"`)
      const c = r.s[r.i]!
      if (c === '\\' && (r.s[r.i + 1] === '"' || r.s[r.i + 1] === '\\')) { out += r.s[r.i + 1]; r.i += 2; continue }
      if (c === '"') { r.i++; break }
      out += c
      r.i++
    }
    return out
  }
  const raw = r.until(', ', '')
  if (/^(t|T|true|True|TRUE)$/.test(raw)) return true
  if (/^(f|F|false|False|FALSE)$/.test(raw)) return false
  if (/^-?\d+[iu]$/.test(raw)) return Number(raw.slice(0, -1))
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return Number(raw)
  throw new Error(`expected a number (1.5, 5i), a boolean or a "string" for field "${key}", got "${raw.slice(0, 30)}"`)
}
