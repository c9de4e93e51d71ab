// type: command — runs a Nagios / Monitoring Plugins check: arguments as a list
// (never a shell), in its own process group, killed with all its children at
// the timeout (UNKNOWN). Exit 0/1/2/3 = OK/WARNING/CRITICAL/UNKNOWN, anything
// else UNKNOWN; up = 1 only for OK (Nagios semantics: WARNING is a problem).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import type { Check, CheckResult } from './types.js'
import { parsePluginOutput, perfFields } from './perfdata.js'
import { decoder } from '../logs/logline.js'

export const STATUS_NAMES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const
export const UNKNOWN = 3

/** What a plugin prints in: UTF-8, or CP932 (Shift_JIS with Microsoft's extensions) as on Japanese Windows. */
export const PLUGIN_ENCODINGS = ['utf-8', 'cp932', 'shift_jis'] as const
export type PluginEncoding = typeof PLUGIN_ENCODINGS[number]

export interface CommandCheckOptions {
  command: readonly string[]
  env?: Record<string, string>
  cwd?: string
  timeoutMs: number
  /** bytes of stdout (and of stderr) kept; the rest is counted and dropped */
  maxOutputBytes?: number
  /** how stdout and stderr are decoded (default utf-8); invalid bytes become U+FFFD */
  encoding?: PluginEncoding
  platform?: NodeJS.Platform
  now?: () => number
}

/** killTree kills a child and everything it started: its process group on POSIX, taskkill /T on Windows. */
export function killTree (child: ChildProcess, platform: NodeJS.Platform = process.platform): void {
  if (child.pid === undefined) return
  if (platform === 'win32') {
    spawnSync('taskkill', ['/pid', String(child.pid), '/T', '/F'], { windowsHide: true, stdio: 'ignore' })
    return
  }
  try { process.kill(-child.pid, 'SIGKILL') } catch { /* the group is gone already */ }
}

/**
 * pluginEnv is the agent's environment without its own secrets (KANSHI_*: the agent token),
 * with LC_ALL=C (plugins print numbers with a dot and messages in English), then the check's env.
 */
export function pluginEnv (base: NodeJS.ProcessEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(base)) if (!k.toUpperCase().startsWith('KANSHI_')) env[k] = v
  return { ...env, LC_ALL: 'C', ...extra }
}

/** statusOf maps an exit code (null when killed by a signal) to a plugin status. */
export function statusOf (code: number | null): number {
  return code !== null && code >= 0 && code <= 3 ? code : UNKNOWN
}

interface Ran { code: number | null, signal: string | null, stdout: string, stderr: string, truncated: number, timedOut: boolean, spawnError?: string }

function runPlugin (o: CommandCheckOptions, signal: AbortSignal, decode: (b: Buffer) => string): Promise<Ran> {
  const cap = o.maxOutputBytes ?? 64 * 1024
  const platform = o.platform ?? process.platform
  return new Promise(resolve => {
    const child = spawn(o.command[0]!, o.command.slice(1), {
      ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
      env: pluginEnv(process.env, o.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: platform !== 'win32',
      windowsHide: true
    })
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[], sizes: { stdout: 0, stderr: 0 } }
    let truncated = 0
    const keep = (which: 'stdout' | 'stderr') => (b: Buffer): void => {
      const room = cap - out.sizes[which]
      if (room > 0) out[which].push(b.subarray(0, room))
      if (b.length > room) truncated += b.length - Math.max(0, room)
      out.sizes[which] += Math.min(b.length, Math.max(0, room))
    }
    child.stdout.on('data', keep('stdout'))
    child.stderr.on('data', keep('stderr'))
    let timedOut = false
    let spawnError: string | undefined
    const kill = (): void => { timedOut = true; killTree(child, platform) }
    const timer = setTimeout(kill, o.timeoutMs)
    signal.addEventListener('abort', kill, { once: true })
    // After the plugin exits, whatever it left running in its group goes too (and releases the pipes).
    child.on('exit', () => { killTree(child, platform) })
    child.on('error', err => { spawnError = `${(err as NodeJS.ErrnoException).code ?? err.message}` })
    child.on('close', (code, sig) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', kill)
      resolve({
        code, signal: sig, truncated, timedOut,
        stdout: decode(Buffer.concat(out.stdout)),
        stderr: decode(Buffer.concat(out.stderr)),
        ...(spawnError !== undefined ? { spawnError } : {})
      })
    })
  })
}

/** commandCheck runs the plugin once per interval and reads its status, message and perfdata. */
export function commandCheck (o: CommandCheckOptions): Check {
  const now = o.now ?? Date.now
  // The CP932 table (iconv-lite) is loaded at the first run, and only by checks that need it.
  const encoding = o.encoding ?? 'utf-8'
  let decode: Promise<(b: Buffer) => string> | undefined
  return async signal => {
    decode ??= encoding === 'utf-8' ? Promise.resolve((b: Buffer) => b.toString('utf8')) : decoder('cp932')
    const d = await decode
    const t0 = now()
    const r = await runPlugin(o, signal, d)
    const responseMs = now() - t0
    const res = (status: number, message: string, fields: Record<string, number> = {}): CheckResult => ({
      up: status === 0, message, responseMs,
      fields: { status, ...fields, ...(r.truncated > 0 ? { output_truncated: r.truncated } : {}) }
    })
    if (r.spawnError !== undefined) return res(UNKNOWN, `UNKNOWN: cannot run ${o.command[0]}: ${r.spawnError}`)
    if (r.timedOut) return res(UNKNOWN, `UNKNOWN: ${o.command[0]} timed out after ${o.timeoutMs} ms (killed with its children)`)
    const status = statusOf(r.code)
    const parsed = parsePluginOutput(r.stdout)
    const { fields, dropped } = perfFields(parsed.perf)
    let message = parsed.message
    if (message === '') message = r.stderr.trim().split('\n')[0] ?? ''
    if (message === '') message = `${STATUS_NAMES[status]}: no output`
    if (r.code === null) message = `${message} (killed by ${r.signal ?? 'a signal'})`
    else if (r.code > 3 || r.code < 0) message = `${message} (exit code ${r.code})`
    return res(status, message, { ...fields, ...(dropped + parsed.bad.length > 0 ? { perfdata_dropped: dropped + parsed.bad.length } : {}) })
  }
}
