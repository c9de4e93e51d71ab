// diskio: read/write bytes per second per whole disk, from /proc/diskstats deltas
// on Linux; elsewhere one "total" device from systeminformation's fsStats.

import type { Accumulator, Input } from './input.js'
import { RateTracker } from '../rate.js'
import { readProc, useProc } from './proc.js'

export interface DiskStat { device: string, readSectors: number, writeSectors: number }

/**
 * parseDiskstats reads /proc/diskstats. Sector counts are in 512-byte units
 * whatever the device's real sector size (Documentation/admin-guide/iostats.rst).
 * Lines with fewer than 14 fields (the 2.4-era partition format) are skipped.
 */
export function parseDiskstats (text: string): DiskStat[] {
  const out: DiskStat[] = []
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f.length < 14) continue
    out.push({ device: f[2]!, readSectors: Number(f[5]), writeSectors: Number(f[9]) })
  }
  return out
}

/** Devices that are never disks worth a series: loop, RAM disks, zram swap, CD/DVD, floppy, eMMC boot areas. */
const NOT_A_DISK = /^(loop\d+|ram\d+|zram\d+|sr\d+|fd\d+|mmcblk\d+boot\d+)$/

/**
 * wholeDisks picks the devices to report from the names in /proc/diskstats:
 * no loop/ram/zram/sr devices, and no partition whose disk is listed too
 * (sda1 of sda, nvme0n1p1 of nvme0n1, mmcblk0p1 of mmcblk0), since the disk
 * already counts its partitions' I/O. A partition whose disk is not listed
 * (a Xen guest that sees only xvda1) is kept. dm-N and mdN are kept: they are
 * not partitions, and their I/O shows a volume's or an array's load.
 */
export function wholeDisks (names: readonly string[]): string[] {
  const listed = new Set(names)
  return names.filter(n => {
    if (NOT_A_DISK.test(n)) return false
    // "p" separates the partition number when the disk name ends in a digit (nvme0n1p1, mmcblk0p1, md0p1).
    const parent = /^(.*\d)p\d+$/.exec(n)?.[1] ?? /^([a-z]+)\d+$/.exec(n)?.[1]
    return parent === undefined || !listed.has(parent)
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
      // Rates on the raw sector counters, then × 512: a 32-bit kernel's counters wrap at 2^32
      // sectors, and the wrap is only recognisable before scaling.
      this.add(acc, s.device, s.readSectors, s.writeSectors, 512, now, seen)
    }
    // Forget disks that went away, so one that comes back starts afresh instead of a bogus rate.
    this.rates.retain(seen)
  }

  private add (acc: Accumulator, device: string, read: number, written: number, unit: number, now: number, seen: Set<string>): void {
    const r = this.rates.rate(`r:${device}`, read, now)
    const w = this.rates.rate(`w:${device}`, written, now)
    seen.add(`r:${device}`).add(`w:${device}`)
    if (r !== undefined && w !== undefined) acc.add('diskio', { read_bytes_per_sec: Math.round(r * unit), write_bytes_per_sec: Math.round(w * unit) }, { device })
  }

  /**
   * gatherGeneric uses fsStats (bytes read and written, summed over mounted
   * disks), not disksIO, which counts operations, not bytes. Neither has data on
   * Windows (both return null there), so there this input reports an error.
   */
  private async gatherGeneric (acc: Accumulator, now: number): Promise<void> {
    const si = await import('systeminformation') // loaded on first use: Linux never needs it
    const io = await si.fsStats()
    if (io === null || io === undefined) throw new Error(`diskio: systeminformation has no disk byte counters on ${this.platform}`)
    this.add(acc, 'total', io.rx, io.wx, 1, now, new Set())
  }
}
