// Reading a day's gzip file: strictly (verify: a cut or corrupt member is an error) or as far as
// it goes (the writer after a crash, export): each flush appended one gzip member, so a crash
// leaves a readable prefix and at most one partial line.

import { gunzipSync, constants } from 'node:zlib'
import { parseLine, type ParsedLine } from './record.js'

export interface DayText {
  /** whole lines, without their newline */
  lines: string[]
  /** why the gzip data is not whole, if it is not */
  gzipError?: string
  /** a trailing line without its newline (cut) */
  partial: boolean
}

/** readDayBytes decompresses as far as the data goes. */
export function readDayBytes (buf: Buffer): DayText {
  let text: string
  let gzipError: string | undefined
  try {
    text = gunzipSync(buf).toString('utf8')
  } catch (err) {
    gzipError = (err as Error).message
    try { text = gunzipSync(buf, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8') } catch { text = '' }
  }
  const lines = text.split('\n')
  const last = lines.pop()!
  return { lines, partial: last !== '', ...(gzipError !== undefined ? { gzipError } : {}) }
}

/** parsedLines parses the lines that parse, stopping at the first that does not (the writer's view after a crash). */
export function parsedLines (lines: string[]): ParsedLine[] {
  const out: ParsedLine[] = []
  for (const l of lines) {
    const p = parseLine(l)
    if (typeof p === 'string') break
    out.push(p)
  }
  return out
}
