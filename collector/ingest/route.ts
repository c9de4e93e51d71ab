// The agent ingest route: GET /v1/agent upgrades to a WebSocket after the
// token, the per-address failure limit and the connection cap pass; each
// socket then becomes a Session feeding Ingest.

import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { KanshiError } from '../../protocol/errors.js'
import type { AuditLog } from '../audit/log.js'
import type { Metrics } from '../metrics.js'
import { AddressLimiter, sha256Hex, type AgentAuth, type Identity } from './auth.js'
import type { Ingest } from './ingest.js'
import { Session } from './session.js'
import type { StoredTracker } from './stored.js'

export interface AgentRouteOptions {
  auth: AgentAuth
  audit: AuditLog
  ingest: Ingest
  metrics: Metrics
  logger: Logger
  maxFrameBytes: number
  maxErrorsPerMinute: number
  maxConnectionsPerAddress: number
  /** ingest.maxProtocol */
  maxProtocol?: number
  stored?: StoredTracker
}

export const agentRoute: FastifyPluginAsync<AgentRouteOptions> = async (app, o) => {
  const { auth, audit, metrics } = o
  const limiter = new AddressLimiter(o.maxErrorsPerMinute, o.maxConnectionsPerAddress)
  const identities = new WeakMap<FastifyRequest, Identity>()

  /** admit authenticates the upgrade request, or throws the refusal. */
  const admit = async (req: FastifyRequest): Promise<void> => {
    const addr = req.ip
    if (limiter.blocked(addr)) {
      metrics.authFailures.inc({ reason: 'rate_limited' })
      throw new KanshiError('E_RATE_LIMIT')
    }
    const header = req.headers.authorization
    const id = auth.authenticate(header)
    if (id === undefined) {
      limiter.fail(addr)
      const reason = header === undefined ? 'missing' : 'invalid'
      metrics.authFailures.inc({ reason })
      req.log.warn({ remote: addr, reason }, 'agent authentication failed')
      // The hash prefix tells a revoked or mistyped token apart from guessing, without the token itself.
      const presented = header === undefined ? undefined : sha256Hex(header.replace(/^Bearer\s+/i, '').trim()).slice(0, 12)
      audit.append('agent', 'agent.auth_failed', { remote: addr, reason, ...(presented !== undefined ? { tokenSha256Prefix: presented } : {}) })
      if (limiter.blocked(addr)) {
        // Logged and audited once per block; further attempts are only counted (kanshi_auth_failures_total).
        req.log.warn({ remote: addr, code: 'E_RATE_LIMIT' }, 'agent authentication failures over the limit: this address is refused for a minute')
        audit.append('agent', 'agent.auth_blocked', { remote: addr, limitPerMinute: o.maxErrorsPerMinute })
      }
      throw new KanshiError('E_AUTH')
    }
    if (!limiter.tryOpen(addr)) {
      metrics.authFailures.inc({ reason: 'too_many_connections' })
      throw new KanshiError('E_RATE_LIMIT', 'too many connections from this address')
    }
    identities.set(req, id)
  }

  app.get('/v1/agent', { websocket: true, preValidation: admit }, (socket, req) => {
    const id = identities.get(req)!
    metrics.connections.inc()
    metrics.connectionsTotal.inc()
    // Only the address outlives the upgrade: a closure over req would keep the whole request alive per connection.
    const ip = req.ip
    socket.on('close', () => limiter.closed(ip))
    new Session(socket, id, ip, {
      ingest: o.ingest, metrics, logger: o.logger, tcp: req.socket,
      maxFrameBytes: o.maxFrameBytes, maxErrorsPerMinute: o.maxErrorsPerMinute,
      ...(o.maxProtocol !== undefined ? { maxProtocol: o.maxProtocol } : {}),
      ...(o.stored !== undefined ? { stored: o.stored } : {}),
      audit: (action, detail) => audit.append('agent', action, detail)
    })
  })
}
