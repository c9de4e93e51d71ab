// The pure parts of log tailing, one concern each: bytes → text in the file's
// encoding, a record's level, multiline records, and the per-source rate limit.
// No I/O here; file-source.ts wires them to files.

/** The encodings a log source may declare: all ASCII-compatible, so a line ends at byte 0x0A in each. */
export const ENCODINGS = ['utf8', 'shift_jis', 'cp932', 'euc-jp', 'latin1'] as const
export type Encoding = typeof ENCODINGS[number]

/**
 * decoder returns a function that turns one line's bytes into text. Invalid
 * byte sequences become U+FFFD, never an exception: a log file is not ours
 * to trust. shift_jis and cp932 share iconv-lite's table, which includes
 * Microsoft's extensions (①, ㈱, NEC special characters) that Windows writes.
 */
export async function decoder (encoding: Encoding): Promise<(b: Buffer) => string> {
  switch (encoding) {
    case 'utf8': return b => b.toString('utf8')
    case 'latin1': return b => b.toString('latin1')
    default: {
      // Loaded on demand: only agents that read Japanese encodings pay for iconv-lite.
      const { default: iconv } = await import('iconv-lite')
      // One decoder for every line (iconv.decode would look the codec up and build one per call);
      // end() after each line flushes a cut-off character as U+FFFD and resets it.
      const d = iconv.getDecoder(encoding === 'euc-jp' ? 'euc-jp' : 'cp932')
      return b => d.write(b) + (d.end() ?? '')
    }
  }
}

/** The event levels, most severe first (syslog's names; the protocol's LogLevel). */
export const LEVELS = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'] as const
export type Level = typeof LEVELS[number]

export const levelRank = (l: Level): number => LEVELS.indexOf(l)

/**
 * DEFAULT_LEVELS detect the level from the words logs use, English and
 * Japanese, checked most severe first. `\b` does not work beside Japanese
 * characters, so those alternatives stand alone.
 */
export const DEFAULT_LEVELS: ReadonlyArray<[Level, RegExp]> = [
  ['crit', /\b(?:FATAL|CRIT(?:ICAL)?|EMERG(?:ENCY)?|PANIC|SEVERE)\b|致命|緊急/i],
  ['error', /\b(?:ERROR|ERR|EXCEPTION)\b|エラー|異常終了|障害/i],
  ['warning', /\bWARN(?:ING)?\b|警告/i],
  ['notice', /\bNOTICE\b/i],
  ['debug', /\b(?:DEBUG|TRACE)\b/i]
]

/** detectLevel returns the first matching level, or the fallback. */
export function detectLevel (text: string, rules: ReadonlyArray<[Level, RegExp]>, fallback: Level): Level {
  for (const [level, re] of rules) if (re.test(text)) return level
  return fallback
}

export interface LineIn { text: string, start: number, end: number }
export interface LogRecord { text: string, start: number, lines: number, truncated: boolean }

export interface MultilineOptions {
  /** a line matching start begins a new record; other lines continue the current one */
  start: RegExp
  maxLines: number
  maxBytes: number
}

/**
 * Multiline assembles records from lines (like Filebeat's multiline with a
 * start pattern). A record is held until the next start line, a bound, or
 * flush(); pendingStart is the file offset where the held record begins, so
 * a restart re-reads it whole instead of losing or splitting it.
 */
export class Multiline {
  private pending: { parts: string[], start: number, bytes: number, truncated: boolean, at: number } | undefined
  constructor (private readonly o: MultilineOptions | undefined) {}

  get pendingStart (): number | undefined { return this.pending?.start }
  /** when the held record last grew: a record idle for the timeout is complete */
  get lastLineAt (): number | undefined { return this.pending?.at }

  /** push adds a line and returns the records it completes. */
  push (line: LineIn, now: number, truncated = false): LogRecord[] {
    if (this.o === undefined) return [{ text: line.text, start: line.start, lines: 1, truncated }]
    const out: LogRecord[] = []
    const p = this.pending
    if (p === undefined || this.o.start.test(line.text)) {
      const done = this.flush()
      if (done !== undefined) out.push(done)
      this.pending = { parts: [line.text], start: line.start, bytes: line.text.length, truncated, at: now }
    } else if (p.parts.length >= this.o.maxLines || p.bytes + line.text.length + 1 > this.o.maxBytes) {
      // Over the bound: the rest of the record's lines are dropped, and the record says so.
      p.truncated = true
      p.at = now
    } else {
      p.at = now
      p.parts.push(line.text)
      p.bytes += line.text.length + 1
      p.truncated ||= truncated
    }
    return out
  }

  /** flush returns the held record, if any. */
  flush (): LogRecord | undefined {
    const p = this.pending
    this.pending = undefined
    return p === undefined ? undefined : { text: p.parts.join('\n'), start: p.start, lines: p.parts.length, truncated: p.truncated }
  }
}

/**
 * TokenBucket is the per-source rate limit: rate lines per second on average,
 * burst at once. take() says whether one more line may pass.
 */
export class TokenBucket {
  private tokens: number
  private last: number
  constructor (private readonly rate: number, private readonly burst: number, now: number) {
    this.tokens = burst
    this.last = now
  }

  take (now: number): boolean {
    if (this.rate <= 0) return true
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) / 1000 * this.rate)
    this.last = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}

/** clip cuts text to at most n UTF-16 code units without splitting a surrogate pair. */
export function clip (text: string, n: number): string {
  if (text.length <= n) return text
  const end = /[\uD800-\uDBFF]/.test(text[n - 1]!) ? n - 1 : n
  return text.slice(0, end)
}
