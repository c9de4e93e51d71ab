// Opening the log after a stop or a crash: every whole record is kept (and
// replayed to onRecover), a torn or corrupt tail of a segment is cut off.

import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import { decodeRecords, SEGMENT_RE, segmentName } from './record.js'

export interface RecoveryReport { segments: number, records: number, bytes: number, tornBytes: number, corruptSegments: number }

export async function listSegments (dir: string): Promise<number[]> {
  const names = await fsp.readdir(dir)
  return names.map(n => SEGMENT_RE.exec(n)).filter(m => m !== null).map(m => Number(m![1])).sort((a, b) => a - b)
}

/** recoverSegments returns each segment's good size, oldest first, having cut what follows the last whole record. */
export async function recoverSegments (dir: string, rep: RecoveryReport, onRecover?: (data: Buffer, ts: number) => void): Promise<Map<number, number>> {
  const sizes = new Map<number, number>()
  for (const seg of await listSegments(dir)) {
    const path = join(dir, segmentName(seg))
    const buf = await fsp.readFile(path)
    const { good, corrupt } = decodeRecords(buf, (data, ts) => { rep.records++; onRecover?.(data, ts) })
    rep.segments++
    rep.bytes += good
    if (good < buf.length) {
      rep.tornBytes += buf.length - good
      if (corrupt) rep.corruptSegments++
      // A torn tail is the normal result of a crash mid-append: cut it so appends continue on a clean edge.
      // Earlier segments are never appended to again; cutting them too keeps readers from stopping there.
      await fsp.truncate(path, good)
    }
    sizes.set(seg, good)
  }
  return sizes
}
