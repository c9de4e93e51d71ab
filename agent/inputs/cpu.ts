// cpu: usage split from /proc/stat deltas and load averages from /proc/loadavg
// (Linux), or systeminformation's currentLoad elsewhere (Windows Server, kiosks).

import { loadavg } from 'node:os'
import type { Accumulator, Input } from './input.js'
import { readProc, useProc } from './proc.js'

/** CpuTimes is the aggregate "cpu" line of /proc/stat, in jiffies since boot. */
export interface CpuTimes { user: number, nice: number, system: number, idle: number, iowait: number, irq: number, softirq: number, steal: number }
const TIME_KEYS: ReadonlyArray<keyof CpuTimes> = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal']

/**
 * parseProcStat reads the aggregate "cpu" line of /proc/stat. guest and
 * guest_nice (columns 9 and 10) are left out: the kernel already counts them
 * in user and nice, so adding them would count guest time twice.
 */
export function parseProcStat (text: string): CpuTimes {
  const line = text.split('\n').find(l => l.startsWith('cpu '))
  if (line === undefined) throw new Error('/proc/stat has no aggregate "cpu" line')
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  if (v.length < 4 || v.slice(0, 4).some(x => !Number.isFinite(x))) throw new Error(`/proc/stat: unreadable cpu line "${line}"`)
  const t = {} as CpuTimes
  TIME_KEYS.forEach((k, i) => { t[k] = Number.isFinite(v[i]) ? v[i]! : 0 })
  return t
}

export interface CpuPercents { usage_percent: number, user_percent: number, system_percent: number, iowait_percent: number }

/**
 * cpuPercents turns two readings into percentages of the jiffies elapsed
 * between them, or undefined when none elapsed or the total went back (a reboot,
 * a restored VM snapshot). A single column going back a little is clamped to 0
 * instead: idle and iowait can decrease on tickless kernels (proc(5)).
 */
export function cpuPercents (a: CpuTimes, b: CpuTimes): CpuPercents | undefined {
  let rawTotal = 0
  let total = 0
  const d = {} as CpuTimes
  for (const k of TIME_KEYS) {
    rawTotal += b[k] - a[k]
    d[k] = Math.max(0, b[k] - a[k])
    total += d[k]
  }
  if (rawTotal <= 0 || total <= 0) return undefined
  return {
    usage_percent: pct(total - d.idle - d.iowait, total),
    user_percent: pct(d.user + d.nice, total),
    system_percent: pct(d.system + d.irq + d.softirq, total),
    iowait_percent: pct(d.iowait, total)
  }
}

export interface LoadAvg { load1: number, load5: number, load15: number, running: number, threads: number }

/**
 * parseLoadavg reads /proc/loadavg. The fourth field "running/total" counts
 * kernel scheduling entities, that is threads, not processes.
 */
export function parseLoadavg (text: string): LoadAvg {
  const f = text.trim().split(/\s+/)
  const [running, threads] = (f[3] ?? '').split('/').map(Number)
  const l = { load1: Number(f[0]), load5: Number(f[1]), load15: Number(f[2]), running: running ?? NaN, threads: threads ?? NaN }
  if (!Number.isFinite(l.load1 + l.load5 + l.load15)) throw new Error(`/proc/loadavg: unreadable "${text.trim()}"`)
  return l
}

export class CpuInput implements Input {
  readonly name = 'cpu'
  private last: CpuTimes | undefined

  constructor (private readonly procRoot = '/proc', private readonly platform: NodeJS.Platform = process.platform) {}

  async gather (acc: Accumulator): Promise<void> {
    if (!useProc(this.platform)) return await this.gatherGeneric(acc)
    const cur = parseProcStat(await readProc(this.procRoot, 'stat'))
    const l = parseLoadavg(await readProc(this.procRoot, 'loadavg'))
    // The first reading has nothing to subtract from: load averages only.
    const p = this.last === undefined ? undefined : cpuPercents(this.last, cur)
    this.last = cur
    acc.add('cpu', { ...p, load1: l.load1, load5: l.load5, load15: l.load15 })
  }

  private async gatherGeneric (acc: Accumulator): Promise<void> {
    // Loaded on first use: Linux never needs it, and it costs RSS.
    const si = await import('systeminformation')
    const c = await si.currentLoad()
    // systeminformation gives no iowait (Windows has none); leave it out rather than report 0.
    const fields: Record<string, number> = {
      usage_percent: round2(c.currentLoad),
      user_percent: round2(c.currentLoadUser + c.currentLoadNice),
      system_percent: round2(c.currentLoadSystem + c.currentLoadIrq)
    }
    // Windows has no load averages (os.loadavg() is all zeros there): leave them out rather than report 0.
    if (this.platform !== 'win32') {
      const [l1, l5, l15] = loadavg()
      Object.assign(fields, { load1: l1, load5: l5, load15: l15 })
    }
    acc.add('cpu', fields)
  }
}

const round2 = (x: number): number => Math.round(x * 100) / 100
const pct = (part: number, whole: number): number => Math.round(part / whole * 10000) / 100
