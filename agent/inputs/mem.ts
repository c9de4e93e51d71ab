// mem: /proc/meminfo on Linux (used = MemTotal − MemAvailable, as free(1) and
// Telegraf count it), systeminformation's mem() elsewhere.

import type { Accumulator, Input } from './input.js'
import { readProc, useProc } from './proc.js'

/** parseMeminfo returns the values of /proc/meminfo by key, "kB" ones converted to bytes (the kernel's kB is KiB). */
export function parseMeminfo (text: string): Map<string, number> {
  const m = new Map<string, number>()
  for (const line of text.split('\n')) {
    const r = /^([\w()]+):\s+(\d+)(\s+kB)?\s*$/.exec(line)
    if (r !== null) m.set(r[1]!, Number(r[2]) * (r[3] === undefined ? 1 : 1024))
  }
  return m
}

/** MemReading is what both platforms provide, in bytes. */
export interface MemReading { total: number, available: number, swapTotal: number, swapFree: number }

/** meminfoReading picks the mem figures out of parsed /proc/meminfo. */
export function meminfoReading (m: Map<string, number>): MemReading {
  const total = m.get('MemTotal')
  if (total === undefined) throw new Error('/proc/meminfo has no MemTotal')
  // Kernels before 3.14 (RHEL 6) have no MemAvailable: free + buffers + page cache is the usual estimate.
  const available = m.get('MemAvailable') ?? (m.get('MemFree') ?? 0) + (m.get('Buffers') ?? 0) + (m.get('Cached') ?? 0)
  return { total, available, swapTotal: m.get('SwapTotal') ?? 0, swapFree: m.get('SwapFree') ?? 0 }
}

export function memFields (r: MemReading): Record<string, number> {
  const used = r.total - r.available
  return {
    used_percent: r.total > 0 ? pct(used, r.total) : 0,
    used_bytes: used,
    available_bytes: r.available,
    total_bytes: r.total,
    // No swap configured reads as 0 % used, so a "swap > 80 %" rule stays quiet.
    swap_used_percent: r.swapTotal > 0 ? pct(r.swapTotal - r.swapFree, r.swapTotal) : 0
  }
}

export class MemInput implements Input {
  readonly name = 'mem'
  constructor (private readonly procRoot = '/proc', private readonly platform: NodeJS.Platform = process.platform) {}

  async gather (acc: Accumulator): Promise<void> {
    if (useProc(this.platform)) {
      acc.add('mem', memFields(meminfoReading(parseMeminfo(await readProc(this.procRoot, 'meminfo')))))
      return
    }
    const si = await import('systeminformation') // loaded on first use: Linux never needs it
    const m = await si.mem()
    acc.add('mem', memFields({ total: m.total, available: m.available, swapTotal: m.swaptotal, swapFree: m.swapfree }))
  }
}

const pct = (part: number, whole: number): number => Math.round(part / whole * 10000) / 100
