// npm start: a collector and a local agent on this machine, from the example
// configs. The first run makes var/collector.yaml and var/agent.yaml with a
// fresh token (only its hash is stored by the collector); later runs reuse them.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs'
import { resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..', '..')
const varDir = resolve(root, 'var')
const collectorYaml = resolve(varDir, 'collector.yaml')
const agentYaml = resolve(varDir, 'agent.yaml')
const node = process.execPath
const say = (s: string): void => { process.stdout.write(s + '\n') }

function firstRun (): void {
  mkdirSync(varDir, { recursive: true, mode: 0o700 })
  const collector = readFileSync(resolve(root, 'examples/collector.yaml'), 'utf8').replace('dataDir: ./var/collector', 'dataDir: ./collector')
  writeFileSync(collectorYaml, collector, { mode: 0o600 })
  const r = spawnSync(node, [resolve(root, 'dist/collector/main.js'), 'token', 'add', 'local', '--role', 'server', '--site', 'local', '--config', collectorYaml], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`token add failed: ${r.stderr}`)
  const token = r.stdout.trim()
  const agent = readFileSync(resolve(root, 'examples/agent.yaml'), 'utf8')
    .replace(/^id: .*$/m, 'id: local')
    .replace('  # token: set here or in KANSHI_AGENT_TOKEN (required)', `  token: ${token}`)
    .replace('dataDir: ./var/agent', 'dataDir: ./agent')
    .replace("site: ''", 'site: local')
  writeFileSync(agentYaml, agent, { mode: 0o600 })
  say(`kanshi: first run — wrote ${collectorYaml} and ${agentYaml} (agent "local", new token)`)
}

function run (name: string, file: string): ChildProcess {
  const log = createWriteStream(resolve(varDir, `${name}.log`), { flags: 'a' })
  const child = spawn(node, [resolve(root, `dist/${name}/main.js`), '--config', file], { cwd: varDir, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout!.pipe(log)
  child.stderr!.on('data', (b: Buffer) => { process.stderr.write(b); log.write(b) })
  child.on('exit', (code, signal) => { say(`kanshi: ${name} exited (${signal ?? code})`); if (!stopping) shutdown(1) })
  return child
}

async function waitReady (url: string): Promise<string> {
  const until = Date.now() + 60_000
  for (;;) {
    try {
      const res = await fetch(url)
      return await res.text()
    } catch {
      if (Date.now() > until) throw new Error(`collector did not answer ${url} within 60 s; see var/collector.log`)
      await new Promise(resolve => setTimeout(resolve, 250))
    }
  }
}

let stopping = false
const children: ChildProcess[] = []
function shutdown (code: number): void {
  if (stopping) return
  stopping = true
  for (const c of children) c.kill('SIGTERM')
  setTimeout(() => process.exit(code), 5000).unref()
  Promise.all(children.map(c => new Promise(resolve => c.exitCode !== null ? resolve(null) : c.on('exit', resolve)))).then(() => process.exit(code), () => process.exit(code))
}

if (!existsSync(collectorYaml) || !existsSync(agentYaml)) firstRun()
children.push(run('collector', collectorYaml))
const ready = await waitReady('http://127.0.0.1:8080/readyz')
children.push(run('agent', agentYaml))
const influx = readFileSync(resolve(varDir, 'collector.log'), 'utf8').match(/"url":"(http:\/\/[^"]+)","dataDir"/)?.[1]
say('')
say('kanshi is running (Ctrl-C stops both):')
say('  collector      http://127.0.0.1:8080   (agents: ws://127.0.0.1:8080/v1/agent)')
say('  readiness      http://127.0.0.1:8080/readyz   ' + ready.slice(0, 160))
say('  metrics        http://127.0.0.1:8080/metrics          (these two need a viewer API token:')
say('  agents         http://127.0.0.1:8080/api/v1/agents     node dist/collector/main.js api-token add me --role viewer --config var/collector.yaml)')
if (influx !== undefined) {
  say(`  InfluxDB       ${influx}  (database "kanshi", data in var/influxdb)`)
  say(`  query          curl -sG '${influx}/query' --data-urlencode db=kanshi --data-urlencode "q=SELECT last(usage_percent) FROM cpu GROUP BY host"`)
} else {
  say('  InfluxDB       none — WAL-only: install influxd (Debian: apt-get install influxdb) or set influx.url in var/collector.yaml')
}
say('  logs           var/collector.log, var/agent.log')
process.on('SIGINT', () => shutdown(0))
process.on('SIGTERM', () => shutdown(0))
