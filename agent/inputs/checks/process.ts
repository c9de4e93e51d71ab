// process check: how many processes match a name (exact, as in ps -e) or a
// command-line regex, against min/max counts. Linux reads /proc; elsewhere systeminformation.

import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Check } from './types.js'

export interface ProcessInfo { pid: number, name: string, cmdline: string }

function listProcessesLinux (procRoot = '/proc'): ProcessInfo[] {
  const out: ProcessInfo[] = []
  for (const d of readdirSync(procRoot)) {
    if (!/^\d+$/.test(d)) continue
    try {
      const name = readFileSync(join(procRoot, d, 'comm'), 'utf8').trim()
      const cmdline = readFileSync(join(procRoot, d, 'cmdline'), 'utf8').split('\0').join(' ').trim()
      out.push({ pid: Number(d), name, cmdline })
    } catch { /* the process ended while we looked */ }
  }
  return out
}

function countMatching (list: ProcessInfo[], name: string | undefined, pattern: RegExp | undefined): number {
  return list.filter(p => (name === undefined || p.name === name || p.name === `${name}.exe`) && (pattern === undefined || pattern.test(p.cmdline))).length
}

export function processCheck (o: { name?: string, pattern?: RegExp, min: number, max?: number, platform?: NodeJS.Platform, procRoot?: string }): Check {
  return async () => {
    let list: ProcessInfo[]
    if ((o.platform ?? process.platform) === 'linux') list = listProcessesLinux(o.procRoot)
    else {
      const si = await import('systeminformation')
      list = (await si.processes()).list.map(p => ({ pid: p.pid, name: p.name, cmdline: `${p.command} ${p.params}`.trim() }))
    }
    const n = countMatching(list, o.name, o.pattern)
    const what = o.name ?? String(o.pattern)
    const up = n >= o.min && (o.max === undefined || n <= o.max)
    return { up, message: up ? `${n} ${what} running` : `${n} ${what} running, expected ${o.max === undefined ? `at least ${o.min}` : `${o.min}-${o.max}`}`, fields: { count: n } }
  }
}
