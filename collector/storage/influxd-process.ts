// A private InfluxDB 1.x as a child process: the collector's embedded mode
// (npm start with no influx.url) and the tests' real database.

import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, createWriteStream, mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { delimiter, join } from 'node:path'

export interface InfluxdOptions {
  dataDir: string
  /** HTTP port; 0 picks a free loopback port */
  port?: number
  bin?: string
  logFile?: string
  readyTimeoutMs?: number
  /** require users and passwords (tests of a collector with a non-admin user) */
  authEnabled?: boolean
  /** picks a free loopback port (default freePort; a test can hand out a taken one) */
  choosePort?: () => Promise<number>
}

export interface InfluxdProcess {
  url: string
  port: number
  readonly pid: number
  /** stop sends SIGTERM (SIGKILL after 10 s) and waits for exit */
  stop(): Promise<void>
  kill9(): Promise<void>
  /** restart starts it again on the same port and data */
  restart(): Promise<void>
}

/** findInfluxd returns the path of influxd on PATH, or undefined. */
export function findInfluxd (): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const p = join(dir, 'influxd')
    try { accessSync(p, constants.X_OK); return p } catch { /* next */ }
  }
  return undefined
}

export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** portFree tells whether a loopback port can be listened on now. */
function portFree (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

function configText (dir: string, port: number, rpcPort: number, auth = false): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
  index-version = "tsi1"
[http]
  enabled = true
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
  auth-enabled = ${auth ? 'true' : 'false'}
[logging]
  level = "warn"
[monitor]
  store-enabled = false
[continuous_queries]
  log-enabled = false
`
}

export async function startInfluxd (o: InfluxdOptions): Promise<InfluxdProcess> {
  const bin = o.bin ?? findInfluxd()
  if (bin === undefined) throw new Error('influxd is not on PATH (Debian: apt-get install influxdb)')
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 })
  const choose = o.choosePort ?? freePort
  const chosen = o.port === undefined || o.port === 0
  let port = chosen ? await choose() : o.port!
  // A port already taken (the influxdb package's own service on 8086) would answer our readiness
  // ping: the collector would write to someone else's InfluxDB. Refuse, saying which port.
  if (!await portFree(port)) throw new Error(`port 127.0.0.1:${port} is already in use (another InfluxDB, such as the influxdb package's own service?): stop it, or set influx.embedded.port to a free port`)
  let rpcPort = await choose()
  const conf = join(o.dataDir, 'influxdb.conf')
  writeFileSync(conf, configText(o.dataDir, port, rpcPort, o.authEnabled === true))
  let url = `http://127.0.0.1:${port}`
  let child: ChildProcess
  let tail = ''

  const launch = async (): Promise<void> => {
    child = spawn(bin, ['run', '-config', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
    const log = o.logFile === undefined ? undefined : createWriteStream(o.logFile, { flags: 'a' })
    const keep = (b: Buffer): void => { tail = (tail + b.toString()).slice(-4000); log?.write(b) }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    child.once('exit', () => log?.end())
    const deadline = Date.now() + (o.readyTimeoutMs ?? 30_000)
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`influxd exited at start (${child.exitCode ?? child.signalCode}): ${tail.slice(-1000)}`)
      try {
        const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) })
        await res.arrayBuffer()
        if (res.status === 204) return
      } catch { /* not yet */ }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    child.kill('SIGKILL')
    throw new Error(`influxd did not answer ${url}/ping in time: ${tail.slice(-1000)}`)
  }

  const waitExit = (signal: NodeJS.Signals, graceMs: number): Promise<void> => new Promise(resolve => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => { clearTimeout(t); resolve() })
    child.kill(signal)
  })

  // Ports we chose can be taken by another process between the choice and influxd's bind: choose again (three tries).
  for (let attempt = 1; ; attempt++) {
    try {
      await launch()
      break
    } catch (err) {
      if (!chosen || attempt === 3 || !/address already in use/.test((err as Error).message)) throw err
      port = await choose()
      rpcPort = await choose()
      url = `http://127.0.0.1:${port}`
      writeFileSync(conf, configText(o.dataDir, port, rpcPort, o.authEnabled === true))
    }
  }
  return {
    url,
    port,
    get pid () { return child.pid ?? -1 },
    stop: async () => await waitExit('SIGTERM', 10_000),
    kill9: async () => await waitExit('SIGKILL', 0),
    restart: async () => { await waitExit('SIGTERM', 10_000); await launch() }
  }
}
