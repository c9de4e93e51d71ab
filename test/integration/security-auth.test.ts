// Hostile clients at the door, against the real collector process: token
// rotation by SIGHUP (two valid tokens, then the old one revoked), the audit
// log of failures and reloads with `audit verify` catching a tampered DB, brute
// force limited and logged, slow-loris and idle sockets cut, a socket cap per
// address, and no secret in any log line.

import t, { type Test } from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { parse } from 'yaml'
import { sha256Hex } from '../../collector/ingest/auth.js'
import { agentEntries, asViewer, viewerApi, writeConfig } from '../helpers/config.js'
import { connectAgent, refusedStatus, type FakeAgent } from '../helpers/fake-agent.js'
import { spawnProgram, freePort, waitFor, within, type Program } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

const root = resolve(import.meta.dirname, '..', '..')
const cli = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin', 'kanshi-collector.js'), ...args], { encoding: 'utf8' })

/** open connects as an agent and says hello; the upgrade must be accepted. */
async function open (t: Test, url: string, token: string, id = 'web01', localAddress?: string): Promise<FakeAgent> {
  const a = await connectAgent(t, url, { token, id, ...(localAddress !== undefined ? { localAddress } : {}) })
  a.hello()
  return a
}

async function collectorIn (t: Test, extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): Promise<{ dir: string, file: string, url: string, port: number, start: () => Promise<Program> }> {
  const dir = await tmpDir(t)
  const port = await freePort()
  const { listen, ...rest } = extra
  const file = writeConfig(join(dir, 'collector.yaml'), {
    listen: { host: '127.0.0.1', port, ...(listen as object | undefined) },
    dataDir: './data',
    influx: { embedded: { enabled: false } },
    agents: agentEntries([{ id: 'web01', token: 'old-token-web01', role: 'server', site: 'honcho' }]).agents,
    ...rest
  }, 'rotation test')
  return {
    dir, file, port, url: `ws://127.0.0.1:${port}/v1/agent`,
    start: async () => {
      const c = await spawnProgram(t, 'collector', ['--config', file], { env })
      await c.waitForLine(l => l.includes('collector listening'), 20_000)
      return c
    }
  }
}

t.test('token rotation by SIGHUP: both tokens work for a while, then the old one is revoked and its session closed', async t => {
  const { file, url, start } = await collectorIn(t)
  const c = await start()
  const a = await open(t, url, 'old-token-web01')
  t.equal((await a.next()).type, 'welcome', 'the old token works')

  const r = cli(['token', 'rotate', 'web01', '--config', file])
  t.equal(r.status, 0, r.stderr)
  const next = r.stdout.trim()
  t.match(next, /^[A-Za-z0-9_-]{43}$/)
  const cfg = parse(readFileSync(file, 'utf8'))
  t.equal(cfg.agents[0].tokenSha256Next, sha256Hex(next), 'only the hash of the next token is stored')
  t.notMatch(readFileSync(file, 'utf8'), new RegExp(next))
  t.match(readFileSync(file, 'utf8'), /^# rotation test/, 'comments kept')
  t.equal(await refusedStatus(url, { token: next }), 401, 'not valid before the reload')
  c.kill('SIGHUP')
  await c.waitForLine(l => l.includes('reloaded agents'), 10_000)
  const b = await open(t, url, next)
  t.equal((await b.next()).type, 'welcome', 'the next token works after SIGHUP')
  t.equal(await a.closed, 4000, 'the older connection of the same agent is replaced, as always')
  const a2 = await open(t, url, 'old-token-web01')
  t.equal((await a2.next()).type, 'welcome', 'and the old token still works during the rotation')

  t.equal(cli(['token', 'finish', 'web01', '--config', file]).status, 0)
  const after = parse(readFileSync(file, 'utf8')).agents[0]
  t.same([after.tokenSha256, after.tokenSha256Next], [sha256Hex(next), undefined])
  t.equal(cli(['token', 'finish', 'web01', '--config', file]).status, 2, 'finishing twice is refused with one line')
  c.kill('SIGHUP')
  t.equal(await a2.closed, 4001, 'the session on the old token is closed at the reload')
  t.equal(await refusedStatus(url, { token: 'old-token-web01' }), 401, 'the old token is refused from then on')
  const b2 = await open(t, url, next)
  t.equal((await b2.next()).type, 'welcome', 'the new token carries on')
  c.kill('SIGTERM')
  t.equal(await c.waitExit(), 0)
})

t.test('audit log: auth failures, a claimed id, brute force and reloads are recorded; audit verify catches edits, deletions and a cut tail', async t => {
  const { dir, file, url, start } = await collectorIn(t, { ingest: { maxErrorsPerMinute: 3 } })
  const c = await start()
  t.equal(await refusedStatus(url, { localAddress: '127.0.0.2' }), 401, 'no token')
  t.equal(await refusedStatus(url, { token: 'wrong-token', localAddress: '127.0.0.2' }), 401, 'wrong token')
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push(await refusedStatus(url, { token: `guess-${i}`, localAddress: '127.0.0.3' }))
  t.same(statuses, [401, 401, 401, 429, 429], 'brute force from one address: refused for a minute after 3 failures')
  await c.waitForLine(l => l.includes('this address is refused for a minute') && l.includes('127.0.0.3'), 5000)
  const good = await open(t, url, 'old-token-web01', 'web01', '127.0.0.4')
  t.equal((await good.next()).type, 'welcome', 'another address is not blocked')
  const liar = await open(t, url, 'old-token-web01', 'kiosk9', '127.0.0.4')
  t.equal((await liar.next()).code, 'E_ID_MISMATCH', "another agent's id is refused")
  t.equal(await liar.closed, 1008)
  c.kill('SIGHUP')
  await c.waitForLine(l => l.includes('reloaded agents'), 10_000)
  c.kill('SIGTERM')
  await c.waitExit()

  const db = new Database(join(dir, 'data', 'audit.db'), { readonly: true })
  const rows = db.prepare('SELECT id, actor, action, detail FROM audit ORDER BY id').all() as Array<{ id: number, action: string, detail: string }>
  db.close()
  const actions = rows.map(r => r.action)
  t.same(actions, ['agent.auth_failed', 'agent.auth_failed', 'agent.auth_failed', 'agent.auth_failed', 'agent.auth_failed', 'agent.auth_blocked', 'agent.id_mismatch', 'agents.reload'], 'every failure once, the block once, the reload')
  t.match(JSON.parse(rows[0]!.detail), { remote: '127.0.0.2', reason: 'missing' })
  t.match(JSON.parse(rows[1]!.detail), { remote: '127.0.0.2', reason: 'invalid', tokenSha256Prefix: sha256Hex('wrong-token').slice(0, 12) })
  t.match(JSON.parse(rows[6]!.detail), { agent: 'web01', claimed: 'kiosk9' })
  t.notOk(rows.some(r => r.detail.includes('guess-') || r.detail.includes('wrong-token')), 'no presented token is stored')

  const ok = cli(['audit', 'verify', '--config', file])
  t.equal(ok.status, 0, ok.stderr)
  t.match(ok.stdout, /audit\.db: 8 records, chain intact/)

  const tampered = (name: string, sql: string[]): ReturnType<typeof cli> => {
    const copy = join(dir, name)
    const cfg = join(dir, `${name}.yaml`)
    spawnSync('mkdir', ['-p', join(copy, 'data')])
    copyFileSync(join(dir, 'data', 'audit.db'), join(copy, 'data', 'audit.db'))
    const w = new Database(join(copy, 'data', 'audit.db'))
    // What an intruder with write access to the file does: drop the triggers, then edit.
    w.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;')
    for (const s of sql) w.exec(s)
    w.close()
    writeFileSync(cfg, `dataDir: ${join(copy, 'data')}\n`)
    return cli(['audit', 'verify', '--config', cfg])
  }
  const edited = tampered('edited', [`UPDATE audit SET detail = '{"remote":"10.0.0.1","reason":"missing"}' WHERE id = 3`])
  t.equal(edited.status, 1, 'an edited record fails verification')
  t.match(edited.stderr, /audit\.db: audit record 3 is broken: its content does not match its hash/)
  const rehashed = tampered('rehashed', ["UPDATE audit SET actor = 'someone' WHERE id = 3", "UPDATE audit SET hash = 'x' || substr(hash, 2) WHERE id = 3"])
  t.equal(rehashed.status, 1)
  t.match(rehashed.stderr, /audit record 3 is broken/)
  const deleted = tampered('deleted', ['DELETE FROM audit WHERE id = 5'])
  t.equal(deleted.status, 1, 'a removed record fails verification')
  t.match(deleted.stderr, /audit record 6 is broken: records 5\.\.5 are missing/)
  const cut = tampered('cut', ['DELETE FROM audit WHERE id >= 7'])
  t.equal(cut.status, 1, 'a cut tail fails verification')
  t.match(cut.stderr, /audit record 7 is broken: records 7\.\.8 at the end are missing/)
})

/** sock opens a raw TCP socket and resolves when it is connected; closedAt records when the server cut it. */
function sock (port: number, localAddress = '127.0.0.1'): Promise<{ s: Socket, closedAt: Promise<number>, closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', localAddress })
    s.on('error', () => {})
    let done = false
    const closedAt = new Promise<number>(r => s.once('close', () => { done = true; r(Date.now()) }))
    s.once('connect', () => resolve({ s, closedAt, closed: () => done }))
    s.once('error', reject)
  })
}

t.test('slow-loris and idle sockets are cut at listen.headersTimeout; sockets per address are capped', async t => {
  // requestTimeout far above headersTimeout: a cut well before 10 s is the header deadline's doing. Node checks
  // it every second, so a cut comes 1-2 s after the first byte, later on a loaded machine.
  const { url, port, start } = await collectorIn(t, { listen: { headersTimeout: '1s', requestTimeout: '10s' }, ingest: { maxConnectionsPerAddress: 50 }, api: viewerApi() })
  const c = await start()
  // Every wait is bounded and names its step: a hang (one CI run waited here until tap's 300 s timeout)
  // fails saying where, whether the collector still answers, and its last lines.
  const step = async <T>(p: Promise<T>, what: string): Promise<T> => {
    try { return await within(p, 15_000, what) } catch (err) {
      const answers = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) }).then(r => `answers /healthz with ${r.status}`, (e: unknown) => `does not answer /healthz (${String(e)})`)
      throw new Error(`${String(err)}; the collector (exit ${c.child.exitCode ?? c.child.signalCode ?? 'none'}) ${answers}; its last lines:\n${c.lines.slice(-15).join('\n')}`)
    }
  }
  const t0 = Date.now()
  const loris = await step(sock(port), 'connect the slow-loris socket')
  loris.s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n')
  const drip = setInterval(() => loris.s.write('X-Slow: 1\r\n'), 300)
  t.teardown(() => clearInterval(drip))
  const idle = await step(sock(port), 'connect the idle socket')
  const cutLoris = await step(loris.closedAt, 'the slow-loris socket is cut (headersTimeout 1 s)')
  clearInterval(drip)
  const cutIdle = await step(idle.closedAt, 'the idle socket is cut (no byte within headersTimeout)')
  t.ok(cutLoris - t0 < 6000, `a header trickle is cut after ${cutLoris - t0} ms (headersTimeout 1 s, checked every second; requestTimeout 10 s)`)
  t.ok(cutIdle - t0 < 6000, `a silent socket is cut after ${cutIdle - t0} ms`)

  const many = await step(Promise.all(Array.from({ length: 200 }, async () => await sock(port))), 'connect 200 sockets')
  const gone = await Promise.all(many.map(async m => await Promise.race([m.closedAt.then(() => true), new Promise<boolean>(resolve => setTimeout(() => resolve(false), 500))])))
  const cut = gone.filter(Boolean).length
  t.equal(cut, 150, '200 idle sockets from one address: the 150 over the cap of 50 are closed at once')
  const other = await open(t, url, 'old-token-web01', 'web01', '127.0.0.5')
  t.equal((await other.next()).type, 'welcome', 'an agent on another address connects meanwhile')
  await waitFor(() => many.every(m => m.closed()), 5000, 100)
  t.pass('the 50 idle ones under the cap are cut by the header deadline too')
  const again = await open(t, url, 'old-token-web01')
  t.equal((await again.next()).type, 'welcome', 'the address may connect again afterwards')
  const stats = await step((async () => await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: asViewer, signal: AbortSignal.timeout(10_000) })).text())(), 'GET /metrics')
  t.match(stats, /kanshi_auth_failures_total\{reason="too_many_connections"\} 150/)
})

t.test('TLS: an agent refuses a self-signed collector certificate unless given its CA, and never sends the token to it', async t => {
  const dir = await tmpDir(t)
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
  const { url, start } = await collectorIn(t, { listen: { tls: { cert, key } } })
  const c = await start()
  const wss = url.replace('ws://', 'wss://')
  const agent = async (extra: Record<string, unknown>) => {
    const a = join(dir, `agent-${Object.keys(extra).join('-') || 'default'}.yaml`)
    writeFileSync(a, JSON.stringify({ id: 'web01', collector: { url: wss, backoffMin: '100ms', backoffMax: '200ms', ...extra }, interval: '1s', dataDir: join(dir, `a-${Object.keys(extra).length}`), inputs: { enabled: ['mem'] } }))
    return await spawnProgram(t, 'agent', ['--config', a], { env: { KANSHI_AGENT_TOKEN: 'old-token-web01' } })
  }
  const refused = await agent({})
  await refused.waitForLine(l => /self[- ]signed|certificate/i.test(l), 15_000)
  await new Promise(resolve => setTimeout(resolve, 1000))
  t.notOk(refused.lines.some(l => l.includes('connected to collector')), 'without the CA the agent does not connect')
  t.notOk(c.lines.some(l => l.includes('agent connected')), 'and the collector saw no authenticated agent')
  refused.kill('SIGTERM')
  await refused.waitExit()
  const trusted = await agent({ ca: cert })
  await trusted.waitForLine(l => l.includes('connected to collector'), 20_000)
  t.pass('with collector.ca set to the certificate it connects over wss')
})
