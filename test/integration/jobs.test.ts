// Batch jobs under `kanshi-agent job run` (a real child process wrapping real
// commands): exit codes, deadlines and output reach the agent's job input.

import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { writeFileSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { JobResults, deadlineMet, jobsDir } from '../../agent/inputs/jobs.js'
import { PointAccumulator } from '../../agent/inputs/input.js'
import { tmpDir } from '../helpers/tmp.js'

const bin = resolve(import.meta.dirname, '..', '..', 'bin', 'kanshi-agent.js')

t.test('deadlines, including a nightly job due the next morning (JST)', async t => {
  const jst = (d: number, h: number, m = 0) => Date.UTC(2026, 10, d, h - 9, m)
  t.equal(deadlineMet(jst(24, 1), jst(24, 5, 59), '06:00', 'Asia/Tokyo'), true)
  t.equal(deadlineMet(jst(24, 1), jst(24, 6, 1), '06:00', 'Asia/Tokyo'), false)
  t.equal(deadlineMet(jst(23, 23), jst(24, 5), '06:00', 'Asia/Tokyo'), true, 'started 23:00, due 06:00 the next day')
  t.equal(deadlineMet(jst(23, 23), jst(24, 7), '06:00', 'Asia/Tokyo'), false)
})

t.test('job run records a success, a failure and a late finish; the agent reports each once', async t => {
  const dir = await tmpDir(t)
  const cfg = join(dir, 'agent.yaml')
  writeFileSync(cfg, `id: batch01\ncollector: { url: ws://127.0.0.1:1/v1/agent }\ndataDir: ${join(dir, 'data')}\n`)
  const job = (name: string, args: string[], deadline?: string) => spawnSync(process.execPath, [bin, 'job', 'run', '--name', name, '--config', cfg, ...(deadline !== undefined ? ['--deadline', deadline] : []), '--', ...args], { encoding: 'utf8' })
  const ok = job('nightly-backup', [process.execPath, '-e', 'console.log("バックアップ完了")'])
  t.equal(ok.status, 0)
  t.match(ok.stdout, /バックアップ完了/, 'output passes through')
  const fail = job('data-purge', [process.execPath, '-e', 'console.error("ORA-00054: resource busy"); process.exit(3)'])
  t.equal(fail.status, 3, 'the wrapper exits with the command\'s code')
  // a deadline one minute before now (JST) has passed: the job is late even though it succeeded
  const d = new Date(Date.now() - 60_000)
  const hhmm = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d)
  job('report-export', [process.execPath, '-e', 'setTimeout(() => {}, 10)'], hhmm)
  t.equal(job('x', []).status, 2, 'no command: usage error')
  t.equal(readdirSync(jobsDir(join(dir, 'data'))).length, 3)
  const input = new JobResults(join(dir, 'data'))
  const acc = new PointAccumulator(Date.now())
  await input.gather(acc)
  const by = Object.fromEntries(acc.points.map(p => [p.tags!['service'], p.f]))
  t.same(Object.keys(by).sort(), ['data-purge', 'nightly-backup', 'report-export'])
  t.equal(by['nightly-backup']!['up'], 1)
  t.same([by['data-purge']!['up'], by['data-purge']!['exit_code']], [0, 3])
  t.match(by['data-purge']!['message'], /^exit code 3: ORA-00054: resource busy/)
  t.same([by['report-export']!['up'], by['report-export']!['on_time']], [0, 0])
  t.match(by['report-export']!['message'], /^finished late \(deadline \d\d:\d\d\)/)
  t.ok(acc.points.every(p => p.m === 'service' && p.tags!['check'] === 'job'))
  const again = new PointAccumulator(Date.now())
  await input.gather(again)
  t.same(again.points, [], 'each result is reported once')
  t.same(readdirSync(jobsDir(join(dir, 'data'))), [], 'and removed after the next round')
})

t.test('job run reports the start at once: a hung job shows as running', async t => {
  const dir = await tmpDir(t)
  const cfg = join(dir, 'agent.yaml')
  writeFileSync(cfg, `id: batch01\ncollector: { url: ws://127.0.0.1:1/v1/agent }\ndataDir: ${join(dir, 'data')}\n`)
  const before = Date.now()
  const child = spawn(process.execPath, [bin, 'job', 'run', '--name', 'nightly-backup', '--config', cfg, '--', process.execPath, '-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' })
  const exited = new Promise(resolve => child.once('exit', resolve))
  t.teardown(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exited } })
  const input = new JobResults(join(dir, 'data'))
  const acc = new PointAccumulator(Date.now())
  const end = Date.now() + 15_000
  while (acc.points.length === 0 && Date.now() < end) {
    await input.gather(acc)
    if (acc.points.length === 0) await new Promise(resolve => setTimeout(resolve, 50))
  }
  t.equal(acc.points.length, 1, 'one start point while the command runs')
  const p = acc.points[0]!
  t.same([p.m, p.tags, p.f['running'], p.f['up'], p.f['exit_code']], ['service', { service: 'nightly-backup', check: 'job' }, 1, undefined, undefined], 'no up and no exit code: job_failed is not touched')
  t.ok((p.f['started_ms'] as number) >= before && p.t === p.f['started_ms'])
  // The job is killed from outside (an operator's kill): the wrapper still records the end.
  await new Promise(resolve => setTimeout(resolve, 300))
  process.kill(child.pid!, 'SIGTERM')
  await exited
  const after = new PointAccumulator(Date.now())
  await input.gather(after)
  t.equal(after.points.length, 1)
  t.same([after.points[0]!.f['running'], after.points[0]!.f['up'], after.points[0]!.f['exit_code'], after.points[0]!.f['message']], [0, 0, -1, 'killed by SIGTERM'], 'the wrapper passed the signal on and recorded the end')
  t.same(readdirSync(jobsDir(join(dir, 'data'))).filter(n => n.endsWith('.start.json')), [], 'the start file is gone once the run ended')
})
