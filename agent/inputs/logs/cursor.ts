// The log input's saved position (one spool cursor): per entry its files,
// the rotated files already finished, and the stream sources' cursors.

/** One file's saved position: what a restart needs to find the file again and go on. */
export interface FileEntry {
  source: string
  path: string
  dev: string
  ino: string
  offset: number
  fp: string
  fpLen: number
  skipping: boolean
}

/** A rotated file read to its end and closed: remembered for a day so that it is never read again. */
export interface DoneEntry { dev: string, ino: string, fp: string, fpLen: number, at: number }

export interface LogCursor {
  v: 1
  /** start of the last poll whose reading is complete: rotated files written after it may be unseen ones */
  polledAt?: number
  /** per entry name: rotated files already read to their end */
  done?: Record<string, DoneEntry[]>
  /** per entry name: its files (an empty list still says the entry has run before) */
  files: Record<string, FileEntry[]>
  /** per event source: the last timestamp given, so each event has its own millisecond */
  lastT: Record<string, number>
  /** per journald / winevent entry: its cursor */
  streams?: Record<string, unknown>
}


/** isCursor tells a saved cursor of this version from anything else. */
export function isCursor (v: unknown): v is LogCursor {
  const c = v as LogCursor | undefined
  return typeof c === 'object' && c !== null && c.v === 1 && typeof c.files === 'object' && typeof c.lastT === 'object'
}
