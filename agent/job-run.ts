// kanshi-agent job run --name NAME [--deadline HH:MM] --config FILE -- COMMAND…
// Runs a batch job or backup, passes its output through, and records exit
// code, duration, start and finish and whether it met its deadline, for the
// agent to report (the start first, so a hung job shows as running). Exits
// with the command's exit code.

import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { deadlineMet, writeJobResult, writeJobStart, type JobResult } from './inputs/jobs.js'

export async function jobRun (o: { name: string, deadline?: string, dataDir: string, timezone: string, command: string[] }): Promise<number> {
  const started = Date.now()
  const startFile = writeJobStart(o.dataDir, { name: o.name, command: o.command.join(' '), started })
  const child = spawn(o.command[0]!, o.command.slice(1), { stdio: ['inherit', 'pipe', 'pipe'], windowsHide: true })
  let tail = ''
  const keep = (b: Buffer, to: NodeJS.WriteStream): void => { to.write(b); tail = (tail + b.toString('utf8')).slice(-2000) }
  child.stdout!.on('data', (b: Buffer) => keep(b, process.stdout))
  child.stderr!.on('data', (b: Buffer) => keep(b, process.stderr))
  // A stop of the wrapper (kill, Ctrl-C, a closed terminal) goes to the job, whose end is then recorded.
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP']
  const forward = (s: NodeJS.Signals): void => { child.kill(s) }
  for (const s of signals) process.on(s, forward)
  const { code, signal } = await new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    child.on('error', err => { tail += String(err.message); resolve({ code: 127, signal: null }) })
    child.on('close', (c, s) => resolve({ code: c, signal: s }))
  })
  for (const s of signals) process.off(s, forward)
  const finished = Date.now()
  const r: JobResult = {
    name: o.name, command: o.command.join(' '), started, finished, exitCode: code, signal,
    tail: tail.trim().split('\n').slice(-3).join(' | ')
  }
  if (o.deadline !== undefined) { r.deadline = o.deadline; r.onTime = deadlineMet(started, finished, o.deadline, o.timezone) }
  writeJobResult(o.dataDir, r)
  rmSync(startFile, { force: true })
  return code ?? 128
}
