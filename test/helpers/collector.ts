// The one way to run a collector in a test: the real app from collector/app.ts
// build(), configured from a collector.yaml in a temp dir, listening on a free
// loopback port; shut down (then the dir removed) at teardown.

import { join } from 'node:path'
import type { Test } from 'tap'
import { pino, type Logger } from 'pino'
import { build, type BuildOptions, type Collector } from '../../collector/app.js'
import { loadCollectorConfig, type CollectorConfig } from '../../collector/config.js'
import type { StorageBackend } from '../../collector/storage/backend.js'
import { agentEntries, writeConfig, type TestAgent } from './config.js'
import { tmpDir } from './tmp.js'

export interface CollectorOptions {
  /** collector.yaml keys over the defaults (dataDir <dir>/data, no agents); listen merges into { host: 127.0.0.1, port: 0 } */
  config?: Record<string, unknown>
  /** the agents it accepts; their tokens are in the result */
  agents?: TestAgent[]
  /** a back end instead of the one influx.* describes (none configured: WAL-only) */
  backend?: StorageBackend
  /** variables over process.env for the config's KANSHI_* secrets */
  env?: NodeJS.ProcessEnv
  /** default: silent */
  logger?: Logger
  /** false: build only, for app.inject (default: listen on loopback) */
  listen?: boolean
  /** the port to listen on (default: a free one) */
  port?: number
  /** build() options for tests: a fake clock, report generators */
  build?: Pick<BuildOptions, 'now' | 'reportGenerators'>
}

export interface TestCollector {
  /** what build() returned: app, wal, ingest, alerting, audit, shutdown … */
  c: Collector
  config: CollectorConfig
  /** the temp dir holding collector.yaml and data/ */
  dir: string
  dataDir: string
  /** the agents' tokens by id */
  tokens: Record<string, string>
  /** the listening port, base URL (http(s)://127.0.0.1:port) and agent WebSocket URL; listen: false has none */
  port: number
  url: string
  agentUrl: string
  /** restart shuts this collector down and builds it again on the same config, data, back end and port. */
  restart(): Promise<TestCollector>
}

export async function startCollector (t: Test, o: CollectorOptions = {}): Promise<TestCollector> {
  const dir = await tmpDir(t)
  const { agents, tokens } = agentEntries(o.agents ?? [])
  const { listen, ...rest } = o.config ?? {}
  const file = writeConfig(join(dir, 'collector.yaml'), {
    listen: { host: '127.0.0.1', port: 0, ...(listen as object | undefined) },
    dataDir: join(dir, 'data'),
    agents,
    ...rest
  })
  return await run(t, { ...o, file, dir, tokens })
}

async function run (t: Test, o: CollectorOptions & { file: string, dir: string, tokens: Record<string, string> }): Promise<TestCollector> {
  const config = loadCollectorConfig(o.file, { ...process.env, ...o.env })
  const c = await build({ config, logger: o.logger ?? pino({ level: 'silent' }), ...(o.backend !== undefined ? { backend: o.backend } : {}), ...o.build })
  t.teardown(async () => await c.shutdown())
  let port: number | undefined
  if (o.listen !== false) port = Number(new URL(await c.app.listen({ host: '127.0.0.1', port: o.port ?? 0 })).port)
  const tls = config.listen.tls !== undefined
  const listening = (): number => {
    if (port === undefined) throw new Error('this collector was built with listen: false: it has no port')
    return port
  }
  return {
    c, config, dir: o.dir, dataDir: config.dataDir, tokens: o.tokens,
    get port () { return listening() },
    get url () { return `${tls ? 'https' : 'http'}://127.0.0.1:${listening()}` },
    get agentUrl () { return `${tls ? 'wss' : 'ws'}://127.0.0.1:${listening()}/v1/agent` },
    restart: async () => {
      await c.shutdown()
      return await run(t, { ...o, ...(port !== undefined ? { port } : {}) })
    }
  }
}
