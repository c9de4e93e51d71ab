// Reading one log file from an offset, rotation-proof: the file is identified by
// device + inode and a fingerprint of its head (inode numbers are reused), read
// through an open handle, and only whole lines are consumed.

import { createHash } from 'node:crypto'
import { promises as fsp, type BigIntStats } from 'node:fs'

/** How many bytes of a file's head identify it beside its inode. */
const FINGERPRINT_BYTES = 1024
const CHUNK = 256 * 1024

export interface FileId { dev: string, ino: string }
export const idOf = (st: BigIntStats): FileId => ({ dev: String(st.dev), ino: String(st.ino) })
export const keyOf = (id: FileId): string => `${id.dev}:${id.ino}`

export async function statBig (path: string): Promise<BigIntStats | undefined> {
  try {
    return await fsp.stat(path, { bigint: true })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw err
  }
}

/** fingerprint hashes the first n bytes of a file (fewer if it is shorter). */
export async function fingerprint (fh: fsp.FileHandle, n: number): Promise<{ fp: string, len: number }> {
  const buf = Buffer.alloc(n)
  const { bytesRead } = await fh.read(buf, 0, n, 0)
  return { fp: createHash('sha256').update(buf.subarray(0, bytesRead)).digest('hex').slice(0, 32), len: bytesRead }
}

/** headMatches tells whether the file at path still begins with the bytes fp was taken from. */
export async function headMatches (path: string, fp: string, len: number): Promise<boolean> {
  if (len === 0) return true
  let fh: fsp.FileHandle | undefined
  try {
    fh = await fsp.open(path, 'r')
    const got = await fingerprint(fh, len)
    return got.len === len && got.fp === fp
  } catch {
    return false
  } finally {
    await fh?.close()
  }
}

export interface Line {
  bytes: Buffer
  /** file offset of the line's first byte */
  start: number
  /** file offset after its newline */
  end: number
  /** the line was longer than maxLineBytes: bytes holds its head */
  truncated: boolean
  /** the rest of this over-long line is still to be skipped (no newline read yet) */
  skipAfter?: boolean
}

/**
 * Follower reads lines from one open file. lineStart is the offset of the
 * first byte not yet handed out as part of a line: the position to save.
 */
export class Follower {
  /** offset of the next byte to read from the file */
  private rawPos: number
  private carry: Buffer = Buffer.alloc(0)
  /** inside an over-long line: discard bytes up to the next newline */
  skipping: boolean
  fp: string
  fpLen: number
  /** when the path stopped naming this file (rename rotation), for rotateWait */
  rotatedAt: number | undefined
  lastReadAt: number
  bytesRead = 0

  private constructor (
    readonly fh: fsp.FileHandle,
    readonly id: FileId,
    public path: string,
    /** the source name the file's events carry: the path it was first found under */
    readonly source: string,
    offset: number,
    fp: { fp: string, len: number },
    skipping: boolean,
    now: number
  ) {
    this.rawPos = offset
    this.fp = fp.fp
    this.fpLen = fp.len
    this.skipping = skipping
    this.lastReadAt = now
  }

  static async open (path: string, source: string, offset: number, skipping: boolean, now: number): Promise<Follower | undefined> {
    let fh: fsp.FileHandle
    try {
      fh = await fsp.open(path, 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    try {
      const st = await fh.stat({ bigint: true })
      return new Follower(fh, idOf(st), path, source, offset, await fingerprint(fh, FINGERPRINT_BYTES), skipping, now)
    } catch (err) {
      await fh.close()
      throw err
    }
  }

  get key (): string { return keyOf(this.id) }
  get lineStart (): number { return this.rawPos - this.carry.length }

  async size (): Promise<number> {
    return Number((await this.fh.stat({ bigint: true })).size)
  }

  /**
   * truncated tells whether the file was cut in place (copytruncate): it is
   * shorter than what was read, or its head is no longer the head we saw.
   */
  async truncated (): Promise<boolean> {
    if (await this.size() < this.rawPos) return true
    if (this.fpLen === 0) return false
    const now = await fingerprint(this.fh, this.fpLen)
    return now.len < this.fpLen || now.fp !== this.fp
  }

  /** restart reads the file from its start again, as the new file it has become (after copytruncate). */
  async restart (): Promise<void> {
    this.rewind(0)
    const f = await fingerprint(this.fh, FINGERPRINT_BYTES)
    this.fp = f.fp
    this.fpLen = f.len
  }

  /** rewind reads the file from offset again (after a truncation, or to give back unconsumed lines). */
  rewind (offset: number, skipping = false): void {
    this.rawPos = offset
    this.carry = Buffer.alloc(0)
    this.skipping = skipping
  }

  /**
   * read returns the whole lines from the current position up to at most
   * maxBytes further (fewer near the end of the file). A line longer than
   * maxLineBytes comes back cut, once, and the rest of it is skipped.
   */
  async read (maxBytes: number, maxLineBytes: number, now: number): Promise<Line[]> {
    const lines: Line[] = []
    const size = await this.size()
    if (this.fpLen < FINGERPRINT_BYTES && size > this.fpLen) {
      const f = await fingerprint(this.fh, FINGERPRINT_BYTES)
      this.fp = f.fp
      this.fpLen = f.len
    }
    let budget = maxBytes
    while (this.rawPos < size && budget > 0) {
      const n = Math.min(CHUNK, size - this.rawPos, budget)
      const buf = Buffer.allocUnsafe(n)
      const { bytesRead } = await this.fh.read(buf, 0, n, this.rawPos)
      if (bytesRead === 0) break
      budget -= bytesRead
      this.bytesRead += bytesRead
      this.lastReadAt = now
      const chunkStart = this.rawPos
      this.rawPos += bytesRead
      let data = buf.subarray(0, bytesRead)
      let dataStart = chunkStart
      if (this.skipping) {
        const nl = data.indexOf(0x0a)
        if (nl < 0) continue
        this.skipping = false
        data = data.subarray(nl + 1)
        dataStart += nl + 1
      }
      if (this.carry.length > 0) {
        dataStart -= this.carry.length
        data = Buffer.concat([this.carry, data])
        this.carry = Buffer.alloc(0)
      }
      let from = 0
      for (;;) {
        const nl = data.indexOf(0x0a, from)
        if (nl < 0) break
        const long = nl - from > maxLineBytes
        lines.push({ bytes: trimCR(data.subarray(from, long ? from + maxLineBytes : nl)), start: dataStart + from, end: dataStart + nl + 1, truncated: long })
        from = nl + 1
      }
      const rest = data.subarray(from)
      if (rest.length > maxLineBytes) {
        // A line with no end in sight: hand out its head now, skip the rest up to its newline.
        lines.push({ bytes: Buffer.from(rest.subarray(0, maxLineBytes)), start: dataStart + from, end: this.rawPos, truncated: true, skipAfter: true })
        this.skipping = true
      } else {
        this.carry = Buffer.from(rest)
      }
    }
    return lines
  }

  /** rest hands out the last, unterminated line of a file that will not grow any more. */
  rest (): Line | undefined {
    if (this.carry.length === 0) return undefined
    const line = { bytes: trimCR(this.carry), start: this.lineStart, end: this.rawPos, truncated: false }
    this.carry = Buffer.alloc(0)
    return line
  }

  async close (): Promise<void> {
    await this.fh.close().catch(() => {})
  }
}

function trimCR (b: Buffer): Buffer {
  return b.length > 0 && b[b.length - 1] === 0x0d ? b.subarray(0, b.length - 1) : b
}

