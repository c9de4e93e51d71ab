// A write request's body as bytes: the points of WAL entries rendered straight into one Buffer,
// without a string per line, a join or a UTF-8 encode of the whole body. Byte for byte what
// entryToLines(...).join('\n') gives (test/unit/line-body.test.ts checks random points against it).

import type { WalEntry } from '../state/entry.js'
import { colSeries, escapeKey, escapeString, seriesOf } from './line-protocol.js'
import type { Cols } from '../../protocol/columns.js'

/** Bytes of series lines and field starts, by their text: each is encoded once, then copied. */
const seriesBytes = new Map<string, Buffer>()
const fieldStarts = new Map<string, readonly [Buffer, Buffer]>()
const CACHE_MAX = 1 << 20

function bytesOfSeries (s: string): Buffer {
  let b = seriesBytes.get(s)
  if (b === undefined) {
    if (seriesBytes.size >= CACHE_MAX) seriesBytes.clear()
    b = Buffer.from(s)
    seriesBytes.set(s, b)
  }
  return b
}

/** " key=" and ",key=" of a field key, escaped and encoded once. */
function startsOf (k: string): readonly [Buffer, Buffer] {
  let s = fieldStarts.get(k)
  if (s === undefined) {
    const key = escapeKey(k)
    s = [Buffer.from(' ' + key + '='), Buffer.from(',' + key + '=')]
    if (fieldStarts.size >= 100_000) fieldStarts.clear()
    fieldStarts.set(k, s)
  }
  return s
}

const TWO_POW_33 = 8_589_934_592
const TRUE = Buffer.from('true')
const FALSE = Buffer.from('false')

/** LineBody collects lines of line protocol, separated by "\n", in a Buffer that grows as needed. */
export class LineBody {
  private buf: Buffer
  /** bytes written */
  length = 0
  /** lines written */
  lines = 0

  constructor (bytes = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(bytes)
  }

  /** bytes is the body so far (a view: valid until the next append). */
  bytes (): Buffer { return this.buf.subarray(0, this.length) }

  /** addPoints renders an entry's points (not its log events), each line as pointLine makes it. */
  addPoints (e: WalEntry): void {
    const series = seriesOf(e)
    const points = e.p
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!
      const mark = this.length
      if (this.lines > 0) this.byte(0x0a)
      this.copy(bytesOfSeries(series[i]!))
      let first = true
      const f = p.f
      for (const k in f) {
        const v = f[k]!
        if (typeof v === 'number') {
          if (!Number.isFinite(v)) continue
          this.copy(startsOf(k)[first ? 0 : 1])
          this.number(v)
        } else if (typeof v === 'boolean') {
          this.copy(startsOf(k)[first ? 0 : 1])
          this.copy(v ? TRUE : FALSE)
        } else {
          this.copy(startsOf(k)[first ? 0 : 1])
          this.text(escapeString(v))
        }
        first = false
      }
      // No writable field: no line at all (pointLine's undefined), the separator taken back too.
      if (first) { this.length = mark; continue }
      this.byte(0x20)
      this.time(p.t)
      this.lines++
    }
    if (e.c !== undefined) this.addCols(e.c)
  }

  /**
   * addCols renders columnar series (protocol 3) as colLines makes them: per series its line and
   * field starts are looked up once, then each row is copies and digits. Every value is a finite
   * number (the batch check refused anything else), so every row makes a line.
   */
  addCols (cols: readonly Cols[]): void {
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i]!
      const series = bytesOfSeries(colSeries(c))
      const nf = c.f.length
      const starts = new Array<Buffer>(nf)
      for (let j = 0; j < nf; j++) starts[j] = startsOf(c.f[j]!)[j === 0 ? 0 : 1]
      const v = c.v
      for (let o = 0; o < v.length; o += nf + 1) {
        if (this.lines > 0) this.byte(0x0a)
        this.copy(series)
        for (let j = 0; j < nf; j++) {
          this.copy(starts[j]!)
          this.number(v[o + 1 + j]!)
        }
        this.byte(0x20)
        this.time(v[o]!)
        this.lines++
      }
    }
  }

  /** addLines appends lines made as text (log events, rollups of other writers). */
  addLines (lines: readonly string[]): void {
    for (const l of lines) {
      if (this.lines > 0) this.byte(0x0a)
      this.text(l)
      this.lines++
    }
  }

  private room (n: number): void {
    if (this.length + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n))
    this.buf.copy(next, 0, 0, this.length)
    this.buf = next
  }

  private byte (c: number): void {
    this.room(1)
    this.buf[this.length++] = c
  }

  /** copy appends bytes; short ones (series lines, field starts) by a loop, cheaper than a native call. */
  private copy (b: Buffer): void {
    const n = b.length
    this.room(n)
    const buf = this.buf
    let at = this.length
    if (n > 64) b.copy(buf, at)
    else for (let i = 0; i < n; i++) buf[at++] = b[i]!
    this.length += n
  }

  /** ascii appends a string of ASCII characters only (a number's text). */
  private ascii (s: string): void {
    const n = s.length
    this.room(n)
    const buf = this.buf
    let at = this.length
    for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i)
    this.length = at
  }

  private text (s: string): void {
    this.room(Buffer.byteLength(s))
    this.length += this.buf.write(s, this.length)
  }

  /**
   * number appends String(v) for a finite v. Integers and values of at most two decimals (what
   * the agent sends: counters, and percentages rounded by Math.round(x * 100) / 100) are written
   * from their digits: below 2^33 a step of 0.01 is far wider than a double's spacing, so the exact
   * decimal x / 100 that equals v is the shortest one that reads back as v, which String() writes.
   */
  private number (v: number): void {
    const a = v < 0 ? -v : v
    if (a < TWO_POW_33) {
      const x = Math.round(a * 100)
      if (x / 100 === a) {
        if (v < 0) this.byte(0x2d)
        const int = Math.floor(x / 100)
        this.digits(int)
        const frac = x - int * 100
        if (frac !== 0) {
          const d1 = Math.floor(frac / 10)
          const d2 = frac - d1 * 10
          this.room(3)
          this.buf[this.length++] = 0x2e
          this.buf[this.length++] = 0x30 + d1
          if (d2 !== 0) this.buf[this.length++] = 0x30 + d2
        }
        return
      }
    } else if (a <= Number.MAX_SAFE_INTEGER && Number.isInteger(a)) {
      if (v < 0) this.byte(0x2d)
      this.digits(a)
      return
    }
    this.ascii(String(v))
  }

  /** time appends String(Math.trunc(t)), the digits made here for the usual (safe, non-negative) times. */
  private time (t: number): void {
    const v = Math.trunc(t)
    if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) this.digits(v)
    else this.ascii(String(v))
  }

  /** digits appends a safe non-negative integer in decimal (+0 and -0 as "0"). */
  private digits (v: number): void {
    // Above 1e8 in two parts, each small enough for integer arithmetic.
    if (v >= 1e8) {
      const hi = Math.floor(v / 1e8)
      this.digits(hi)
      this.padded(v - hi * 1e8, 8)
      return
    }
    let n = 1
    for (let x = v; x >= 10; x = (x / 10) | 0) n++
    this.padded(v, n)
  }

  /** padded appends v (below 1e8) as exactly n digits, zeros in front. */
  private padded (v: number, n: number): void {
    this.room(n)
    const buf = this.buf
    let x = v | 0
    for (let i = this.length + n - 1; i >= this.length; i--) {
      const q = (x / 10) | 0
      buf[i] = 0x30 + (x - q * 10)
      x = q
    }
    this.length += n
  }
}
