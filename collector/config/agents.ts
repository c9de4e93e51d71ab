// agents: the hosts allowed to send, each with its token hash, the tags the collector sets on
// its points, and its opening hours (kiosks).

import { Type, type StaticDecode } from '@sinclair/typebox'
import { ConfigError, Strict } from '../../common/config.js'
import { AnyKey } from '../../protocol/messages.js'
import { TokenHash } from './token-hash.js'

const AgentEntrySchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s]+$', description: 'an agent id without spaces' }),
  tokenSha256: TokenHash('the agent token'),
  // A second valid token while one is rotated: both work until the old one is removed and the collector reloaded.
  tokenSha256Next: Type.Optional(TokenHash('the agent\'s next token')),
  role: Type.String({ default: 'server', minLength: 1, maxLength: 64, description: 'a role such as server or kiosk' }),
  site: Type.String({ default: '', maxLength: 64, description: 'a site name' }),
  labels: Type.Record(AnyKey, Type.String(), { default: {}, description: 'a map of label names to strings' }),
  // Opening hours (kiosks): outside them the host may be switched off; its alerts are out of schedule.
  schedule: Type.Optional(Type.String({ minLength: 1, description: 'always, or the name of a schedule (alerting.schedules): the hours the host is expected to run' })),
  // Poller: may this agent write points for devices (device tag)? true, or a list of names and * patterns.
  devices: Type.Optional(Type.Union([Type.Boolean(), Type.Array(Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s]+$' }))], { description: 'true, false or a list of device names and * patterns this agent may poll' })),
  // Dependency: the switch (device or agent) this host hangs on; its alerts are suppressed while that one is down.
  parent: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s]+$', description: 'the name of the device or agent this agent depends on' }))
}, Strict)

export const AgentsSchema = Type.Array(AgentEntrySchema, { default: [], description: 'a list of { id, tokenSha256, role, site }' })

type AgentEntry = StaticDecode<typeof AgentEntrySchema>

/**
 * checkAgents wants unique ids, known schedules, and each token hash in one entry only (a
 * shared token would let one agent write as the other); it throws ConfigError.
 */
export function checkAgents (file: string, agents: readonly AgentEntry[], scheduleNames: readonly string[]): void {
  const ids = new Set<string>()
  for (const [i, a] of agents.entries()) {
    if (ids.has(a.id)) throw new ConfigError(file, `agents.${i}.id`, `expected a unique agent id, got a second "${a.id}"`)
    ids.add(a.id)
  }
  for (const [i, a] of agents.entries()) {
    if (a.schedule !== undefined && a.schedule !== 'always' && !scheduleNames.includes(a.schedule)) {
      throw new ConfigError(file, `agents.${i}.schedule`, `expected always or one of the schedules (${scheduleNames.join(', ') || 'none configured'}), got ${JSON.stringify(a.schedule)}`)
    }
  }
  for (const [i, a] of agents.entries()) {
    if (a.parent === a.id) throw new ConfigError(file, `agents.${i}.parent`, `expected another host's name, got the agent's own id "${a.id}"`)
    const taken = Array.isArray(a.devices) ? a.devices.findIndex(d => ids.has(d)) : -1
    if (taken >= 0) throw new ConfigError(file, `agents.${i}.devices.${taken}`, `expected a device name that is no agent id (a device may never write as an agent), got "${(a.devices as string[])[taken]!}"`)
  }
  const hashes = new Map<string, string>()
  for (const [i, a] of agents.entries()) {
    for (const k of ['tokenSha256', 'tokenSha256Next'] as const) {
      const h = a[k]
      if (h === undefined) continue
      const other = hashes.get(h)
      if (other !== undefined) throw new ConfigError(file, `agents.${i}.${k}`, `expected a token hash used by no other entry, got the same hash as ${other}`)
      hashes.set(h, `agents.${i}.${k}`)
    }
  }
}
