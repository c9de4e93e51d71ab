// What a benchmark reads about another process from /proc: CPU time (its own,
// its reaped children's and its live descendants') and resident memory.
// Linux only; the benchmarks that use it run where the references run.

import { readFileSync, readdirSync } from 'node:fs'

/** USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 1/100 s on Linux. */
const TICK_S = 0.01

interface Stat { ppid: number, self: number, children: number }

function stat (pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
    // f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14–17.
    return { ppid: Number(f[1]), self: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) }
  } catch {
    return undefined
  }
}

/**
 * cpuSeconds is the CPU time of pid and everything it spawned: utime+stime,
 * cutime+cstime (children it has waited for) and the times of descendants
 * still running.
 */
export function cpuSeconds (pid: number): number {
  const all = new Map<number, Stat>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const s = stat(Number(name))
    if (s !== undefined) all.set(Number(name), s)
  }
  const root = all.get(pid)
  if (root === undefined) return NaN
  let ticks = root.self + root.children
  const tree = new Set([pid])
  let grew = true
  while (grew) {
    grew = false
    for (const [p, s] of all) {
      if (!tree.has(p) && tree.has(s.ppid)) { tree.add(p); ticks += s.self + s.children; grew = true }
    }
  }
  return ticks * TICK_S
}

/** memory reads VmRSS and VmHWM (peak RSS) in bytes. */
export function memory (pid: number): { rss: number, hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN) * 1024
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1)

/** loadavg is the 1-minute load average, printed beside every result on this shared machine. */
export function loadavg (): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
}
