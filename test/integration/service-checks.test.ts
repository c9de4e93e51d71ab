// Service checks against real servers, ports, processes and files on this
// machine, and their parsers on recorded tool outputs.

import t from 'tap'
import { createServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync, writeFileSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { httpCheck } from '../../agent/inputs/checks/http.js'
import { tcpCheck } from '../../agent/inputs/checks/tcp.js'
import { processCheck } from '../../agent/inputs/checks/process.js'
import { fileCheck } from '../../agent/inputs/checks/file.js'
import { parseGetPrinterJson, parseLpstat, parseScQuery, parseSystemctlShow } from '../../agent/inputs/checks/parsers.js'
import { ServiceChecks } from '../../agent/inputs/checks/service.js'
import { PointAccumulator } from '../../agent/inputs/input.js'
import { checkAgentConfig } from '../../agent/config.js'
import { freePort } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

const fx = (f: string) => readFileSync(new URL(`../fixtures/checks/${f}`, import.meta.url), 'utf8')
const run = (c: (s: AbortSignal) => Promise<unknown>) => c(new AbortController().signal) as Promise<{ up: boolean, message: string, responseMs?: number, fields?: Record<string, number> }>

t.test('http: up, wrong status, body match, refused', async t => {
  const server = createServer((req, res) => {
    if (req.url === '/health') { res.writeHead(200).end('{"status":"ok","db":"接続OK"}'); return }
    res.writeHead(500).end('boom')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const ok = await run(httpCheck({ url: `${base}/health`, bodyMatch: /接続OK/ }))
  t.equal(ok.up, true)
  t.equal(ok.fields?.['status'], 200)
  t.ok(ok.responseMs! >= 0 && ok.responseMs! < 5000)
  const bad = await run(httpCheck({ url: `${base}/other` }))
  t.same([bad.up, bad.message], [false, 'HTTP 500, expected 200/201/202/203/204/301/302/303/304/307/308'])
  const body = await run(httpCheck({ url: `${base}/health`, bodyMatch: /NG/ }))
  t.same([body.up, body.message], [false, 'HTTP 200 but the body does not match /NG/'])
  const port = await freePort()
  const down = await run(httpCheck({ url: `http://127.0.0.1:${port}/` }))
  t.equal(down.up, false)
  t.match(down.message, /ECONNREFUSED/)
})

t.test('http: a certificate close to expiry is down, with the days left', async t => {
  const dir = await tmpDir(t)
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '10', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' })
  const server = createHttpsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) => res.writeHead(200).end('ok'))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/`
  const r = await run(httpCheck({ url, insecureSkipVerify: true, certMinDays: 30 }))
  t.equal(r.up, false)
  t.ok(r.fields?.['cert_days_left'] === 9 || r.fields?.['cert_days_left'] === 10, `cert_days_left ${r.fields?.['cert_days_left']}`)
  t.match(r.message, /^certificate expires in (9|10) days$/)
  const strict = await run(httpCheck({ url }))
  t.equal(strict.up, false, 'a self-signed certificate is refused unless insecureSkipVerify')
})

t.test('a check that hangs is reported down with the reason, and gather never waits for it', async t => {
  const server = createServer(() => { /* never answers */ })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
  const sc = new ServiceChecks([{ name: 'portal', type: 'http', intervalMs: 60_000, timeoutMs: 300, check: httpCheck({ url }) }])
  const t0 = Date.now()
  const acc0 = new PointAccumulator(t0)
  await sc.gather(acc0)
  t.ok(Date.now() - t0 < 50 && acc0.points.length === 0, 'gather returns at once with nothing before the first result')
  await sc.runOnce((sc as unknown as { specs: Parameters<ServiceChecks['runOnce']>[0][] }).specs[0]!)
  const acc = new PointAccumulator(Date.now())
  await sc.gather(acc)
  t.same(acc.points.map(p => [p.tags, p.f]), [[{ service: 'portal', check: 'http' }, { up: 0, message: 'timed out after 300 ms' }]])
  await sc.close()
})

t.test('tcp: open and closed ports', async t => {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const open = await run(tcpCheck('127.0.0.1', (server.address() as { port: number }).port))
  t.equal(open.up, true)
  const closed = await run(tcpCheck('127.0.0.1', await freePort()))
  t.same([closed.up, closed.message.startsWith('ECONNREFUSED')], [false, true])
})

t.test('process: real child processes counted by command line, against min and max', async t => {
  const marker = `kanshi-proc-test-${process.pid}`
  const kids = [0, 1].map(() => spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', marker], { stdio: 'ignore' }))
  t.teardown(() => { for (const k of kids) k.kill() })
  await new Promise(resolve => setTimeout(resolve, 200))
  const pattern = new RegExp(marker)
  t.same(await run(processCheck({ pattern, min: 2 })), { up: true, message: `2 ${pattern} running`, fields: { count: 2 } })
  t.equal((await run(processCheck({ pattern, min: 1, max: 1 }))).up, false, 'max 1 is exceeded')
  t.equal((await run(processCheck({ name: 'no-such-daemon', min: 1 }))).message, '0 no-such-daemon running, expected at least 1')
})

t.test('file freshness (backups): age and size', async t => {
  const dir = await tmpDir(t)
  writeFileSync(join(dir, 'backup-20261122.tar.gz'), Buffer.alloc(2048))
  writeFileSync(join(dir, 'backup-20261121.tar.gz'), Buffer.alloc(4096))
  utimesSync(join(dir, 'backup-20261121.tar.gz'), new Date(Date.now() - 50 * 3600_000), new Date(Date.now() - 50 * 3600_000))
  const ok = await run(fileCheck({ path: join(dir, 'backup-*.tar.gz'), maxAgeMs: 26 * 3600_000, minBytes: 1024 }))
  t.equal(ok.up, true)
  t.match(ok.message, /^backup-20261122\.tar\.gz: 2048 bytes/)
  t.equal((await run(fileCheck({ path: join(dir, 'backup-*.tar.gz'), maxAgeMs: 26 * 3600_000, minBytes: 4096 }))).message, 'backup-20261122.tar.gz has 2048 bytes, expected at least 4096')
  utimesSync(join(dir, 'backup-20261122.tar.gz'), new Date(Date.now() - 30 * 3600_000), new Date(Date.now() - 30 * 3600_000))
  t.equal((await run(fileCheck({ path: join(dir, 'backup-*.tar.gz'), maxAgeMs: 26 * 3600_000 }))).message, 'backup-20261122.tar.gz is 30 h old')
  t.equal((await run(fileCheck({ path: join(dir, 'nothing-*'), maxAgeMs: 1000 }))).up, false)
})

t.test('parsers on recorded outputs', async t => {
  t.same(parseLpstat(fx('lpstat-idle.txt')), { state: 'ready', message: 'idle' })
  t.same(parseLpstat(fx('lpstat-paper.txt')), { state: 'paper_out', message: 'paper out' })
  t.same(parseLpstat(fx('lpstat-offline.txt')), { state: 'offline', message: 'The printer is not connected.' })
  t.same(parseScQuery(fx('sc-running.txt')), { up: true, message: 'RUNNING' })
  t.same(parseScQuery(fx('sc-stopped.txt')), { up: false, message: 'STOPPED' })
  t.same(parseScQuery(fx('sc-missing.txt')), { up: false, message: 'sc query failed 1060: The specified service does not exist as an installed service.' })
  t.same(parseGetPrinterJson(fx('get-printer-normal.json')), { state: 'ready', message: 'Normal' })
  t.same(parseGetPrinterJson(fx('get-printer-paperout.json')), { state: 'paper_out', message: 'PaperOut' })
  t.same(parseSystemctlShow(fx('systemctl-running.txt')), { up: true, message: 'active (running)' })
  t.same(parseSystemctlShow(fx('systemctl-failed.txt')), { up: false, message: 'failed (failed)' })
})

t.test('a bad check entry names the check and the key', async t => {
  const base = { id: 'a', collector: { url: 'ws://x/v1/agent', token: 't' } }
  t.throws(() => checkAgentConfig('agent.yaml', { ...base, checks: [{ name: 'portal', type: 'http' }] }, {}), { message: 'agent.yaml: checks.0(portal).url: expected a URL for a http check, got missing' })
  t.throws(() => checkAgentConfig('agent.yaml', { ...base, checks: [{ name: 'db', type: 'process' }] }, {}), { message: /checks\.0\(db\)\.match: expected match \(a process name\) or pattern/ })
  t.throws(() => checkAgentConfig('agent.yaml', { ...base, checks: [{ name: 'x', type: 'smtp' }] }, {}), { message: /^agent.yaml: checks.0.type: expected one of http, tcp, process, systemd, windows, printer, file/ })
})
