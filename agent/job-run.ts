// kanshi-agent job run --name NAME [--deadline HH:MM] --config FILE -- COMMAND…
// Runs a batch job or backup, passes its output through, and records exit
// code, duration, start and finish and whether it met its deadline, for the
// agent to report. Exits with the command's exit code.

import { spawn } from 'node:child_process'
import { deadlineMet, writeJobResult, type JobResult } from './inputs/jobs.js'

export async function jobRun (o: { name: string, deadline?: string, dataDir: string, timezone: string, command: string[] }): Promise<number> {
  const started = Date.now()
  const child = spawn(o.command[0]!, o.command.slice(1), { stdio: ['inherit', 'pipe', 'pipe'], windowsHide: true })
  let tail = ''
  const keep = (b: Buffer, to: NodeJS.WriteStream): void => { to.write(b); tail = (tail + b.toString('utf8')).slice(-2000) }
  child.stdout!.on('data', (b: Buffer) => keep(b, process.stdout))
  child.stderr!.on('data', (b: Buffer) => keep(b, process.stderr))
  const { code, signal } = await new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    child.on('error', err => { tail += String(err.message); resolve({ code: 127, signal: null }) })
    child.on('close', (c, s) => resolve({ code: c, signal: s }))
  })
  const finished = Date.now()
  const r: JobResult = {
    name: o.name, command: o.command.join(' '), started, finished, exitCode: code, signal,
    tail: tail.trim().split('\n').slice(-3).join(' | ')
  }
  if (o.deadline !== undefined) { r.deadline = o.deadline; r.onTime = deadlineMet(started, finished, o.deadline, o.timezone) }
  writeJobResult(o.dataDir, r)
  return code ?? 128
}
