// The WAL's record codec. Segments are <dir>/<16-digit index>.wal; a record is
//   u32 LE payload length | u32 LE crc32(ts bytes + payload) | f64 LE append time (ms) | payload

import { crc32 } from 'node:zlib'

export const HEADER_BYTES = 16
/** A record larger than this is corruption, not data (frames are capped well below). */
const MAX_RECORD_BYTES = 64 * 1024 * 1024

export const SEGMENT_RE = /^(\d{16})\.wal$/
export const segmentName = (i: number): string => `${String(i).padStart(16, '0')}.wal`

export interface Position { segment: number, offset: number }

export interface WalRecord {
  /** position just after this record: commit it to consume the record */
  readonly end: Position
  readonly ts: number
  readonly data: Buffer
  /**
   * entry is the decoded form the appender handed in, while the record is in the
   * WAL's memory tail: readers use it instead of parsing data. Shared: read-only.
   */
  readonly entry?: unknown
}

/** encodeRecord frames a payload (given whole, or in parts that are copied in one after another) as a record. */
export function encodeRecord (data: Buffer | readonly Buffer[], ts: number): Buffer {
  const len = payloadBytes(data)
  const buf = Buffer.allocUnsafe(HEADER_BYTES + len)
  buf.writeUInt32LE(len, 0)
  buf.writeDoubleLE(ts, 8)
  if (Buffer.isBuffer(data)) data.copy(buf, HEADER_BYTES)
  else for (let i = 0, off = HEADER_BYTES; i < data.length; i++) off += data[i]!.copy(buf, off)
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4)
  return buf
}

/** payloadBytes is the length of a payload given whole or in parts. */
export function payloadBytes (data: Buffer | readonly Buffer[]): number {
  if (Buffer.isBuffer(data)) return data.length
  let n = 0
  for (let i = 0; i < data.length; i++) n += data[i]!.length
  return n
}

/**
 * decodeRecords parses whole records from buf starting at 0. It stops at the
 * first incomplete or corrupt record and returns how many bytes were good.
 */
export function decodeRecords (buf: Buffer, onRecord: (data: Buffer, ts: number, end: number) => void): { good: number, corrupt: boolean } {
  let off = 0
  while (off + HEADER_BYTES <= buf.length) {
    const len = buf.readUInt32LE(off)
    if (len > MAX_RECORD_BYTES) return { good: off, corrupt: true }
    const end = off + HEADER_BYTES + len
    if (end > buf.length) return { good: off, corrupt: false }
    if (crc32(buf.subarray(off + 8, end)) !== buf.readUInt32LE(off + 4)) return { good: off, corrupt: true }
    onRecord(buf.subarray(off + HEADER_BYTES, end), buf.readDoubleLE(off + 8), end)
    off = end
  }
  return { good: off, corrupt: false }
}
