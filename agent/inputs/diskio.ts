// diskio: read/write bytes per second per whole disk: /proc/diskstats on Linux, the physical-disk
// counters (CIM, through the agent's persistent PowerShell) on Windows, else one "total" device.

import type { Accumulator, Input } from './input.js'
import { RateTracker } from './rate.js'
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
 * wholeDisks picks the devices to report: no partition whose disk is listed too (the disk counts
 * its partitions' I/O), but one whose disk is not (a Xen guest's xvda1); dm-N and mdN are kept.
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

/**
 * WIN_DISK_PERF reads the raw physical-disk counters, running byte totals (PERF_COUNTER_BULK_COUNT)
 * whose rate is taken as on Linux. Instances are named "0 C:" (disk number and volumes).
 */
export const WIN_DISK_PERF = "ConvertTo-Json -Compress -InputObject @(Get-CimInstance -ClassName Win32_PerfRawData_PerfDisk_PhysicalDisk | Where-Object { $_.Name -ne '_Total' } | ForEach-Object { [pscustomobject]@{ n = $_.Name; r = [uint64]$_.DiskReadBytesPersec; w = [uint64]$_.DiskWriteBytesPersec } })"

export interface WinDiskStat { device: string, readBytes: number, writeBytes: number }

/** parseWinDiskPerf reads WIN_DISK_PERF's output: an array, or a lone object from an older PowerShell. */
export function parseWinDiskPerf (text: string): WinDiskStat[] {
  const t = text.replace(/^\uFEFF/, '').trim()
  if (t === '') return []
  let v: unknown
  try { v = JSON.parse(t) } catch { throw new Error(`diskio: unreadable performance counter output: ${t.slice(0, 80)}`) }
  const rows = Array.isArray(v) ? v : [v]
  const out: WinDiskStat[] = []
  for (const r of rows as Array<Record<string, unknown>>) {
    const n = r?.['n']
    const rd = Number(r?.['r'])
    const wr = Number(r?.['w'])
    if (typeof n !== 'string' || n === '_Total' || !Number.isFinite(rd) || !Number.isFinite(wr)) continue
    out.push({ device: n, readBytes: rd, writeBytes: wr })
  }
  return out
}

export type PowerShell = (cmd: string) => Promise<string>

/** The persistent PowerShell systeminformation keeps (the agent starts it on Windows). */
async function systemPowerShell (cmd: string): Promise<string> {
  // Loaded on first use (Windows only); a static specifier keeps it inside the single-file bundle.
  const util = await import('systeminformation/lib/util.js') as unknown as { default?: { powerShell: PowerShell }, powerShell?: PowerShell }
  const ps = util.powerShell ?? util.default?.powerShell
  if (ps === undefined) throw new Error('diskio: systeminformation has no PowerShell helper')
  return await ps(cmd)
}

export class DiskIoInput implements Input {
  readonly name = 'diskio'
  private readonly rates = new RateTracker()

  constructor (private readonly procRoot = '/proc', private readonly platform: NodeJS.Platform = process.platform, private readonly powerShell: PowerShell = systemPowerShell) {}

  async gather (acc: Accumulator, now: number): Promise<void> {
    if (this.platform === 'win32') return await this.gatherWindows(acc, now)
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

  private async gatherWindows (acc: Accumulator, now: number): Promise<void> {
    const stats = parseWinDiskPerf(await this.powerShell(WIN_DISK_PERF))
    if (stats.length === 0) throw new Error('diskio: no physical disk performance counters (is the Performance Counter service disabled? lodctr /r rebuilds them)')
    const seen = new Set<string>()
    for (const s of stats) this.add(acc, s.device, s.readBytes, s.writeBytes, 1, now, seen)
    this.rates.retain(seen)
  }

  /** gatherGeneric uses fsStats (bytes), not disksIO, which counts operations (macOS, BSD). */
  private async gatherGeneric (acc: Accumulator, now: number): Promise<void> {
    const si = await import('systeminformation') // loaded on first use: Linux never needs it
    const io = await si.fsStats()
    if (io === null || io === undefined) throw new Error(`diskio: systeminformation has no disk byte counters on ${this.platform}`)
    this.add(acc, 'total', io.rx, io.wx, 1, now, new Set())
  }
}
