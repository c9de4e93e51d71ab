// Opening hours per host: the schedule an agent is expected to run in, so a kiosk
// switched off after closing is neither an alert nor an outage in the report.

import type { Schedule } from './schedules.js'

/** KIOSK_DEFAULT is the schedule a kiosk without one of its own follows, when it exists. */
const KIOSK_DEFAULT = 'kiosk-hours'

export interface AgentHours { id: string, role: string, schedule?: string | undefined }

/** openingHours names an agent's schedule: its own, kiosk-hours for a kiosk, or undefined for "always". */
export function openingHours (a: { role: string, schedule?: string | undefined }): string | undefined {
  const name = a.schedule ?? (a.role === 'kiosk' ? KIOSK_DEFAULT : undefined)
  return name === 'always' ? undefined : name
}

/** hostSchedules maps each agent with opening hours to its schedule; hosts without one run at all hours. */
export function hostSchedules (agents: readonly AgentHours[], schedules: ReadonlyMap<string, Schedule>): Map<string, Schedule> {
  const out = new Map<string, Schedule>()
  for (const ag of agents) {
    const name = openingHours(ag)
    const sch = name === undefined ? undefined : schedules.get(name)
    if (sch !== undefined) out.set(ag.id, sch)
  }
  return out
}
