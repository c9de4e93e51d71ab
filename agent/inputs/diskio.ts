// diskio: read/write bytes per second per whole disk, from /proc/diskstats
// deltas on Linux (sectors are 512 bytes there, whatever the device's sector size).

import si from 'systeminformation'
import type { Accumulator, Input } from './input.js'
import { RateTracker } from '../rate.js'
import { readProc, useProc } from './proc.js'

export interface DiskStat { device: string, readSectors: number, writeSectors: number }

export function parseDiskstats (text: string): DiskStat[] {
  const out: DiskStat[] = []
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f.length < 10) continue
    out.push({ device: f[2]!, readSectors: Number(f[5]), writeSectors: Number(f[9]) })
  }
  return out
}

/**
 * wholeDisks keeps whole disks: no loop/ram/zram/dm devices-by-number, and no
 * partition whose parent disk is listed too (sda1 of sda, nvme0n1p1 of nvme0n1, mmcblk0p1 of mmcblk0).
 */
export function wholeDisks (names: string[]): string[] {
  const set = new Set(names)
  return names.filter(n => {
    if (/^(loop|ram|zram|fd|sr)\d+$/.test(n)) return false
    const parent = /^(.*\d)p\d+$/.exec(n)?.[1] ?? /^(\D+)\d+$/.exec(n)?.[1]
    return parent === undefined || !set.has(parent)
  })
}

export class DiskIoInput implements Input {
  readonly name = 'diskio'
  private readonly rates = new RateTracker()

  constructor (private readonly procRoot = '/proc', private readonly platform: NodeJS.Platform = process.platform) {}

  async gather (acc: Accumulator, now: number): Promise<void> {
    if (!useProc(this.platform)) return await this.gatherGeneric(acc, now)
    const stats = parseDiskstats(await readProc(this.procRoot, 'diskstats'))
    const keep = new Set(wholeDisks(stats.map(s => s.device)))
    const seen = new Set<string>()
    for (const s of stats) {
      if (!keep.has(s.device)) continue
      seen.add(`r:${s.device}`).add(`w:${s.device}`)
      const r = this.rates.rate(`r:${s.device}`, s.readSectors * 512, now)
      const w = this.rates.rate(`w:${s.device}`, s.writeSectors * 512, now)
      if (r !== undefined && w !== undefined) acc.add('diskio', { read_bytes_per_sec: Math.round(r), write_bytes_per_sec: Math.round(w) }, { device: s.device })
    }
    this.rates.retain(seen)
  }

  private async gatherGeneric (acc: Accumulator, now: number): Promise<void> {
    const io = await si.fsStats()
    if (io === null || io === undefined) return
    const r = this.rates.rate('r', io.rx, now)
    const w = this.rates.rate('w', io.wx, now)
    if (r !== undefined && w !== undefined) acc.add('diskio', { read_bytes_per_sec: Math.round(r), write_bytes_per_sec: Math.round(w) }, { device: 'total' })
  }
}
