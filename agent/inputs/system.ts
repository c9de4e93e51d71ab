// system: uptime and process count, from /proc on Linux; elsewhere os.uptime()
// and systeminformation's process list, refreshed at most once a minute (it is
// expensive: a PowerShell query on Windows, ps elsewhere).

import { readdirSync } from 'node:fs'
import { uptime } from 'node:os'
import type { Accumulator, Input } from './input.js'
import { readProc, useProc } from './proc.js'

/** parseUptime reads /proc/uptime: seconds since boot, then idle seconds summed over CPUs. */
export function parseUptime (text: string): number {
  const f = text.trim().split(/\s+/)[0] ?? ''
  if (!/^\d+(\.\d+)?$/.test(f)) throw new Error(`/proc/uptime: unreadable "${text.trim()}"`)
  return Math.floor(Number(f))
}

/**
 * countProcesses counts the /proc/<pid> directories of a /proc listing; /proc/loadavg's "total"
 * counts threads. With hidepid=2 a non-root agent sees only its own user's processes.
 */
export function countProcesses (names: readonly string[]): number {
  let n = 0
  for (const name of names) if (/^\d+$/.test(name)) n++
  return n
}

const PROCESS_COUNT_EVERY_MS = 60_000

export class SystemInput implements Input {
  readonly name = 'system'
  private processes: number | undefined
  private processesAt: number | undefined

  constructor (private readonly procRoot = '/proc', private readonly platform: NodeJS.Platform = process.platform) {}

  async gather (acc: Accumulator, now: number): Promise<void> {
    if (useProc(this.platform)) {
      const up = parseUptime(await readProc(this.procRoot, 'uptime'))
      const n = countProcesses(readdirSync(this.procRoot))
      // No pid directories means this is not a live procfs (a copied snapshot): leave the count out rather than report 0.
      acc.add('system', { uptime_s: up, ...(n > 0 ? { processes: n } : {}) })
      return
    }
    if (this.processesAt === undefined || now - this.processesAt >= PROCESS_COUNT_EVERY_MS || now < this.processesAt) {
      const si = await import('systeminformation') // loaded on first use: Linux never needs it
      this.processes = (await si.processes()).all
      this.processesAt = now
    }
    acc.add('system', { uptime_s: Math.floor(uptime()), ...(this.processes !== undefined ? { processes: this.processes } : {}) })
  }
}
