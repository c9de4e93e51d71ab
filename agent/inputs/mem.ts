// mem: /proc/meminfo on Linux (used = MemTotal − MemAvailable, as free(1) and
// Telegraf count it), systeminformation elsewhere.

import si from 'systeminformation'
import type { Accumulator, Input } from './input.js'
import { readProc, useProc } from './proc.js'

/** parseMeminfo returns the kB values of /proc/meminfo in bytes, by key. */
export function parseMeminfo (text: string): Map<string, number> {
  const m = new Map<string, number>()
  for (const line of text.split('\n')) {
    const r = /^([\w()]+):\s+(\d+)(?:\s+kB)?/.exec(line)
    if (r !== null) m.set(r[1]!, Number(r[2]) * (line.includes('kB') ? 1024 : 1))
  }
  return m
}

export function memFields (total: number, available: number, swapTotal: number, swapFree: number): Record<string, number> {
  const used = total - available
  return {
    used_percent: total > 0 ? Math.round(used / total * 10000) / 100 : 0,
    used_bytes: used,
    available_bytes: available,
    total_bytes: total,
    swap_used_percent: swapTotal > 0 ? Math.round((swapTotal - swapFree) / swapTotal * 10000) / 100 : 0
  }
}

export class MemInput implements Input {
  readonly name = 'mem'
  constructor (private readonly procRoot = '/proc', private readonly platform: NodeJS.Platform = process.platform) {}

  async gather (acc: Accumulator): Promise<void> {
    if (useProc(this.platform)) {
      const m = parseMeminfo(await readProc(this.procRoot, 'meminfo'))
      const total = m.get('MemTotal')
      if (total === undefined) throw new Error('/proc/meminfo has no MemTotal')
      // Kernels before 3.14 have no MemAvailable: approximate it as free + buffers + cache.
      const avail = m.get('MemAvailable') ?? (m.get('MemFree') ?? 0) + (m.get('Buffers') ?? 0) + (m.get('Cached') ?? 0)
      acc.add('mem', memFields(total, avail, m.get('SwapTotal') ?? 0, m.get('SwapFree') ?? 0))
      return
    }
    const m = await si.mem()
    acc.add('mem', memFields(m.total, m.available, m.swaptotal, m.swapfree))
  }
}
