// The programs as an operator runs them: --help, one clear line and exit 2 on a
// bad config, and token add storing only a hash that then authenticates.

import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse } from 'yaml'
import { sha256Hex } from '../../collector/ingest/auth.js'
import { spawnProgram, freePort } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

const root = resolve(import.meta.dirname, '..', '..')
const run = (prog: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(root, 'bin', `${prog}.js`), ...args], { encoding: 'utf8', env: { ...process.env, ...env } })

t.test('--help on both programs', async t => {
  for (const p of ['kanshi-collector', 'kanshi-agent']) {
    const r = run(p, ['--help'])
    t.equal(r.status, 0, `${p} --help exits 0`)
    t.match(r.stdout, /--config FILE/)
    t.match(run(p, ['--version']).stdout, /^\d+\.\d+\.\d+\n$/, `${p} --version`)
  }
})

t.test('a bad config: exit 2 and one line naming file, key and expectation', async t => {
  const dir = await tmpDir(t)
  const file = join(dir, 'collector.yaml')
  writeFileSync(file, 'listen: { port: 99999 }\n')
  const r = run('kanshi-collector', ['--config', file])
  t.equal(r.status, 2)
  t.equal(r.stderr, `kanshi-collector: ${file}: listen.port: expected a TCP port (0-65535), got 99999\n`)
  const a = join(dir, 'agent.yaml')
  writeFileSync(a, 'collector: { url: ws://x/v1/agent }\n')
  const r2 = run('kanshi-agent', ['--config', a])
  t.equal(r2.status, 2)
  t.match(r2.stderr, new RegExp(`^kanshi-agent: ${a}: collector.token: expected the agent token here or in KANSHI_AGENT_TOKEN, got missing\\n$`))
})

t.test('agent --check-config: ok on a good file, the one-line error on a bad one, and nothing started', async t => {
  const dir = await tmpDir(t)
  const good = join(dir, 'agent.yaml')
  writeFileSync(good, 'id: kiosk01\ncollector: { url: ws://127.0.0.1:1/v1/agent, token: t }\nlogs: [ { path: /var/log/app/*.log, encoding: cp932 } ]\n')
  const r = run('kanshi-agent', ['--check-config', '--config', good])
  t.equal(r.status, 0)
  t.equal(r.stdout, `${good}: ok (agent kiosk01; 0 checks; 1 log sources)\n`)
  const bad = join(dir, 'bad.yaml')
  writeFileSync(bad, 'collector: { url: ws://127.0.0.1:1/v1/agent, token: t }\nlogs: [ { path: /a.log, encoding: sjis } ]\n')
  const r2 = run('kanshi-agent', ['--check-config', '--config', bad])
  t.equal(r2.status, 2)
  t.match(r2.stderr, /: logs\.0\.encoding: expected one of utf8, shift_jis, cp932, euc-jp, latin1, got "sjis"\n$/)
})

t.test('collector --check-config and api-token add', async t => {
  const dir = await tmpDir(t)
  const file = join(dir, 'collector.yaml')
  writeFileSync(file, `# collector\ndataDir: ./data\ninflux: { version: 1, url: http://127.0.0.1:1, db: kanshi }\napi:\n  tokens: []\n`, { mode: 0o600 })
  const ok = run('kanshi-collector', ['--check-config', '--config', file])
  t.equal(ok.status, 0, ok.stderr)
  t.equal(ok.stdout, `${file}: ok (0 agents; 0 API tokens; alerting off; storage InfluxDB 1 at http://127.0.0.1:1)\n`)
  t.equal(run('kanshi-collector', ['api-token', 'add', 'noc', '--role', 'root', '--config', file]).stderr, 'kanshi-collector: --role: expected viewer, operator or admin, got "root"\n')
  const r = run('kanshi-collector', ['api-token', 'add', 'yamada', '--role', 'operator', '--config', file])
  t.equal(r.status, 0, r.stderr)
  const token = r.stdout.trim()
  t.match(token, /^[A-Za-z0-9_-]{43}$/)
  const text = readFileSync(file, 'utf8')
  t.notMatch(text, new RegExp(token), 'only the hash is stored')
  t.same(parse(text).api.tokens, [{ name: 'yamada', tokenSha256: sha256Hex(token), role: 'operator' }])
  t.match(text, /^# collector/, 'comments kept')
  t.equal(run('kanshi-collector', ['api-token', 'add', 'yamada', '--role', 'viewer', '--config', file]).status, 2, 'a second token with the same name is refused')
  t.match(run('kanshi-collector', ['--check-config', '--config', file]).stdout, /1 API tokens/)
  writeFileSync(join(dir, 'bad.yaml'), 'listen: { port: 99999 }\n')
  const bad = run('kanshi-collector', ['--check-config', '--config', join(dir, 'bad.yaml')])
  t.equal(bad.status, 2)
  t.match(bad.stderr, /bad\.yaml: listen\.port: expected a TCP port/)
})

t.test('token add prints a token once, stores only its hash, keeps comments, and the token works', async t => {
  const dir = await tmpDir(t)
  const file = join(dir, 'collector.yaml')
  const port = await freePort()
  // The embedded influxd on a free port: 8086 may be held by another test's or the system's InfluxDB.
  writeFileSync(file, `# our collector\nlisten: { host: 127.0.0.1, port: ${port} }\ndataDir: ./data\ninflux: { embedded: { port: 0 } }\nagents: []\n`, { mode: 0o640 })
  const r = run('kanshi-collector', ['token', 'add', 'kiosk7', '--role', 'kiosk', '--site', '本庁舎', '--config', file])
  t.equal(r.status, 0, r.stderr)
  const token = r.stdout.trim()
  t.match(token, /^[A-Za-z0-9_-]{43}$/, '256-bit token, base64url')
  const text = readFileSync(file, 'utf8')
  t.notMatch(text, new RegExp(token), 'the token itself is not stored')
  t.match(text, /^# our collector/, 'comments kept')
  t.equal(statSync(file).mode & 0o777, 0o640, 'mode kept, so the service user can still read it')
  t.same(parse(text).agents, [{ id: 'kiosk7', tokenSha256: sha256Hex(token), role: 'kiosk', site: '本庁舎' }])
  t.equal(run('kanshi-collector', ['token', 'add', 'kiosk7', '--config', file]).status, 2, 'a second token for the same id is refused')
  writeFileSync(join(dir, 'agent.yaml'), `id: kiosk7\ncollector: { url: ws://127.0.0.1:${port}/v1/agent }\ninterval: 1s\ndataDir: ./agent\ninputs: { enabled: [mem] }\n`)
  const c = await spawnProgram(t, 'collector', ['--config', file])
  await c.waitForLine(l => l.includes('collector listening'), 20_000)
  const a = await spawnProgram(t, 'agent', ['--config', join(dir, 'agent.yaml')], { env: { KANSHI_AGENT_TOKEN: token }, cwd: dir })
  await a.waitForLine(l => l.includes('connected to collector'), 20_000)
  t.notOk(a.lines.concat(c.lines).some(l => l.includes(token)), 'the token appears in no log line')
  c.kill('SIGTERM')
  t.equal(await c.waitExit(), 0, 'graceful stop exits 0')
})
