// type: command with real Monitoring Plugins (Debian monitoring-plugins-basic):
// check_tcp, check_disk, check_http against loopback; a hanging plugin killed
// with its children; exit codes, env, cwd and output caps through real processes.

import t from 'tap'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import { chmodSync, existsSync, readFileSync, statfsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { commandCheck } from '../../agent/inputs/checks/nagios.js'
import { ServiceChecks } from '../../agent/inputs/checks/service.js'
import { PointAccumulator } from '../../agent/inputs/input.js'
import { checkAgentConfig } from '../../agent/config.js'
import { freePort } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

const PLUGINS = '/usr/lib/nagios/plugins'
const have = existsSync(join(PLUGINS, 'check_tcp'))
const skip = have ? false : 'monitoring-plugins-basic is not installed (scripts/test.sh installs it)'
type R = { up: boolean, message: string, responseMs?: number, fields?: Record<string, number> }
const run = async (command: string[], o: { timeoutMs?: number, env?: Record<string, string>, cwd?: string, maxOutputBytes?: number } = {}): Promise<R> =>
  (await commandCheck({ command, timeoutMs: o.timeoutMs ?? 10_000, ...o })(new AbortController().signal)) as R

/** alive tells whether a pid is a running process (a zombie awaiting its parent counts as gone). */
function alive (pid: number): boolean {
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')) } catch { return false }
}

t.test('check_tcp: a listening port is OK with its time, a closed one CRITICAL', { skip }, async t => {
  const server = createTcpServer(s => s.end())
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const port = (server.address() as { port: number }).port
  const ok = await run([join(PLUGINS, 'check_tcp'), '-H', '127.0.0.1', '-p', String(port), '-w', '3', '-c', '5'])
  t.equal(ok.fields?.['status'], 0)
  t.equal(ok.up, true)
  t.match(ok.message, new RegExp(`^TCP OK - [\\d.]+ second response time on 127\\.0\\.0\\.1 port ${port}`))
  t.ok(ok.fields!['time_s']! >= 0 && ok.fields!['time_s']! < 3, `time_s ${ok.fields?.['time_s']}`)
  t.equal(ok.fields?.['time_s_warn'], 3, 'the -w threshold, in seconds')
  t.equal(ok.fields?.['time_s_crit'], 5)
  const closed = await freePort()
  const bad = await run([join(PLUGINS, 'check_tcp'), '-H', '127.0.0.1', '-p', String(closed)])
  t.equal(bad.fields?.['status'], 2)
  t.equal(bad.up, false)
  t.match(bad.message, /Connection refused/)
})

t.test('check_disk: thresholds that force WARNING; used bytes as in statfs', { skip }, async t => {
  const dir = await tmpDir(t)
  const s = statfsSync(dir)
  const freePct = 100 * s.bavail / (s.bavail + (s.blocks - s.bfree))
  // warn below 100 % free (always), critical below 0 % (never): WARNING whatever the disk holds.
  const r = await run([join(PLUGINS, 'check_disk'), '-w', '100%', '-c', '0%', '-p', dir])
  t.equal(r.fields?.['status'], 1, r.message)
  t.equal(r.up, false, 'up is 1 only for OK')
  t.match(r.message, /^DISK WARNING/)
  const used = Object.entries(r.fields!).find(([k]) => k.endsWith('_bytes') && !/_(warn|crit|min|max)(_low)?$/.test(k))
  t.ok(used !== undefined, `a used-space field in ${Object.keys(r.fields!).join(', ')}`)
  const expectUsed = (s.blocks - s.bfree) * s.bsize
  t.ok(Math.abs(used![1] - expectUsed) / s.blocks / s.bsize < 0.02, `used ${used![1]} ≈ statfs ${expectUsed} (free ${freePct.toFixed(1)} %)`)
  const max = r.fields?.[`${used![0]}_max`] ?? NaN
  t.ok(Math.abs(max - s.blocks * s.bsize) / (s.blocks * s.bsize) < 0.001, `max ${max} is the file system size ${s.blocks * s.bsize} (check_disk leaves out a few blocks)`)
})

t.test('check_http against a local server: OK with time and size, 500 CRITICAL', { skip }, async t => {
  const body = '{"status":"ok","db":"接続OK"}'
  const server = createHttpServer((req, res) => {
    if (req.url === '/health') { res.writeHead(200, { 'content-type': 'application/json' }).end(body); return }
    res.writeHead(500).end('boom')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const port = String((server.address() as { port: number }).port)
  const ok = await run([join(PLUGINS, 'check_http'), '-H', '127.0.0.1', '-p', port, '-u', '/health', '-s', '"ok"', '-w', '2', '-c', '4'])
  t.equal(ok.fields?.['status'], 0, ok.message)
  t.match(ok.message, /^HTTP OK: HTTP\/1\.1 200 OK/)
  t.equal(ok.fields?.['time_s_warn'], 2)
  t.equal(ok.fields?.['time_s_crit'], 4)
  t.ok(ok.fields!['size_bytes']! > Buffer.byteLength(body), 'size counts headers and body')
  const bad = await run([join(PLUGINS, 'check_http'), '-H', '127.0.0.1', '-p', port, '-u', '/other'])
  t.equal(bad.fields?.['status'], 2)
  t.match(bad.message, /500/)
})

t.test('a plugin that hangs is killed at the timeout with every child: UNKNOWN', async t => {
  const dir = await tmpDir(t)
  const script = join(dir, 'check_hang')
  const pids = join(dir, 'pids')
  writeFileSync(script, `#!/bin/sh\nsleep 300 &\necho $! > ${pids}\necho $$ >> ${pids}\nexec sleep 301\n`)
  chmodSync(script, 0o755)
  const t0 = Date.now()
  const r = await run([script], { timeoutMs: 700 })
  const took = Date.now() - t0
  t.equal(r.fields?.['status'], 3)
  t.equal(r.up, false)
  t.match(r.message, /^UNKNOWN: .*check_hang timed out after 700 ms/)
  t.ok(took >= 700 && took < 5000, `returned after ${took} ms`)
  const [child, self] = readFileSync(pids, 'utf8').trim().split('\n').map(Number)
  await new Promise(resolve => setTimeout(resolve, 200))
  t.notOk(alive(child!), `the background child ${child} is gone`)
  t.notOk(alive(self!), `the plugin ${self} is gone`)
})

t.test('a plugin that exits but leaves a child holding its stdout is not waited for', async t => {
  const dir = await tmpDir(t)
  const script = join(dir, 'check_bg')
  const pids = join(dir, 'pids')
  writeFileSync(script, `#!/bin/sh\nsleep 300 &\necho $! > ${pids}\necho 'OK - forked | n=1'\nexit 0\n`)
  chmodSync(script, 0o755)
  const t0 = Date.now()
  const r = await run([script], { timeoutMs: 10_000 })
  t.ok(Date.now() - t0 < 3000, 'returned when the plugin exited, not at the timeout')
  t.same([r.fields?.['status'], r.message, r.fields?.['n']], [0, 'OK - forked', 1])
  await new Promise(resolve => setTimeout(resolve, 200))
  t.notOk(alive(Number(readFileSync(pids, 'utf8').trim())), 'its leftover child was killed')
})

t.test('exit codes, missing programs, no shell, env, cwd, output cap', async t => {
  const dir = await tmpDir(t)
  const script = join(dir, 'check_x')
  writeFileSync(script, '#!/bin/sh\necho "WARNING - $FOO in $(pwd) | \'queue len\'=$2;10;20"\necho "second line"\nexit $1\n')
  chmodSync(script, 0o755)
  process.env['KANSHI_AGENT_TOKEN'] = 'secret-agent-token'
  t.teardown(() => { delete process.env['KANSHI_AGENT_TOKEN'] })
  writeFileSync(script, '#!/bin/sh\necho "WARNING - $FOO in $(pwd) token=$KANSHI_AGENT_TOKEN | \'queue len\'=$2;10;20"\necho "second line"\nexit $1\n')
  const w = await run([script, '1', '15'], { env: { FOO: 'foo bar' }, cwd: dir })
  t.same([w.fields?.['status'], w.message], [1, `WARNING - foo bar in ${dir} token=`], 'the agent\'s own secrets are not passed to plugins')
  t.same([w.fields?.['queue_len'], w.fields?.['queue_len_warn'], w.fields?.['queue_len_crit']], [15, 10, 20])
  const odd = await run([script, '7', '1'])
  t.equal(odd.fields?.['status'], 3)
  t.match(odd.message, /\(exit code 7\)$/)
  const missing = await run([join(dir, 'nope')])
  t.same([missing.fields?.['status'], missing.message], [3, `UNKNOWN: cannot run ${join(dir, 'nope')}: ENOENT`])
  const noShell = await run([script, '0; touch pwned', '1'])
  t.not(noShell.fields?.['status'], 0, 'the argument reaches the script as text (exit: illegal number), not as a command')
  t.notOk(existsSync(join(dir, 'pwned')))
  const big = join(dir, 'check_big')
  writeFileSync(big, '#!/bin/sh\necho "OK - big | a=1"\nhead -c 300000 /dev/zero | tr "\\0" x\nexit 0\n')
  chmodSync(big, 0o755)
  const capped = await run([big], { maxOutputBytes: 4096 })
  t.equal(capped.fields?.['status'], 0)
  t.equal(capped.message, 'OK - big')
  t.equal(capped.fields?.['output_truncated'], 300000 + 'OK - big | a=1\n'.length - 4096, 'bytes dropped are counted')
  const stderrOnly = join(dir, 'check_err')
  writeFileSync(stderrOnly, '#!/bin/sh\necho "plugin config error" >&2\nexit 3\n')
  chmodSync(stderrOnly, 0o755)
  t.same((await run([stderrOnly])).message, 'plugin config error', 'stderr is the message when stdout is empty')
})

t.test('agent.yaml: a command check runs through the service runner as check=command', { skip }, async t => {
  const dir = await tmpDir(t)
  const closed = await freePort()
  const cfg = checkAgentConfig(join(dir, 'agent.yaml'), {
    collector: { url: 'ws://127.0.0.1:1/v1/agent', token: 'x' },
    checks: [{ name: 'mssql', type: 'command', command: [join(PLUGINS, 'check_tcp'), '-H', '127.0.0.1', '-p', String(closed)], timeout: '5s' }]
  })
  t.equal(cfg.checks[0]!.timeoutMs, 7000, 'the runner waits 2 s past the plugin timeout for the kill')
  const checks = new ServiceChecks(cfg.checks)
  await checks.runOnce(cfg.checks[0]!)
  const acc = new PointAccumulator(Date.now())
  await checks.gather(acc)
  const p = acc.points[0]!
  t.same([p.m, p.tags], ['service', { service: 'mssql', check: 'command' }])
  t.equal(p.f['status'], 2)
  t.equal(p.f['up'], 0)
  t.match(p.f['message'], /Connection refused/)
  t.throws(() => checkAgentConfig(join(dir, 'agent.yaml'), { collector: { url: 'ws://127.0.0.1:1/v1/agent', token: 'x' }, checks: [{ name: 'c', type: 'command' }] }),
    /agent\.yaml: checks\.0\(c\)\.command: expected a program and its arguments as a list for a command check, got missing/)
  t.throws(() => checkAgentConfig(join(dir, 'agent.yaml'), { collector: { url: 'ws://127.0.0.1:1/v1/agent', token: 'x' }, checks: [{ name: 'c', type: 'command', command: ['check_tcp -H db01'] }] }),
    /checks\.0\(c\)\.command: expected the program and each argument as separate list items \(no shell runs it\)/)
})
