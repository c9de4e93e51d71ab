// GET /api/v1/inventory (viewer): each host's newest inventory point — OS,
// version, build, last update, pending reboot, agent version — with the same
// judgements as the monthly report (update age, end of support), read from
// InfluxDB over the last report.inventory.lookback.

import type { FastifyPluginAsync } from 'fastify'
import type { InfluxTarget } from '../report/influxql.js'
import { inventoryQuery, judgeInventory } from '../report/sections/inventory.js'
import type { Guard } from './auth.js'

export interface InventoryApiOptions {
  need: Guard
  /** where inventory points are queried (undefined: WAL-only, no database) */
  target: InfluxTarget | undefined
  timezone: string
  maxUpdateAgeDays: number
  eolWarnDays: number
  now: () => number
}

// Agents send inventory every 6 hours and at start: 8 days finds every host that reported this week.
const LOOKBACK_MS = 8 * 86_400_000

export const inventoryApi: FastifyPluginAsync<InventoryApiOptions> = async (app, o) => {
  app.get('/api/v1/inventory', { onRequest: o.need('viewer') }, async () => {
    if (o.target === undefined) return { maxUpdateAgeDays: o.maxUpdateAgeDays, hosts: [], problem: 'no database is configured (WAL-only): the inventory is kept in InfluxDB' }
    const now = o.now()
    let rows
    try {
      rows = await inventoryQuery(o.target, now - LOOKBACK_MS, now + 60_000)
    } catch (err) {
      // The database down is a state to show, like WAL-only, not a failure of this request.
      return { maxUpdateAgeDays: o.maxUpdateAgeDays, hosts: [], problem: `the inventory could not be read from InfluxDB: ${(err as Error).message}` }
    }
    return {
      maxUpdateAgeDays: o.maxUpdateAgeDays,
      problem: null,
      hosts: judgeInventory(rows, now, o.timezone, o).map(j => ({
        ...j.row,
        updateAgeDays: j.updateAgeDays === null ? null : Math.floor(j.updateAgeDays),
        staleUpdate: j.staleUpdate,
        pastEol: j.pastEol,
        eolSoon: j.eolSoon
      }))
    }
  })
}
