// The PostgreSQL pool of a cluster node: short connect and statement timeouts so
// nothing waits long on a database that went away, and the password only in memory.

import { readFileSync } from 'node:fs'
import pg from 'pg'
import type { ClusterConfig } from '../config/cluster.js'

export type Pool = pg.Pool

/** makePool opens (lazily) the pool that every cluster statement goes through. */
export function makePool (c: ClusterConfig['postgres'], onError: (err: Error) => void): pg.Pool {
  const ssl = c.ssl === 'disable'
    ? false
    : c.ssl === 'require'
      ? { rejectUnauthorized: false }
      : { rejectUnauthorized: true, ...(c.caFile !== undefined ? { ca: readFileSync(c.caFile, 'utf8') } : {}) }
  // Not connectionString: pg lets the URL's (absent) password override the one given here.
  const u = new URL(c.url)
  const pool = new pg.Pool({
    host: decodeURIComponent(u.hostname.replace(/^\[|\]$/g, '')),
    port: u.port === '' ? 5432 : Number(u.port),
    user: decodeURIComponent(u.username),
    database: decodeURIComponent(u.pathname.slice(1)),
    ...(c.password !== undefined ? { password: c.password } : {}),
    ssl,
    max: c.poolSize,
    connectionTimeoutMillis: c.connectTimeout,
    statement_timeout: c.statementTimeout,
    // The client gives up too, when the server or the network does not answer at all.
    query_timeout: c.statementTimeout + 1000,
    idleTimeoutMillis: 30_000,
    application_name: 'kanshi-collector',
    keepAlive: true
  })
  // An idle client whose server went away emits 'error' on the pool; a checked-out one (between two statements of a
  // transaction) emits it on itself, where pg listens to nobody: both counted, never a crash. The statement under way
  // fails as usual, and pg does not reuse a client whose connection ended.
  pool.on('error', onError)
  pool.on('connect', client => { client.on('error', onError) })
  return pool
}

/** pgMessage is an error's message without anything secret in it (pg never puts the password in its messages; the URL may carry a user). */
export function pgMessage (err: unknown): string {
  const e = err as { message?: string, code?: string }
  const raw = e.message ?? String(err)
  const m = (/client password must be a string/.test(raw) ? 'the server asks for a password and none is set (cluster.postgres.passwordEnv)' : raw).replace(/postgres(ql)?:\/\/[^@\s]*@/g, 'postgres://…@')
  return e.code !== undefined && !m.includes(e.code) ? `${m} (${e.code})` : m
}
