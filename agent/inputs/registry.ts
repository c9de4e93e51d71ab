// The registry of agent inputs by name: the agent builds the configured ones
// from agent.yaml and runs them all alike (start, gather, close).

import type { AgentConfig, SystemInputName } from '../config.js'
import { SYSTEM_INPUTS } from '../config.js'
import type { Input, PolledInput } from './input.js'
import { CpuInput } from './cpu.js'
import { MemInput } from './mem.js'
import { DiskInput, type DiskOptions } from './disk.js'
import { DiskIoInput } from './diskio.js'
import { NetInput, type NetOptions } from './net.js'
import { SystemInput } from './system.js'
import { JobResults } from './jobs.js'
import { ServiceChecks } from './checks/service.js'
import { PushListener } from './push/push.js'
import { InventoryInput } from './inventory.js'
import type { StreamFactory } from './logs/input.js'

export { SYSTEM_INPUTS }

export interface SystemInputOptions {
  enabled?: readonly string[]
  disk?: DiskOptions
  net?: NetOptions
  procRoot?: string
  platform?: NodeJS.Platform
}

/** createSystemInputs makes the enabled system inputs, in the order given. */
export function createSystemInputs (o: SystemInputOptions = {}): PolledInput[] {
  const proc = o.procRoot ?? '/proc'
  const platform = o.platform ?? process.platform
  const make: Record<SystemInputName, () => PolledInput> = {
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

/** An input family: its inputs for a config (none when the config leaves it out). */
export type InputFactory = (c: AgentConfig) => Promise<Input[]>

export const INPUTS: Readonly<Record<string, InputFactory>> = {
  system: async c => createSystemInputs(c.inputs),
  jobs: async c => [new JobResults(c.dataDir)],
  service: async c => c.checks.length > 0 ? [new ServiceChecks([...c.checks])] : [],
  // Loaded only when logs: has entries: an agent without log sources does not pay for the code.
  logs: async c => {
    const { files, journald, winevent } = c.logs
    const traps = c.snmpTraps
    if (files.length + journald.length + winevent.length === 0 && traps === undefined) return []
    const [{ LogInput }, { JournaldSource }, { WinEventSource }] = await Promise.all([import('./logs/input.js'), import('./logs/journald.js'), import('./logs/winevent.js')])
    const streams: StreamFactory[] = [
      ...journald.map((spec): StreamFactory => (stamp, now, onError) => new JournaldSource(spec, stamp, now, err => onError(spec.name, err))),
      ...winevent.map((spec): StreamFactory => (stamp, now, onError) => new WinEventSource(spec, stamp, now, err => onError(spec.name, err)))
    ]
    // SNMP traps are a log source: they pass the same gate (redaction, rate limit) and spool.
    if (traps !== undefined) {
      const { TrapSource } = await import('./snmp/traps.js')
      streams.push((stamp, now, onError) => new TrapSource(traps, stamp, now, err => onError(traps.name, err)))
    }
    return [new LogInput(files, { pollIntervalMs: c.logPollInterval }, streams)]
  },
  push: async c => c.push.enabled ? [new PushListener({ host: c.push.host, port: c.push.port, policy: c.push.policy })] : [],
  inventory: async c => c.inputs.inventory.enabled ? [new InventoryInput({ intervalMs: c.inputs.inventory.interval })] : []
}

/** createInputs makes every configured input, family by family in the registry's order. */
export async function createInputs (c: AgentConfig): Promise<Input[]> {
  const out: Input[] = []
  for (const make of Object.values(INPUTS)) out.push(...await make(c))
  return out
}
