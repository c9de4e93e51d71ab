// Bad configuration and secrets, through the real programs: a table of
// malformed configs for both, each stopping the program with exit 2 and one
// line naming the file, the key and what was expected; and a run of both with
// tokens and passwords in the config files and the environment, at debug
// level, whose whole output must not contain any of them.

import t from 'tap'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { agentEntries, writeConfig } from '../helpers/config.js'
import { refusedStatus } from '../helpers/fake-agent.js'
import { spawnProgram, freePort } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

const root = resolve(import.meta.dirname, '..', '..')
const HASH = 'a'.repeat(64)

// [program, name, YAML, key path, what the message must say]
const CASES: Array<[prog: 'kanshi-collector' | 'kanshi-agent', name: string, yaml: string, key: string, expected: RegExp]> = [
  ['kanshi-collector', 'port out of range', 'listen: { port: 99999 }', 'listen.port', /expected a TCP port \(0-65535\), got 99999/],
  ['kanshi-collector', 'port a string', 'listen: { port: http }', 'listen.port', /expected a TCP port/],
  ['kanshi-collector', 'typo in a key', 'listen: { hots: x }', 'listen.hots', /unknown key/],
  ['kanshi-collector', 'unknown top-level key', 'listn: {}', 'listn', /unknown key/],
  ['kanshi-collector', 'headers timeout not a duration', 'listen: { headersTimeout: soon }', 'listen.headersTimeout', /a duration/],
  ['kanshi-collector', 'request timeout under headers timeout', 'listen: { headersTimeout: 10s, requestTimeout: 1s }', 'listen.requestTimeout', /at least listen.headersTimeout/],
  ['kanshi-collector', 'influx version 3', 'influx: { version: 3 }', 'influx.version', /expected/],
  ['kanshi-collector', 'influx url without scheme', 'influx: { url: localhost:8086 }', 'influx.url', /http:\/\/ or https:\/\//],
  ['kanshi-collector', 'v2 without token', 'influx: { version: 2, url: "http://x", org: o, bucket: b }', 'influx.token', /non-empty string/],
  ['kanshi-collector', 'WAL size nonsense', 'wal: { maxBytes: lots }', 'wal.maxBytes', /a size/],
  ['kanshi-collector', 'agents not a list', 'agents: web01', 'agents', /expected/],
  ['kanshi-collector', 'agent without hash', 'agents: [ { id: web01 } ]', 'agents.0.tokenSha256', /expected/],
  ['kanshi-collector', 'hash too short', 'agents: [ { id: web01, tokenSha256: abc } ]', 'agents.0.tokenSha256', /64 hex digits/],
  ['kanshi-collector', 'next hash not hex', `agents: [ { id: web01, tokenSha256: ${HASH}, tokenSha256Next: ${'z'.repeat(64)} } ]`, 'agents.0.tokenSha256Next', /64 hex digits/],
  ['kanshi-collector', 'same hash for two agents', `agents: [ { id: a, tokenSha256: ${HASH} }, { id: b, tokenSha256: ${HASH.toUpperCase()} } ]`, 'agents.1.tokenSha256', /used by no other entry, got the same hash as agents.0.tokenSha256/],
  ['kanshi-collector', 'next hash equal to another agent', `agents: [ { id: a, tokenSha256: ${HASH} }, { id: b, tokenSha256: ${'b'.repeat(64)}, tokenSha256Next: ${HASH} } ]`, 'agents.1.tokenSha256Next', /used by no other entry/],
  ['kanshi-collector', 'duplicate agent id', `agents: [ { id: a, tokenSha256: ${HASH} }, { id: a, tokenSha256: ${'b'.repeat(64)} } ]`, 'agents.1.id', /unique agent id/],
  ['kanshi-collector', 'agent id with a space', `agents: [ { id: "web 01", tokenSha256: ${HASH} } ]`, 'agents.0.id', /without spaces/],
  ['kanshi-collector', 'API role unknown', `api: { tokens: [ { name: x, tokenSha256: ${HASH}, role: root } ] }`, 'api.tokens.0.role', /viewer, operator, admin/],
  ['kanshi-collector', 'connections per address zero', 'ingest: { maxConnectionsPerAddress: 0 }', 'ingest.maxConnectionsPerAddress', /expected/],
  ['kanshi-collector', 'log level unknown', 'log: { level: loud }', 'log.level', /one of fatal/],
  ['kanshi-collector', 'YAML syntax', 'listen: [1, 2', 'line', /invalid YAML/],
  ['kanshi-agent', 'no collector', 'id: web01', 'collector', /expected a map/],
  ['kanshi-agent', 'ws url with http scheme', 'id: w\ncollector: { url: "http://x/v1/agent", token: t }', 'collector.url', /ws:\/\/ or wss:\/\//],
  ['kanshi-agent', 'no token', 'id: w\ncollector: { url: "ws://x/v1/agent" }', 'collector.token', /KANSHI_AGENT_TOKEN, got missing/],
  ['kanshi-agent', 'interval prose', 'id: w\ncollector: { url: "ws://x/v1/agent", token: t }\ninterval: 10 seconds', 'interval', /a duration/],
  ['kanshi-agent', 'unknown input', 'id: w\ncollector: { url: "ws://x/v1/agent", token: t }\ninputs: { enabled: [cpu, gpu] }', 'inputs.enabled.1', /got "gpu"/],
  ['kanshi-agent', 'id with a space', 'id: web 01\ncollector: { url: "ws://x/v1/agent", token: t }', 'id', /without spaces/],
  ['kanshi-agent', 'backoff max under min', 'id: w\ncollector: { url: "ws://x/v1/agent", token: t, backoffMin: 10s, backoffMax: 1s }', 'collector.backoffMax', /at least collector.backoffMin/],
  ['kanshi-agent', 'typo in a key', 'id: w\ncollector: { url: "ws://x/v1/agent", token: t, tokn: x }', 'collector.tokn', /unknown key/],
  ['kanshi-agent', 'YAML syntax', 'id: [', 'line', /invalid YAML/]
]

t.test('malformed configs: exit 2 and one line "PROGRAM: FILE: key: expected …, got …"', async t => {
  const dir = await tmpDir(t)
  const env = { ...process.env }
  delete env['KANSHI_AGENT_TOKEN']
  const run = async (prog: string, file: string): Promise<{ status: number | null, stderr: string }> => await new Promise(resolve => {
    execFile(process.execPath, [join(root, 'bin', `${prog}.js`), '--config', file], { encoding: 'utf8', env }, (err, _out, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stderr })
    })
  })
  // Four at a time: each is a cold start of the program.
  const results: Array<{ status: number | null, stderr: string }> = []
  for (let i = 0; i < CASES.length; i += 4) {
    results.push(...await Promise.all(CASES.slice(i, i + 4).map(async ([prog, , yaml], j) => {
      const file = join(dir, `${i + j}.yaml`)
      writeFileSync(file, yaml + '\n')
      return await run(prog, file)
    })))
  }
  for (const [i, [prog, name, , key, expected]] of CASES.entries()) {
    const file = join(dir, `${i}.yaml`)
    const r = results[i]!
    t.equal(r.status, 2, `${prog} / ${name}: exit 2`)
    t.ok(r.stderr.startsWith(`${prog}: ${file}: ${key}`), `${prog} / ${name}: names file and key: ${r.stderr.trim()}`)
    t.match(r.stderr, expected, `${prog} / ${name}: says what was expected`)
    t.equal(r.stderr.trimEnd().split('\n').length, 1, `${prog} / ${name}: one line`)
  }
})

t.test('secrets in config and environment appear in no output line of either program, even at debug level', async t => {
  const dir = await tmpDir(t)
  const port = await freePort()
  const S = {
    agentToken: 'agent-token-in-config-7f3a9c',
    envAgentToken: 'agent-token-from-env-b81d2e',
    influxPassword: 'influx-password-in-config-55aa',
    envInfluxPassword: 'influx-password-from-env-c0ffee',
    smtpPassword: 'smtp-password-from-env-d00d',
    wrongToken: 'guessed-token-by-attacker-9999'
  }
  writeConfig(join(dir, 'collector.yaml'), {
    listen: { host: '127.0.0.1', port }, dataDir: join(dir, 'c'), log: { level: 'debug' },
    influx: { version: 1, url: 'http://127.0.0.1:1', db: 'kanshi', username: 'kanshi', password: S.influxPassword, timeout: '200ms' },
    alerting: { rulesDir: new URL('../fixtures/alert-rules/', import.meta.url).pathname, smtp: { host: '127.0.0.1', port: 1, from: 'k@example.jp', user: 'u' }, receivers: [], routes: [] },
    agents: agentEntries([{ id: 'sec', token: S.envAgentToken }, { id: 'sec2', token: S.agentToken }]).agents
  })
  writeConfig(join(dir, 'agent.yaml'), {
    id: 'sec', collector: { url: `ws://127.0.0.1:${port}/v1/agent`, token: S.agentToken, backoffMin: '50ms', backoffMax: '200ms' },
    interval: '1s', dataDir: join(dir, 'a'), inputs: { enabled: ['mem'] }, log: { level: 'debug' }
  })
  const c = await spawnProgram(t, 'collector', ['--config', join(dir, 'collector.yaml')], { env: { KANSHI_INFLUX_PASSWORD: S.envInfluxPassword, KANSHI_SMTP_PASSWORD: S.smtpPassword } })
  await c.waitForLine(l => l.includes('collector listening'), 20_000)
  // The env token wins over the one in the file; both are secrets.
  const a = await spawnProgram(t, 'agent', ['--config', join(dir, 'agent.yaml')], { env: { KANSHI_AGENT_TOKEN: S.envAgentToken } })
  await a.waitForLine(l => l.includes('connected to collector'), 20_000)
  await refusedStatus(`ws://127.0.0.1:${port}/v1/agent`, { token: S.wrongToken })
  await c.waitForLine(l => l.includes('agent authentication failed'), 5000)
  await new Promise(resolve => setTimeout(resolve, 2500)) // storage retries against the dead InfluxDB, with its credentials
  c.kill('SIGHUP')
  await c.waitForLine(l => l.includes('reloaded agents'), 5000)
  a.kill('SIGTERM')
  c.kill('SIGTERM')
  await Promise.all([a.waitExit(), c.waitExit()])
  const all = [...c.lines, ...a.lines]
  t.ok(all.length > 10, `${all.length} output lines checked`)
  for (const [name, secret] of Object.entries(S)) {
    const hits = all.filter(l => l.includes(secret))
    t.same(hits, [], `${name} appears in no line`)
  }
  t.ok(all.some(l => l.includes('storage write failing') || l.includes('ECONNREFUSED')), 'the InfluxDB errors (which carry the credentials in the request) were logged')
})
