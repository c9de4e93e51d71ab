// The registry of system inputs: the agent asks for them by name.

import type { Input } from './input.js'
import { CpuInput } from './cpu.js'
import { MemInput } from './mem.js'
import { DiskInput, type DiskOptions } from './disk.js'
import { DiskIoInput } from './diskio.js'
import { NetInput, type NetOptions } from './net.js'
import { SystemInput } from './system.js'

export const SYSTEM_INPUTS = ['cpu', 'mem', 'disk', 'diskio', 'net', 'system'] as const
export type SystemInputName = typeof SYSTEM_INPUTS[number]

export interface SystemInputOptions {
  enabled?: readonly string[]
  disk?: DiskOptions
  net?: NetOptions
  procRoot?: string
  platform?: NodeJS.Platform
}

export function createSystemInputs (o: SystemInputOptions = {}): Input[] {
  const proc = o.procRoot ?? '/proc'
  const platform = o.platform ?? process.platform
  const make: Record<SystemInputName, () => Input> = {
    cpu: () => new CpuInput(proc, platform),
    mem: () => new MemInput(proc, platform),
    disk: () => new DiskInput(o.disk ?? {}, proc, platform),
    diskio: () => new DiskIoInput(proc, platform),
    net: () => new NetInput(o.net ?? {}, proc, platform),
    system: () => new SystemInput(proc, platform)
  }
  return (o.enabled ?? SYSTEM_INPUTS).map(n => {
    const f = make[n as SystemInputName]
    if (f === undefined) throw new Error(`unknown input ${n}`)
    return f()
  })
}
