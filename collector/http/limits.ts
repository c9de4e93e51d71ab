// TLS and connection limits: the server options Fastify is built with, a cap
// on sockets per address, a deadline for silent sockets, and the headers every reply carries.

import { readFile } from 'node:fs/promises'
import type { Socket } from 'node:net'
import type { CollectorConfig } from '../config.js'
import type { Metrics } from '../metrics.js'
import { appWide } from './app-wide.js'

/** serverOptions: TLS when configured, and a header deadline checked every second instead of Node's 30 s. */
export async function serverOptions (c: CollectorConfig): Promise<{ https?: object, http?: object }> {
  const timing = { headersTimeout: c.listen.headersTimeout, connectionsCheckingInterval: Math.min(1000, c.listen.headersTimeout) }
  const t = c.listen.tls
  if (t === undefined) return { http: timing }
  const [key, cert, ca] = await Promise.all([readFile(t.key), readFile(t.cert), t.ca === undefined ? undefined : readFile(t.ca)])
  return { https: { key, cert, ...(ca !== undefined ? { ca } : {}), ...timing } }
}

export interface LimitsOptions { maxSocketsPerAddress: number, silentMs: number, metrics: Metrics }

/**
 * limits caps open TCP sockets per remote address (upgraded WebSockets
 * included), so one host cannot hold thousands of idle sockets, and closes a
 * socket that sends nothing at all within the header deadline (Node's own
 * headersTimeout starts only at the first byte).
 */
export const limits = appWide<LimitsOptions>(async (app, o) => {
  const open = new Map<string, number>()
  app.server.on('connection', (socket: Socket) => {
    const silent = setTimeout(() => socket.destroy(), o.silentMs)
    silent.unref()
    socket.once('data', () => clearTimeout(silent))
    socket.once('close', () => clearTimeout(silent))
    const addr = socket.remoteAddress ?? ''
    const n = (open.get(addr) ?? 0) + 1
    if (n > o.maxSocketsPerAddress) {
      o.metrics.authFailures.inc({ reason: 'too_many_connections' })
      socket.destroy()
      return
    }
    open.set(addr, n)
    socket.once('close', () => {
      const left = (open.get(addr) ?? 1) - 1
      if (left <= 0) open.delete(addr); else open.set(addr, left)
    })
  })
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff')
    reply.header('cache-control', 'no-store')
  })
})
