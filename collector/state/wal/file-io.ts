// Whole writes and bounded reads on a file handle: a write or read may move
// fewer bytes than asked, and these go on from where it stopped.

import { promises as fsp } from 'node:fs'

/** writevAll writes the buffers one after another at the file's position, as one gather write where it can. */
export async function writevAll (fh: fsp.FileHandle, bufs: readonly Buffer[], total: number): Promise<void> {
  let i = 0
  let written = 0
  let skip = 0 // bytes of bufs[i] written already
  while (written < total) {
    // IOV_MAX is 1024 on Linux; a group commit rarely holds more records.
    const part = bufs.slice(i, i + 1024)
    if (skip > 0) part[0] = part[0]!.subarray(skip)
    let { bytesWritten } = await fh.writev(part)
    written += bytesWritten
    bytesWritten += skip
    skip = 0
    while (i < bufs.length && bytesWritten >= bufs[i]!.length) { bytesWritten -= bufs[i]!.length; i++ }
    skip = bytesWritten
  }
}

/** writeAll writes the whole buffer at the file's position (a write may take only part of it). */
export async function writeAll (fh: fsp.FileHandle, buf: Buffer): Promise<void> {
  await writevAll(fh, [buf], buf.length)
}

/** readAt reads up to length bytes at offset, never past limit (a segment's durable size). */
export async function readAt (path: string, offset: number, length: number, limit: number): Promise<Buffer> {
  const n = Math.max(0, Math.min(length, limit - offset))
  const fh = await fsp.open(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(n)
    let got = 0
    while (got < n) {
      const { bytesRead } = await fh.read(buf, got, n - got, offset + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    return buf.subarray(0, got)
  } finally {
    await fh.close()
  }
}
