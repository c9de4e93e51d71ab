// deploy/install-linux.sh for real, on this machine, without touching it: a
// private mount namespace lays throw-away overlays over /etc, /opt, /var and
// /usr/local, and the installer runs there as root from an unpacked release
// tarball that has no node_modules (agent hosts need none). Install, upgrade
// (config kept, previous tree kept), roll back, then the installed agent runs
// as user kanshi through /usr/local/bin/kanshi-agent against a real collector.
// systemd is not running here, so the unit is installed but not started: the
// test reads the unit file instead.

import t, { type Test } from 'tap'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { sha256Hex } from '../../collector/ingest/auth.js'
import { asViewer, viewerApi } from '../helpers/config.js'
import { freePort, spawnProgram, waitFor } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

const root = resolve(import.meta.dirname, '..', '..')
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version

function canSandbox (): string | false {
  if (process.getuid?.() !== 0) return 'needs root (the installer creates a user and writes /etc, /opt, /var/lib, /usr/local/bin, all inside a private overlay)'
  const r = spawnSync('unshare', ['--mount', '--fork', 'sh', '-c', 'mkdir -p /tmp/kanshi-ovl-probe/u /tmp/kanshi-ovl-probe/w && mount -t overlay overlay -o lowerdir=/opt,upperdir=/tmp/kanshi-ovl-probe/u,workdir=/tmp/kanshi-ovl-probe/w /opt'], { encoding: 'utf8' })
  spawnSync('rm', ['-rf', '/tmp/kanshi-ovl-probe'])
  if (r.status !== 0) return `cannot mount an overlay in a private mount namespace here (${(r.stderr || r.error?.message || '').trim()})`
  return false
}

const skip = canSandbox()

const OVERLAYS = (ov: string): string => `
set -euo pipefail
mount --make-rprivate /
for d in etc opt var usr/local; do
  n=\${d//\\//_}; mkdir -p ${ov}/$n/u ${ov}/$n/w
  mount -t overlay overlay -o lowerdir=/$d,upperdir=${ov}/$n/u,workdir=${ov}/$n/w /$d
done
`

interface Sandbox { output: () => string, child: ChildProcess }

/**
 * sandboxed runs a bash script as root in a private mount namespace. The script
 * ends by exec-ing a service as user kanshi; setpriv clears the parent-death
 * signal that unshare --kill-child sets, so teardown kills that process by the
 * pid the script printed ("pid: N") before unshare itself.
 */
function sandboxed (t: Test, script: string): Sandbox {
  const child = spawn('unshare', ['--mount', '--kill-child', 'bash', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr!.on('data', (b: Buffer) => { out += b.toString() })
  const exited = new Promise(resolve => child.once('exit', resolve))
  t.teardown(async () => {
    const pid = Number(/^pid: (\d+)$/m.exec(out)?.[1])
    if (pid > 0) { try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ } }
    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited }
  })
  return { output: () => out, child }
}

t.test('install-linux.sh agent: install, upgrade, roll back, run as kanshi', { skip }, async t => {
  if (!existsSync(join(root, 'dist', 'kanshi-agent.mjs'))) throw new Error('dist/kanshi-agent.mjs is missing: run "npm run build" first (scripts/test.sh does)')
  const work = await tmpDir(t)
  const sh = (args: string[]): void => {
    const r = spawnSync(args[0]!, args.slice(1), { cwd: root, encoding: 'utf8', timeout: 120_000 })
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}${r.stdout}`)
  }
  sh(['bash', 'scripts/offline-bundle.sh', '--skip-npm-ci', '--outdir', join(work, 'release')])
  const tarball = join(work, 'release', `kanshi-${version}-${process.platform}-${process.arch}-node${process.versions.node.split('.')[0]}-nomodules.tar.gz`)
  for (const d of ['v1', 'v2']) {
    mkdirSync(join(work, d))
    sh(['tar', '-xzf', tarball, '-C', join(work, d)])
  }

  // A collector (from dist/) that knows this host's agent id: the installer names the agent after the host.
  const id = hostname().split('.')[0]!
  const token = `tok-install-${Math.random().toString(36).slice(2)}`
  const port = await freePort()
  const cdir = await tmpDir(t)
  writeFileSync(join(cdir, 'collector.yaml'), JSON.stringify({
    listen: { host: '127.0.0.1', port }, dataDir: join(cdir, 'data'), influx: { version: 1, embedded: { enabled: false } },
    agents: [{ id, tokenSha256: sha256Hex(token), role: 'server', site: 'install' }],
    api: viewerApi()
  }))
  const collector = await spawnProgram(t, 'collector', ['--config', join(cdir, 'collector.yaml')])
  await collector.waitForLine(l => l.includes('collector listening'), 20_000)

  const ov = join(work, 'overlay')
  const v1 = join(work, 'v1', `kanshi-${version}`)
  const v2 = join(work, 'v2', `kanshi-${version}`)
  const script = OVERLAYS(ov) + `
echo "== install"
${v1}/deploy/install-linux.sh agent
echo "== facts"
echo "passwd: $(getent passwd kanshi | cut -d: -f1,6,7)"
echo "yaml: $(stat -c '%U:%G %a' /etc/kanshi/agent.yaml)"
echo "env: $(stat -c '%U:%G %a' /etc/kanshi/agent.env)"
echo "state: $(stat -c '%U:%G %a' /var/lib/kanshi/agent)"
echo "unit: $(grep '^ExecStart=' /etc/systemd/system/kanshi-agent.service)"
echo "wrapper: $(grep '^exec ' /usr/local/bin/kanshi-agent)"
echo "version: $(/usr/local/bin/kanshi-agent --version)"
grep -E '^(id|dataDir):' /etc/kanshi/agent.yaml | sed 's/^/conf: /'
echo "# local edit" >> /etc/kanshi/agent.yaml
echo "== upgrade"
${v2}/deploy/install-linux.sh agent
echo "prev: $(test -f /opt/kanshi.prev/dist/kanshi-agent.mjs && echo yes)"
echo "kept: $(grep -c '^# local edit' /etc/kanshi/agent.yaml)"
echo "== rollback"
/opt/kanshi.prev/deploy/install-linux.sh agent
echo "kept: $(grep -c '^# local edit' /etc/kanshi/agent.yaml)"
sed -i 's#^  url: .*#  url: ws://127.0.0.1:${port}/v1/agent#; s#^interval: .*#interval: 1s#' /etc/kanshi/agent.yaml
echo "== run"
echo "pid: $$"
exec env KANSHI_AGENT_TOKEN=${token} setpriv --reuid=kanshi --regid=kanshi --init-groups -- /usr/local/bin/kanshi-agent --config /etc/kanshi/agent.yaml
`
  const box = sandboxed(t, script)
  const child = box.child

  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`the sandboxed install exited ${child.exitCode}:\n${box.output()}`)
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/agents`, { headers: asViewer })
    const agents = ((await res.json()) as { agents: Array<{ id: string, connected: boolean, version?: string }> }).agents
    return agents.some(a => a.id === id && a.connected && a.version === version)
  }, 60_000, 500).catch(err => { throw new Error(`${String(err)}\n${box.output()}`) })
  t.pass(`the installed agent (${id}) connected as user kanshi and reported version ${version}`)

  const facts = (key: string): string[] => box.output().split('\n').filter(l => l.startsWith(`${key}: `)).map(l => l.slice(key.length + 2))
  t.match(facts('passwd')[0], /^kanshi:\/var\/lib\/kanshi:\/(usr\/)?s?bin\/nologin$/, 'system user kanshi, no login shell')
  t.same(facts('yaml'), ['root:kanshi 640'], 'agent.yaml readable by the service, not by others')
  t.same(facts('env'), ['root:root 600'], 'agent.env (the token) for root only: systemd reads it')
  t.same(facts('state'), ['kanshi:kanshi 700'], 'dataDir owned by the service user')
  t.match(facts('unit')[0], /^ExecStart=\S*node \/opt\/kanshi\/dist\/kanshi-agent\.mjs --config \/etc\/kanshi\/agent\.yaml$/, 'the unit runs the single-file agent')
  t.match(facts('wrapper')[0], /\/opt\/kanshi\/dist\/kanshi-agent\.mjs "\$@"$/, 'so does the kanshi-agent command')
  t.same(facts('version'), [version])
  const conf = facts('conf')
  t.equal(conf[0], `id: ${id}                # the id given to: kanshi-collector token add ${id}`, 'agent.yaml written from the example with this host\'s id')
  t.match(conf[1], /^dataDir: \/var\/lib\/kanshi\/agent\s/, 'and the package dataDir')
  t.same(facts('prev'), ['yes'], 'the upgrade kept the previous tree in /opt/kanshi.prev')
  t.same(facts('kept'), ['1', '1'], 'upgrade and roll back keep the edited agent.yaml')
  t.match(box.output(), /systemd is not running here/, 'no systemd in the sandbox: unit installed, not started')
  t.notOk(existsSync('/etc/kanshi') || existsSync('/opt/kanshi'), 'nothing leaked out of the sandbox')
})

const seaFuse = readFileSync(process.execPath).includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2')
const skipSea = skip !== false ? skip : seaFuse ? false : `${process.execPath} has no SEA fuse: no single executable can be built here`
t.test('install-linux.sh agent on a host without Node.js 20: the single executable', { skip: skipSea }, async t => {
  const work = await tmpDir(t)
  const sh = (args: string[]): void => {
    const r = spawnSync(args[0]!, args.slice(1), { cwd: root, encoding: 'utf8', timeout: 120_000 })
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}${r.stdout}`)
  }
  sh(['bash', 'scripts/offline-bundle.sh', '--skip-npm-ci', '--outdir', join(work, 'release')])
  sh(['tar', '-xzf', join(work, 'release', `kanshi-${version}-${process.platform}-${process.arch}-node${process.versions.node.split('.')[0]}-nomodules.tar.gz`), '-C', work])
  const tree = join(work, `kanshi-${version}`)
  sh([process.execPath, join(root, 'dist', 'scripts', 'bundle.js'), '--sea', '--outdir', join(tree, 'dist')])
  // Node.js 18 as far as the installer can tell.
  writeFileSync(join(work, 'old-node'), '#!/bin/sh\necho 18\n', { mode: 0o755 })

  const id = hostname().split('.')[0]!
  const token = `tok-sea-${Math.random().toString(36).slice(2)}`
  const port = await freePort()
  const cdir = await tmpDir(t)
  writeFileSync(join(cdir, 'collector.yaml'), JSON.stringify({
    listen: { host: '127.0.0.1', port }, dataDir: join(cdir, 'data'), influx: { version: 1, embedded: { enabled: false } },
    agents: [{ id, tokenSha256: sha256Hex(token), role: 'server', site: 'sea' }],
    api: viewerApi()
  }))
  const collector = await spawnProgram(t, 'collector', ['--config', join(cdir, 'collector.yaml')])
  await collector.waitForLine(l => l.includes('collector listening'), 20_000)

  const ov = join(work, 'overlay')
  const script = OVERLAYS(ov) + `
mount --bind ${join(work, 'old-node')} "$(command -v node)"
echo "node: $(node -p 1)"
${tree}/deploy/install-linux.sh agent
echo "unit: $(grep '^ExecStart=' /etc/systemd/system/kanshi-agent.service)"
echo "wrapper: $(grep '^exec ' /usr/local/bin/kanshi-agent)"
echo "collector-cmd: $(test -e /usr/local/bin/kanshi-collector && echo present || echo absent)"
echo "version: $(/usr/local/bin/kanshi-agent --version)"
sed -i 's#^  url: .*#  url: ws://127.0.0.1:${port}/v1/agent#; s#^interval: .*#interval: 1s#' /etc/kanshi/agent.yaml
echo "pid: $$"
exec env KANSHI_AGENT_TOKEN=${token} setpriv --reuid=kanshi --regid=kanshi --init-groups -- /usr/local/bin/kanshi-agent --config /etc/kanshi/agent.yaml
`
  const box = sandboxed(t, script)
  const child = box.child
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`the sandboxed install exited ${child.exitCode}:\n${box.output()}`)
    const agents = ((await (await fetch(`http://127.0.0.1:${port}/api/v1/agents`, { headers: asViewer })).json()) as { agents: Array<{ id: string, connected: boolean, version?: string }> }).agents
    return agents.some(a => a.id === id && a.connected && a.version === version)
  }, 60_000, 500).catch(err => { throw new Error(`${String(err)}\n${box.output()}`) })
  t.pass('the single executable, installed as a service, connected as user kanshi')
  const facts = (key: string): string[] => box.output().split('\n').filter(l => l.startsWith(`${key}: `)).map(l => l.slice(key.length + 2))
  t.same(facts('node'), ['18'], 'node on this "host" is too old')
  t.match(box.output(), /no Node\.js 20\+ here: the agent runs as the single executable/)
  t.same(facts('unit'), ['ExecStart=/opt/kanshi/dist/kanshi-agent --config /etc/kanshi/agent.yaml'], 'the unit runs the executable')
  t.same(facts('wrapper'), ['exec /opt/kanshi/dist/kanshi-agent "$@"'])
  t.same(facts('collector-cmd'), ['absent'], 'no collector command where it could not run')
  t.same(facts('version'), [version])
})

const full = process.env.KANSHI_TEST_OFFLINE_BUNDLE === '1'
const skipCollector = skip !== false ? skip : full ? false : 'KANSHI_TEST_OFFLINE_BUNDLE is not 1: the collector needs the full tarball (npm ci --omit=dev, ~90 s); set it to run this'
t.test('install-linux.sh collector from the full release tarball: config modes, token add, runs as kanshi', { skip: skipCollector }, async t => {
  const work = await tmpDir(t)
  const r = spawnSync('bash', ['scripts/offline-bundle.sh', '--outdir', join(work, 'release')], { cwd: root, encoding: 'utf8', timeout: 280_000 })
  if (r.status !== 0) throw new Error(`offline-bundle.sh: ${r.stderr}${r.stdout}`)
  const tarball = join(work, 'release', `kanshi-${version}-${process.platform}-${process.arch}-node${process.versions.node.split('.')[0]}.tar.gz`)
  spawnSync('tar', ['-xzf', tarball, '-C', work])
  const tree = join(work, `kanshi-${version}`)
  const ov = join(work, 'overlay')
  const port = await freePort()
  const script = OVERLAYS(ov) + `
${tree}/deploy/install-linux.sh collector
echo "yaml: $(stat -c '%U:%G %a' /etc/kanshi/collector.yaml)"
echo "env: $(stat -c '%U:%G %a' /etc/kanshi/collector.env)"
echo "rules: $(ls /etc/kanshi/alert-rules)"
echo "unit: $(grep -E '^Exec(Start|Reload)=' /etc/systemd/system/kanshi-collector.service | tr '\\n' ' ')"
echo "version: $(/usr/local/bin/kanshi-collector --version)"
tok=$(/usr/local/bin/kanshi-collector token add web01 --role server --site s --config /etc/kanshi/collector.yaml)
echo "token: \${#tok}"
echo "after-token: $(stat -c '%U:%G %a' /etc/kanshi/collector.yaml)"
# /readyz gives its reasons to a viewer only: the operator's first API token.
echo "viewer: $(/usr/local/bin/kanshi-collector api-token add prober --role viewer --config /etc/kanshi/collector.yaml)"
sed -i 's#^  port: .*#  port: ${port}#; s#^  db: kanshi#  db: kanshi\\n  embedded: { enabled: false }#' /etc/kanshi/collector.yaml
# systemd's StateDirectory= makes this under the unit; here by hand.
install -d -o kanshi -g kanshi -m 0700 /var/lib/kanshi/collector
echo "== run"
# As the unit runs it: its ExecStart, as user kanshi.
echo "pid: $$"
exec setpriv --reuid=kanshi --regid=kanshi --init-groups -- $(sed -n 's/^ExecStart=//p' /etc/systemd/system/kanshi-collector.service)
`
  const box = sandboxed(t, script)
  const child = box.child
  let ready: Record<string, unknown> = {}
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`the sandboxed install exited ${child.exitCode}:\n${box.output()}`)
    const viewer = /^viewer: (\S+)$/m.exec(box.output())?.[1]
    if (viewer === undefined) return false
    ready = await (await fetch(`http://127.0.0.1:${port}/readyz`, { headers: { authorization: `Bearer ${viewer}` } })).json() as Record<string, unknown>
    return true
  }, 60_000, 500).catch(err => { throw new Error(`${String(err)}\n${box.output()}`) })
  t.match(ready.storage, /WAL-only/, 'the installed collector answers /readyz (WAL-only here)')
  const facts = (key: string): string[] => box.output().split('\n').filter(l => l.startsWith(`${key}: `)).map(l => l.slice(key.length + 2))
  t.same(facts('yaml'), ['root:kanshi 640'])
  t.same(facts('env'), ['root:root 600'])
  t.match(facts('rules')[0], /default\.yaml/, 'default rules copied to /etc/kanshi/alert-rules')
  t.match(facts('unit')[0], /^ExecStart=\S*node \/opt\/kanshi\/dist\/collector\/main\.js --config \/etc\/kanshi\/collector\.yaml ExecReload=\/bin\/kill -HUP \$MAINPID/)
  t.same(facts('version'), [version])
  t.same(facts('token'), ['43'], 'token add printed a 43-character token')
  t.same(facts('after-token'), ['root:kanshi 640'], 'the wrapper gave the rewritten config back to the service')
  t.notOk(existsSync('/etc/kanshi') || existsSync('/opt/kanshi'), 'nothing leaked out of the sandbox')
})
