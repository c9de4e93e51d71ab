// GET /api/v1/cluster/peer: what a collector tells the leader that asks why its row went
// silent — its name, whether it reaches PostgreSQL, its 縮退運転 state and the agents it hears.
// Only for cluster members (a signed request, peer-auth.ts); the reply is signed too.

import type { FastifyPluginAsync } from 'fastify'
import { Counter, type Registry } from 'prom-client'
import { KanshiError } from '../../protocol/errors.js'
import { PEER_HEADERS, type PeerKey } from './peer-auth.js'
import type { PeerReport } from './peer-probe.js'

export interface PeerRouteOptions {
  /** undefined: no cluster, the route answers 404 like any unknown path */
  peer: { node: string, key: PeerKey, report: () => PeerReport } | undefined
  registry: Registry
  now: () => number
}

export const peerRoute: FastifyPluginAsync<PeerRouteOptions> = async (app, o) => {
  const p = o.peer
  if (p === undefined) return
  const name = 'kanshi_cluster_peer_refused_total'
  const refused = (o.registry.getSingleMetric(name) as Counter<'reason'> | undefined) ?? new Counter({ name, help: 'peer calls refused by this collector, by reason (bad_signature, stale, replay …)', labelNames: ['reason'], registers: [o.registry] })
  // One log line per reason a minute: refusals are counted, and a flood of them must not flood the log.
  const logged = new Map<string, number>()
  app.get('/api/v1/cluster/peer', { logLevel: 'warn' }, async (req, reply) => {
    const now = o.now()
    const why = p.key.verify(req.headers, p.node, now)
    if (why !== undefined) {
      refused.inc({ reason: why })
      if (now - (logged.get(why) ?? -Infinity) >= 60_000) {
        logged.set(why, now)
        req.log.warn({ reason: why, from: req.socket.remoteAddress }, 'cluster: peer call refused (counted in kanshi_cluster_peer_refused_total; logged once a minute per reason)')
      }
      throw new KanshiError('E_AUTH', `peer call refused (${why})`)
    }
    const body = JSON.stringify(p.report())
    const nonce = req.headers[PEER_HEADERS.nonce] as string
    return await reply.header(PEER_HEADERS.sig, p.key.signReply(nonce, body)).type('application/json').send(body)
  })
}
