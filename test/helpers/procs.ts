// Real child processes for integration tests: the built programs (dist/),
// their pino log lines, and waits that fail with a clear message.

import type { Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { join, resolve } from 'node:path'
import { existsSync } from 'node:fs'
export { freePort } from '../../collector/storage/influxd-process.js'

const root = resolve(import.meta.dirname, '..', '..')

export interface Program {
  child: ChildProcess
  lines: string[]
  waitForLine(pred: (line: string) => boolean, timeoutMs: number): Promise<string>
  kill(signal?: NodeJS.Signals): void
  waitExit(): Promise<number | null>
}

/** spawnProgram runs dist/<name>/main.js; teardown kills it if the test did not. */
export async function spawnProgram (t: Test, name: 'collector' | 'agent', args: string[], opts: { env?: NodeJS.ProcessEnv, cwd?: string } = {}): Promise<Program> {
  const main = join(root, 'dist', name, 'main.js')
  if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first (scripts/test.sh does)`)
  const child = spawn(process.execPath, [main, ...args], { cwd: opts.cwd ?? root, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  const watchers = new Set<(l: string) => void>()
  const onData = (buf: { partial: string }) => (chunk: Buffer) => {
    const text = buf.partial + chunk.toString()
    const parts = text.split('\n')
    buf.partial = parts.pop()!
    for (const l of parts) { lines.push(l); for (const w of watchers) w(l) }
  }
  child.stdout!.on('data', onData({ partial: '' }))
  child.stderr!.on('data', onData({ partial: '' }))
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited }
  })
  return {
    child,
    lines,
    kill: (signal = 'SIGTERM') => { child.kill(signal) },
    waitExit: async () => await exited,
    waitForLine: (pred, timeoutMs) => new Promise((resolve, reject) => {
      const hit = lines.find(pred)
      if (hit !== undefined) return resolve(hit)
      const w = (l: string): void => { if (pred(l)) { done(); resolve(l) } }
      const timer = setTimeout(() => { done(); reject(new Error(`${name}: no matching log line within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join('\n')}`)) }, timeoutMs)
      const gone = (): void => { done(); reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before the awaited log line; last lines:\n${lines.slice(-15).join('\n')}`)) }
      function done (): void { clearTimeout(timer); watchers.delete(w); child.off('exit', gone) }
      watchers.add(w)
      child.once('exit', gone)
    })
  }
}

/** within awaits p, or throws "WHAT: not within MS ms", so a hang names its step. */
export async function within<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms) })
  try { return await Promise.race([p, late]) } finally { clearTimeout(timer) }
}

/** waitFor polls fn until it returns truthy, or throws after timeoutMs. */
export async function waitFor (fn: () => unknown | Promise<unknown>, timeoutMs: number, intervalMs = 200): Promise<void> {
  const end = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try { if (await fn()) return } catch (err) { last = err }
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms${last !== undefined ? `; last error: ${String(last)}` : ''}`)
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}
