// A private PostgreSQL per test file: initdb in a temp dir as the postgres user (tests run as
// root), listening on 127.0.0.1 and a free port, its unix socket in the temp dir, fsync off;
// role kanshi with a password (scram), database kanshi. Stopped and removed at teardown.
// Debian: apt-get install postgresql (scripts/test.sh does).

import type { Test } from 'tap'
import { execFile } from 'node:child_process'
import { chmod, chown, mkdir, readdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { freePort } from './procs.js'
import { tmpDir } from './tmp.js'

const run = promisify(execFile)

export interface Postgres {
  port: number
  /** postgres://kanshi@127.0.0.1:PORT/kanshi (no password: pass `password` as KANSHI_PG_PASSWORD) */
  url: string
  password: string
  /** a superuser client over the unix socket, for the test's own reads */
  admin: pg.Pool
  /** stop the server (fast: connections cut), keeping its data */
  stop(): Promise<void>
  start(): Promise<void>
}

/** pgBin finds a PostgreSQL program under /usr/lib/postgresql/<version>/bin (the newest). */
export async function pgBin (name: string): Promise<string> {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? (await readdir(root)).sort((a, b) => Number(b) - Number(a)) : []
  for (const v of versions) if (existsSync(join(root, v, 'bin', name))) return join(root, v, 'bin', name)
  throw new Error(`${name} not found under ${root}: apt-get install postgresql (scripts/test.sh does)`)
}

export async function startPostgres (t: Test): Promise<Postgres> {
  const dir = await tmpDir(t)
  await chmod(dir, 0o755)
  const data = join(dir, 'data')
  const sock = join(dir, 'sock')
  await mkdir(sock)
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim())
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim())
  await chown(sock, uid, gid)
  await chown(dir, uid, gid)
  const asPg = async (bin: string, args: string[]): Promise<string> => (await run('runuser', ['-u', 'postgres', '--', await pgBin(bin), ...args], { cwd: dir })).stdout
  await asPg('initdb', ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'])
  const port = await freePort()
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${sock} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50 -c shared_buffers=16MB`
  const start = async (): Promise<void> => { await asPg('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '30', 'start']) }
  const stop = async (): Promise<void> => { await asPg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']) }
  await start()
  t.teardown(async () => { await asPg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {}) })
  const password = 'pw-' + Math.random().toString(36).slice(2, 12)
  const admin = new pg.Pool({ host: sock, port, user: 'postgres', database: 'postgres', max: 2 })
  admin.on('error', () => {})
  await admin.query(`CREATE ROLE kanshi LOGIN PASSWORD '${password}'`)
  await admin.query('CREATE DATABASE kanshi OWNER kanshi')
  const inKanshi = new pg.Pool({ host: sock, port, user: 'postgres', database: 'kanshi', max: 2 })
  inKanshi.on('error', () => {})
  await admin.end()
  t.teardown(async () => { await inKanshi.end().catch(() => {}) })
  return { port, url: `postgres://kanshi@127.0.0.1:${port}/kanshi`, password, admin: inKanshi, stop, start }
}
