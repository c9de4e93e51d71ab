// The single-file agent as operators install it: dist/kanshi-agent.mjs copied
// alone into an empty directory (no node_modules anywhere above it), run with
// node against a real collector (dist/) and a real influxd; the same through
// the systeminformation code path and as a Node single executable.

import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, readFileSync, readdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import holidayJp from '@holiday-jp/holiday_jp'
import iconv from 'iconv-lite'
import { sha256Hex } from '../../collector/ingest/auth.js'
import { asViewer, viewerApi } from '../helpers/config.js'
import { withInfluxd, query } from '../helpers/influxd.js'
import { freePort, spawnProgram, waitFor } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

const root = resolve(import.meta.dirname, '..', '..')
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
const bundleScript = join(root, 'dist', 'scripts', 'bundle.js')

const JST_MS = 9 * 3600_000
/** jstDay is the Tokyo calendar date of an instant, as a UTC midnight Date (its getUTC* fields are the date). */
const jstDay = (t: number): Date => { const d = new Date(t + JST_MS); return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())) }
const yearEnd = (d: Date): boolean => (d.getUTCMonth() === 11 && d.getUTCDate() >= 29) || (d.getUTCMonth() === 0 && d.getUTCDate() <= 3)
const holiday = (d: Date): boolean => holidayJp.isHoliday(new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()))

/**
 * businessDaysBetween counts, the test's own way, the Tokyo dates after `from`'s up to `to`'s that are
 * Monday to Friday, not a national holiday (the library itself) and not 29 Dec – 3 Jan.
 */
function businessDaysBetween (from: number, to: number, holidays = true): number {
  let n = 0
  for (let d = new Date(jstDay(from).getTime() + 86_400_000); d <= jstDay(to); d = new Date(d.getTime() + 86_400_000)) {
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && !yearEnd(d) && !(holidays && holiday(d))) n++
  }
  return n
}

/** lastWeekdayHoliday is the latest national holiday before today (Tokyo) that falls Monday to Friday outside 29 Dec – 3 Jan. */
function lastWeekdayHoliday (now: number): Date {
  for (let d = new Date(jstDay(now).getTime() - 86_400_000); ; d = new Date(d.getTime() - 86_400_000)) {
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && !yearEnd(d) && holiday(d)) return d
  }
}

/** cleanEnv drops what could let the bundle find this repository's modules. */
function cleanEnv (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ...extra }
  return env
}

function nodeModulesAbove (dir: string): string[] {
  const found: string[] = []
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules'))) found.push(join(d, 'node_modules'))
    if (dirname(d) === d) return found
  }
}

/** buildInto runs the build script (what npm run build runs after tsc) into a temp dir. */
async function buildInto (t: Test, args: string[] = []): Promise<string> {
  if (!existsSync(bundleScript)) throw new Error(`${bundleScript} is missing: run "npm run build" first (scripts/test.sh does)`)
  const out = await tmpDir(t)
  const r = spawnSync(process.execPath, [bundleScript, '--outdir', out, ...args], { encoding: 'utf8', timeout: 120_000 })
  if (r.status !== 0) throw new Error(`bundle build failed: ${r.stderr}${r.stdout}`)
  return out
}

/** lonely copies (or moves: the 100 MB executable) one file into a fresh empty temp dir and checks nothing above it holds node_modules. */
async function lonely (t: Test, file: string, name: string, move = false): Promise<string> {
  const dir = await tmpDir(t)
  const target = join(dir, name)
  if (move) renameSync(file, target)
  else copyFileSync(file, target)
  t.same(readdirSync(dir), [name], `${name} is alone in its directory`)
  t.same(nodeModulesAbove(dir), [], `no node_modules in ${dir} or above it`)
  return target
}

interface Collector { url: string, port: number, tokens: Map<string, string>, influxUrl: string }

async function startCollector (t: Test, agentIds: string[]): Promise<Collector> {
  const influxd = await withInfluxd(t)
  const dir = await tmpDir(t)
  const port = await freePort()
  const tokens = new Map(agentIds.map(id => [id, `tok-${id}-${Math.random().toString(36).slice(2)}`]))
  writeFileSync(join(dir, 'collector.yaml'), JSON.stringify({
    listen: { host: '127.0.0.1', port },
    dataDir: join(dir, 'collector'),
    influx: { version: 1, url: influxd.url, db: 'kanshi', flushInterval: '100ms' },
    ingest: { defaultInterval: '1s' },
    agents: agentIds.map(id => ({ id, tokenSha256: sha256Hex(tokens.get(id)!), role: 'kiosk', site: 'bundle' })),
    api: viewerApi()
  }))
  const c = await spawnProgram(t, 'collector', ['--config', join(dir, 'collector.yaml')])
  await c.waitForLine(l => l.includes('collector listening'), 20_000)
  return { url: `http://127.0.0.1:${port}`, port, tokens, influxUrl: influxd.url }
}

/** runAgent starts a bundled agent (node FILE, or an executable) in its own directory. */
async function runAgent (t: Test, c: Collector, id: string, cmd: string[], inputs: string[], extra = ''): Promise<{ lines: string[] }> {
  const dir = dirname(cmd[cmd.length - 1]!)
  writeFileSync(join(dir, 'agent.yaml'), `id: ${id}\ncollector: { url: 'ws://127.0.0.1:${c.port}/v1/agent', backoffMin: 50ms, backoffMax: 1s }\ninterval: 1s\ndataDir: ./data\ninputs: { enabled: [${inputs.join(', ')}] }\n${extra}`)
  const child = spawn(cmd[0]!, [...cmd.slice(1), '--config', 'agent.yaml'], { cwd: dir, env: cleanEnv({ KANSHI_AGENT_TOKEN: c.tokens.get(id) }), stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  const exited = new Promise(resolve => child.once('exit', resolve))
  const collect = (b: Buffer): void => { lines.push(...b.toString().split('\n').filter(l => l !== '')) }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited }
  })
  await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`${id} exited ${child.exitCode}: ${lines.slice(-10).join('\n')}`)
    return lines.some(l => l.includes('connected to collector'))
  }, 20_000).catch(err => { throw new Error(`${String(err)}\n${lines.slice(-10).join('\n')}`) })
  return { lines }
}

async function lastCpu (c: Collector, host: string): Promise<Record<string, unknown> | undefined> {
  const r = await query(c.influxUrl, 'kanshi', `SELECT * FROM cpu WHERE host = '${host}' AND usage_percent >= 0 ORDER BY time DESC LIMIT 1`)
  const s = r.results[0].series?.[0]
  return s === undefined ? undefined : Object.fromEntries(s.columns.map((col: string, i: number) => [col, s.values[0][i]]))
}

async function agentsApi (c: Collector): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${c.url}/api/v1/agents`, { headers: asViewer })
  return ((await res.json()) as { agents: Array<Record<string, unknown>> }).agents
}

t.test('kanshi-agent.mjs alone: --help, --version, and data from it reaches InfluxDB', async t => {
  const out = await buildInto(t)
  const mjs = await lonely(t, join(out, 'kanshi-agent.mjs'), 'kanshi-agent.mjs')
  const help = spawnSync(process.execPath, [mjs, '--help'], { cwd: dirname(mjs), env: cleanEnv(), encoding: 'utf8' })
  t.equal(help.status, 0, `--help exits 0 ${help.stderr}`)
  t.match(help.stdout, /kanshi-agent --config FILE/)
  const v = spawnSync(process.execPath, [mjs, '--version'], { cwd: dirname(mjs), env: cleanEnv(), encoding: 'utf8' })
  t.equal(v.stdout, `${version}\n`, '--version prints the package version')
  const bad = spawnSync(process.execPath, [mjs, '--config', 'missing.yaml'], { cwd: dirname(mjs), env: cleanEnv(), encoding: 'utf8' })
  t.equal(bad.status, 2, 'a missing config is a config error (exit 2) from the bundle too')

  // Second agent: the same file with process.platform reported as darwin, so
  // the cpu input goes through systeminformation (the Windows code path) —
  // which must be inside the bundle, since nothing else can provide it here.
  const siMjs = await lonely(t, mjs, 'kanshi-agent.mjs')
  const c = await startCollector(t, ['bundle-linux', 'bundle-si'])
  // A Shift_JIS log file: iconv-lite's code tables must be inside the bundle too.
  const logDir = await tmpDir(t)
  writeFileSync(join(logDir, 'app.log'), iconv.encode('2026-11-23 09:00:00 ERROR 発券プリンタ用紙切れ\n', 'shift_jis'))
  // A backup written at 23:00 Tokyo time the day before the latest weekday holiday: its age in business days
  // needs the holiday table, which the bundle carries compressed and loads on the check's first run.
  const backupDir = await tmpDir(t)
  const backupMtime = lastWeekdayHoliday(Date.now()).getTime() - 86_400_000 + 23 * 3600_000 - JST_MS
  writeFileSync(join(backupDir, 'db-1.dump'), 'dump')
  utimesSync(join(backupDir, 'db-1.dump'), new Date(backupMtime), new Date(backupMtime))
  await runAgent(t, c, 'bundle-linux', [process.execPath, mjs], ['cpu', 'mem', 'disk', 'net', 'system'],
    `logs:\n  - { path: '${join(logDir, '*.log')}', encoding: shift_jis, startAt: beginning }\n` +
    `checks:\n  - { name: db-backup, type: backup, path: '${join(backupDir, 'db-*.dump')}', schedule: business-days, maxAgeBusinessDays: 366, interval: 1s }\n`)
  const preload = 'data:text/javascript,Object.defineProperty(process,"platform",{value:"darwin"})'
  const si = await runAgent(t, c, 'bundle-si', [process.execPath, '--import', preload, siMjs], ['cpu'])

  let linux: Record<string, unknown> | undefined
  let generic: Record<string, unknown> | undefined
  await waitFor(async () => {
    linux = await lastCpu(c, 'bundle-linux')
    generic = await lastCpu(c, 'bundle-si')
    return linux !== undefined && generic !== undefined
  }, 30_000, 500).catch(err => { throw new Error(`${String(err)}\nsi agent:\n${si.lines.slice(-10).join('\n')}`) })
  t.equal(linux!.role, 'kiosk', 'collector stamped the role tag')
  t.equal(linux!.site, 'bundle')
  t.type(linux!.iowait_percent, 'number', 'Linux agent read /proc (iowait_percent present)')
  t.type(generic!.usage_percent, 'number', 'systeminformation path gave usage_percent')
  t.equal(generic!.iowait_percent, null, 'systeminformation path (no iowait) was really taken')
  t.notOk(si.lines.some(l => /Cannot find (module|package)/.test(l)), 'no missing module in the bundle')
  for (const m of ['mem', 'disk', 'net', 'system']) {
    const r = await query(c.influxUrl, 'kanshi', `SELECT count(*) FROM "${m}" WHERE host = 'bundle-linux'`)
    t.ok(r.results[0].series?.[0] !== undefined, `${m} points from the bundled agent`)
  }

  await waitFor(async () => {
    const r = await query(c.influxUrl, 'kanshi', "SELECT message FROM \"kanshi_logs\".\"log_event\" WHERE host = 'bundle-linux'")
    return (r.results[0].series?.[0]?.values ?? []).some((v: unknown[]) => String(v[1]).includes('発券プリンタ用紙切れ'))
  }, 30_000, 500)
  t.pass('a Shift_JIS log line from the bundled agent arrived decoded in log_event')

  let backup: unknown[] | undefined
  await waitFor(async () => {
    const r = await query(c.influxUrl, 'kanshi', "SELECT age_business_days, up FROM service WHERE host = 'bundle-linux' AND service = 'db-backup' ORDER BY time DESC LIMIT 1")
    backup = r.results[0].series?.[0]?.values?.[0]
    return backup !== undefined
  }, 30_000, 500)
  const checkedAt = backup![0] as number
  t.equal(backup![1], businessDaysBetween(backupMtime, checkedAt), 'the backup check counted business days with the holidays the bundle loaded lazily')
  t.not(businessDaysBetween(backupMtime, checkedAt), businessDaysBetween(backupMtime, checkedAt, false), 'a holiday lies in that span, so the count depends on the table')
  t.equal(backup![2], 1, 'and the backup is fresh enough')

  const agents = await agentsApi(c)
  const byId = new Map(agents.map(a => [a.id, a]))
  t.equal(byId.get('bundle-linux')?.version, version, 'GET /api/v1/agents shows the bundled agent\'s version')
  t.equal(byId.get('bundle-linux')?.connected, true)
  t.equal(byId.get('bundle-si')?.os, 'darwin', 'the systeminformation agent really ran as non-Linux')
})

const seaFuse = readFileSync(process.execPath).includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2')
const noSea = seaFuse ? false : `${process.execPath} has no SEA fuse (a distribution build of Node?): single executables need the official nodejs.org binary`
t.test('the Node single executable (npm run build:sea) runs and sends data', { skip: noSea }, async t => {
  const out = await buildInto(t, ['--sea'])
  const exe = await lonely(t, join(out, 'kanshi-agent'), 'kanshi-agent', true)
  const v = spawnSync(exe, ['--version'], { cwd: dirname(exe), env: cleanEnv(), encoding: 'utf8' })
  t.equal(v.stdout, `${version}\n`, '--version from the executable')
  t.equal(v.stderr, '', 'no warning on stderr (no require() of a non-built-in module)')
  const c = await startCollector(t, ['bundle-sea'])
  await runAgent(t, c, 'bundle-sea', [exe], ['cpu', 'mem'])
  await waitFor(async () => (await lastCpu(c, 'bundle-sea')) !== undefined, 30_000, 500)
  t.pass('cpu points from the single executable reached InfluxDB')
  t.equal((await agentsApi(c)).find(a => a.id === 'bundle-sea')?.version, version)
})
