// GET /api/v1/devices: the devices agents poll, with their poller, parent and state. A device
// whose poller is down or silent is "unknown", not "down": nobody could ask it.

import type { FastifyPluginAsync, onRequestHookHandler } from 'fastify'
import type { Ingest } from '../ingest/ingest.js'
import type { DeviceStatus } from '../ingest/devices.js'

export type DeviceState = 'up' | 'down' | 'unknown'

export interface DeviceView extends DeviceStatus {
  state: DeviceState
  pollerUp: boolean
}

/** devicesView lists the devices with their state as of now. */
export function devicesView (ingest: Ingest, now: number): DeviceView[] {
  return ingest.devices.list().map(d => {
    const p = ingest.status.get(d.poller)
    const pollerUp = p?.up === true
    // Silent for 3 of its poller's intervals (the poller may poll it less often than it reports itself).
    const fresh = p !== undefined && now - d.lastSeen <= 3 * Math.max(p.intervalMs, 1000)
    const state: DeviceState = !pollerUp || !fresh || d.up === undefined ? 'unknown' : d.up === 1 ? 'up' : 'down'
    return { ...d, state, pollerUp }
  })
}

export const deviceApi: FastifyPluginAsync<{ ingest: Ingest, need: (role: 'viewer') => onRequestHookHandler, now: () => number }> = async (app, o) => {
  app.get('/api/v1/devices', { onRequest: o.need('viewer') }, async () => ({ devices: devicesView(o.ingest, o.now()), untracked: o.ingest.devices.untracked }))
}
