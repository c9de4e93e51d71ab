// cpu: usage split from /proc/stat deltas and load averages (Linux), or
// systeminformation's currentLoad elsewhere (Windows Server, kiosks).

import { loadavg } from 'node:os'
import si from 'systeminformation'
import type { Accumulator, Input } from './input.js'
import { readProc, useProc } from './proc.js'

export interface CpuTimes { user: number, nice: number, system: number, idle: number, iowait: number, irq: number, softirq: number, steal: number }

/** parseProcStat reads the aggregate "cpu" line of /proc/stat (jiffies). */
export function parseProcStat (text: string): CpuTimes {
  const line = text.split('\n').find(l => l.startsWith('cpu '))
  if (line === undefined) throw new Error('/proc/stat has no aggregate cpu line')
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  return { user: v[0] ?? 0, nice: v[1] ?? 0, system: v[2] ?? 0, idle: v[3] ?? 0, iowait: v[4] ?? 0, irq: v[5] ?? 0, softirq: v[6] ?? 0, steal: v[7] ?? 0 }
}

/** cpuPercents turns two readings into percentages of the elapsed jiffies; undefined when none elapsed or counters went back. */
export function cpuPercents (a: CpuTimes, b: CpuTimes): Record<string, number> | undefined {
  const d = (k: keyof CpuTimes): number => b[k] - a[k]
  const keys = Object.keys(a) as Array<keyof CpuTimes>
  if (keys.some(k => d(k) < 0)) return undefined
  const total = keys.reduce((n, k) => n + d(k), 0)
  if (total <= 0) return undefined
  const pct = (x: number): number => Math.round(x / total * 10000) / 100
  return {
    usage_percent: pct(total - d('idle') - d('iowait')),
    user_percent: pct(d('user') + d('nice')),
    system_percent: pct(d('system') + d('irq') + d('softirq')),
    iowait_percent: pct(d('iowait'))
  }
}

/** parseLoadavg reads /proc/loadavg: the three load averages and the total process count. */
export function parseLoadavg (text: string): { load1: number, load5: number, load15: number, processes: number } {
  const f = text.trim().split(/\s+/)
  return { load1: Number(f[0]), load5: Number(f[1]), load15: Number(f[2]), processes: Number((f[3] ?? '0/0').split('/')[1]) }
}

export class CpuInput implements Input {
  readonly name = 'cpu'
  private last: CpuTimes | undefined

  constructor (private readonly procRoot = '/proc', private readonly platform: NodeJS.Platform = process.platform) {}

  async gather (acc: Accumulator): Promise<void> {
    if (!useProc(this.platform)) return await this.gatherGeneric(acc)
    const [stat, load] = await Promise.all([readProc(this.procRoot, 'stat'), readProc(this.procRoot, 'loadavg')])
    const cur = parseProcStat(stat)
    const pct = this.last === undefined ? undefined : cpuPercents(this.last, cur)
    this.last = cur
    const l = parseLoadavg(load)
    acc.add('cpu', { ...pct, load1: l.load1, load5: l.load5, load15: l.load15 })
  }

  private async gatherGeneric (acc: Accumulator): Promise<void> {
    const c = await si.currentLoad()
    const fields: Record<string, number> = {
      usage_percent: round(c.currentLoad), user_percent: round(c.currentLoadUser + c.currentLoadNice),
      system_percent: round(c.currentLoadSystem + c.currentLoadIrq)
    }
    // Windows has no load averages (os.loadavg() is all zeros there): leave them out rather than report 0.
    if (this.platform !== 'win32') {
      const [l1, l5, l15] = loadavg()
      Object.assign(fields, { load1: l1, load5: l5, load15: l15 })
    }
    acc.add('cpu', fields)
  }
}

const round = (x: number): number => Math.round(x * 100) / 100
