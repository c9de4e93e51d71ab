// listen: the address the collector serves agents, the API and the console on, its TLS files,
// and the bounds on slow or idle clients.

import { Type, type StaticDecode } from '@sinclair/typebox'
import { ConfigError, DurationMs, Strict } from '../../common/config.js'

export const ListenSchema = Type.Object({
  host: Type.String({ default: '127.0.0.1', description: 'a host or address to listen on' }),
  port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'a TCP port (0-65535)' }),
  tls: Type.Optional(Type.Object({
    cert: Type.String({ description: 'a PEM certificate file path' }),
    key: Type.String({ description: 'a PEM private key file path' }),
    ca: Type.Optional(Type.String({ description: 'a PEM CA file path' }))
  }, Strict)),
  // Slow-loris and idle sockets: a client must send its request headers, and then the whole request, within these.
  headersTimeout: DurationMs({ default: '10s', min: 100 }),
  requestTimeout: DurationMs({ default: '30s', min: 100 })
}, { ...Strict, default: {} })

export type ListenConfig = StaticDecode<typeof ListenSchema>

/** resolveListen places the TLS files beside the config file; Node wants the headers bound within the request bound. */
export function resolveListen (file: string, l: ListenConfig, path: (p: string) => string): ListenConfig {
  if (l.requestTimeout < l.headersTimeout) {
    throw new ConfigError(file, 'listen.requestTimeout', `expected a duration at least listen.headersTimeout (${l.headersTimeout} ms), got ${l.requestTimeout} ms`)
  }
  if (l.tls === undefined) return l
  const { cert, key, ca } = l.tls
  return { ...l, tls: { cert: path(cert), key: path(key), ...(ca !== undefined ? { ca: path(ca) } : {}) } }
}
