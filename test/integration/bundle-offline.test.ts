// npm run bundle:offline: the layout of the Linux release tarball and of the
// Windows agent zip. The full build (npm ci --omit=dev in a staging copy, about
// a minute and a half, and the npm registry or cache) runs only with
// KANSHI_TEST_OFFLINE_BUNDLE=1; otherwise --skip-npm-ci checks everything else.

import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { tmpDir } from '../helpers/tmp.js'

const root = resolve(import.meta.dirname, '..', '..')
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
const nodeMajor = process.versions.node.split('.')[0]!
const full = process.env.KANSHI_TEST_OFFLINE_BUNDLE === '1'
if (!full) t.comment('KANSHI_TEST_OFFLINE_BUNDLE is not 1: building the tarball with --skip-npm-ci (no node_modules); set it to run npm ci --omit=dev too (~90 s, needs the npm registry or cache)')

function sh (cmd: string, args: string[], cwd = root): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 280_000, maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}${r.stdout}`)
  return r.stdout
}

t.test('the release tarball and the Windows zip', async t => {
  if (!existsSync(join(root, 'dist', 'kanshi-agent.mjs'))) throw new Error('dist/kanshi-agent.mjs is missing: run "npm run build" first (scripts/test.sh does)')
  const out = await tmpDir(t)
  sh('bash', ['scripts/offline-bundle.sh', '--outdir', out, ...(full ? [] : ['--skip-npm-ci'])])
  const base = `kanshi-${version}-${process.platform}-${process.arch}-node${nodeMajor}${full ? '' : '-nomodules'}.tar.gz`
  const tarball = join(out, base)
  t.ok(existsSync(tarball), `${base} made`)
  t.match(readFileSync(`${tarball}.sha256`, 'utf8'), new RegExp(`^[0-9a-f]{64}  ${base.replace(/\./g, '\\.')}\\n$`), 'sha256sum -c can check it')
  sh('sha256sum', ['-c', `${base}.sha256`], out)

  const entries = new Set(sh('tar', ['-tzf', tarball]).split('\n').filter(l => l !== ''))
  const top = `kanshi-${version}/`
  for (const p of ['dist/collector/main.js', 'dist/agent/main.js', 'dist/kanshi-agent.mjs', 'bin/kanshi-collector.js', 'bin/kanshi-agent.js',
    'package.json', 'package-lock.json', 'deploy/install-linux.sh', 'deploy/systemd/kanshi-collector.service', 'deploy/systemd/kanshi-agent.service',
    'deploy/windows/install-agent.ps1', 'deploy/windows/kanshi-agent.xml', 'docs/deploy-linux.md', 'docs/configuration.md',
    'alert-rules/default.yaml', 'dashboards/noc.json', 'examples/collector.yaml', 'examples/agent.yaml', 'README.md', 'MANIFEST.txt']) {
    t.ok(entries.has(top + p), `tarball has ${p}`)
  }
  t.notOk([...entries].some(e => e.endsWith('/kanshi-agent') || e.includes('sea-work')), 'no single executable or build leftovers unless --with-sea')
  t.notOk([...entries].some(e => !e.startsWith(top)), `everything under ${top}`)
  const modules = [...entries].some(e => e.startsWith(`${top}node_modules/`))
  t.equal(modules, full, full ? 'production node_modules included' : 'no node_modules with --skip-npm-ci')

  const x = await tmpDir(t)
  sh('tar', ['-xzf', tarball, '-C', x])
  const tree = join(x, `kanshi-${version}`)
  t.equal(sh(process.execPath, [join(tree, 'dist', 'kanshi-agent.mjs'), '--version'], x), `${version}\n`, 'agent from the tarball runs')
  if (full) {
    t.equal(sh(process.execPath, [join(tree, 'bin', 'kanshi-collector.js'), '--version'], x), `${version}\n`, 'collector from the tarball runs')
    sh(process.execPath, ['-e', 'new (require("better-sqlite3"))(":memory:").prepare("select 1").get()'], tree)
    t.pass('better-sqlite3 loads from the tarball\'s node_modules')
    t.notOk(existsSync(join(tree, 'node_modules', 'tap')), 'no dev dependencies')
  }

  const zip = join(out, `kanshi-agent-${version}-windows.zip`)
  t.ok(existsSync(`${zip}.sha256`), 'zip checksum')
  const list = sh('python3', ['-c', 'import sys,zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', zip]).split('\n')
  const dir = `kanshi-agent-${version}-windows/`
  for (const f of ['kanshi-agent.mjs', 'kanshi-agent.xml', 'install-agent.ps1', 'deploy-windows.md', 'configuration.md', 'agent.yaml', 'README.txt']) {
    t.ok(list.includes(dir + f), `zip has ${f} (install-agent.ps1 finds it beside itself)`)
  }
  t.notOk(list.some(f => f.includes('node_modules')), 'the Windows zip needs no node_modules')
  const xml = readFileSync(join(root, 'deploy', 'windows', 'kanshi-agent.xml'), 'utf8')
  t.match(xml, /<arguments>"C:\\Program Files\\kanshi\\kanshi-agent\.mjs" --config/, 'the WinSW service runs the single-file agent')
})
