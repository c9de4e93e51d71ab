// The `cluster:` section of collector.yaml: this node's name, the PostgreSQL that the
// collectors of one cluster share (nodes, leases, agent sessions), and the lease times.
// Absent: no PostgreSQL, one collector, exactly as before.

import { hostname } from 'node:os'
import { Type, type StaticDecode } from '@sinclair/typebox'
import { ConfigError, DurationMs, OneOf, Strict } from '../../common/config.js'

export const ClusterSchema = Type.Object({
  node: Type.Optional(Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9._-]+$', description: 'a node name (letters, digits, . _ -); default: the host name' })),
  postgres: Type.Object({
    url: Type.String({ pattern: '^postgres(ql)?://', description: 'a PostgreSQL URL such as postgres://kanshi@db1:5432/kanshi (no password: see passwordEnv)' }),
    passwordEnv: Type.String({ default: 'KANSHI_PG_PASSWORD', pattern: '^[A-Z_][A-Z0-9_]*$', description: 'the name of the environment variable holding the password' }),
    ssl: OneOf(['disable', 'require', 'verify-full'] as const, { default: 'disable' }),
    caFile: Type.Optional(Type.String({ description: 'a PEM file of the CA that signed the server certificate (ssl: verify-full)' })),
    connectTimeout: DurationMs({ default: '5s', min: 100 }),
    statementTimeout: DurationMs({ default: '5s', min: 100 }),
    poolSize: Type.Integer({ default: 4, minimum: 1, maximum: 50, description: 'an integer 1-50' })
  }, Strict),
  lease: DurationMs({ default: '15s', min: 1000 }),
  heartbeat: DurationMs({ default: '5s', min: 200 }),
  // Degraded mode (縮退運転): PostgreSQL unreachable this long, alerting runs on the local store and mails critical alerts alone.
  degradedAfter: DurationMs({ default: '60s', min: 1000 }),
  // Who gets the "collector down" mail: receiver names; default: alerting.deadman's receiver, else every receiver.
  // How peers reach this node (GET /api/v1/cluster/peer): a base URL; default from listen (a wildcard host: this host's name).
  advertise: Type.Optional(Type.String({ pattern: '^https?://[^/]+/?$', description: 'a base URL such as https://c1.example.jp:8443' })),
  // The leader asks a silent peer directly before judging it down: each probe waits at most this.
  peerTimeout: Type.Optional(DurationMs({ min: 100 })),
  receivers: Type.Array(Type.String({ minLength: 1, description: 'the name of a receiver' }), { default: [], description: 'a list of receiver names (alerting.receivers)' })
}, Strict)

type Decoded = StaticDecode<typeof ClusterSchema>

export type ClusterConfig = Omit<Decoded, 'node' | 'postgres' | 'peerTimeout'> & {
  node: string
  /** default 2 s, at most the lease */
  peerTimeout: number
  postgres: Decoded['postgres'] & { password: string | undefined, caFile: string | undefined }
}

/** checkCluster fills the node name, takes the password from the environment and checks the times and receivers; it throws ConfigError. */
export function checkCluster (file: string, c: (Omit<Decoded, 'degradedAfter'> & { degradedAfter?: number }) | undefined, path: (p: string) => string, env: NodeJS.ProcessEnv, receivers: readonly string[] | undefined): ClusterConfig | undefined {
  if (c === undefined) return undefined
  let u: URL
  try { u = new URL(c.postgres.url) } catch { throw new ConfigError(file, 'cluster.postgres.url', 'expected a URL such as postgres://kanshi@db1:5432/kanshi') }
  if (u.password !== '') throw new ConfigError(file, 'cluster.postgres.url', `expected no password in the URL: put it in the environment variable ${c.postgres.passwordEnv}`)
  if (u.pathname.length <= 1) throw new ConfigError(file, 'cluster.postgres.url', 'expected a database name in the URL path, such as /kanshi')
  if (c.heartbeat * 2 > c.lease) throw new ConfigError(file, 'cluster.heartbeat', `expected at most half of cluster.lease (${c.lease / 1000}s), so a lease is renewed at least twice before it expires`)
  if (c.peerTimeout !== undefined && c.peerTimeout > c.lease) throw new ConfigError(file, 'cluster.peerTimeout', `expected at most cluster.lease (${c.lease / 1000}s)`)
  if (c.postgres.ssl === 'verify-full' && c.postgres.caFile === undefined) throw new ConfigError(file, 'cluster.postgres.caFile', 'expected a CA file with ssl: verify-full')
  c.receivers.forEach((name, i) => {
    if (receivers === undefined) throw new ConfigError(file, 'cluster.receivers', 'expected an alerting section to mail through; add one or remove this key')
    if (!receivers.includes(name)) throw new ConfigError(file, `cluster.receivers.${i}`, `expected one of the receivers (${receivers.join(', ') || 'none configured'}), got ${JSON.stringify(name)}`)
  })
  const password = env[c.postgres.passwordEnv]
  return {
    ...c,
    degradedAfter: c.degradedAfter ?? 60_000,
    peerTimeout: c.peerTimeout ?? Math.min(2000, c.lease),
    node: c.node ?? hostname().split('.')[0]!,
    postgres: { ...c.postgres, password: password === '' ? undefined : password, caFile: c.postgres.caFile === undefined ? undefined : path(c.postgres.caFile) }
  }
}

/** redactUrl drops any user info but the user name, for logs and the console. */
export function redactUrl (url: string): string {
  try {
    const u = new URL(url)
    u.password = ''
    return u.toString()
  } catch { return '(invalid URL)' }
}
