// type: ping — ICMP echo to a device through the system's own ping (iputils
// on Linux uses unprivileged ICMP sockets; ping.exe on Windows), arguments as
// a list, never a shell, killed at the check's timeout.

import { execFile } from 'node:child_process'
import type { Check, CheckResult } from './types.js'
import { parseLinuxPing, parseWindowsPing, type PingStats } from './ping-parse.js'

export interface PingOptions {
  host: string
  /** probes per run (count, default 3) */
  count: number
  /** the check's timeout: the probes are spread so that ping ends before it */
  timeoutMs: number
  platform?: NodeJS.Platform
}

/** Seconds between probes: the shortest an unprivileged iputils ping accepts. */
export const PROBE_INTERVAL_S = 0.2
/** Seconds to wait for each reply. */
export const PROBE_WAIT_S = 1

/** pingRunSeconds is how long a run of count probes takes at most (the last reply waited for, and a second to spare). */
export function pingRunSeconds (count: number, platform: NodeJS.Platform = process.platform): number {
  // ping.exe sends one probe a second and has no interval option.
  return Math.ceil((count - 1) * (platform === 'win32' ? 1 : PROBE_INTERVAL_S) + PROBE_WAIT_S + 1)
}

/** pingArgs builds ping's command line for the platform. */
export function pingArgs (o: PingOptions, platform: NodeJS.Platform): [string, string[]] {
  if (platform === 'win32') return ['ping.exe', ['-n', String(o.count), '-w', String(PROBE_WAIT_S * 1000), o.host]]
  // No -w deadline: with it iputils keeps sending until count replies came, which skews the loss.
  return ['ping', ['-n', '-q', '-c', String(o.count), '-i', String(PROBE_INTERVAL_S), '-W', String(PROBE_WAIT_S), '--', o.host]]
}

/** pingResult turns ping's statistics into a check result: up when any probe was answered. */
export function pingResult (host: string, s: PingStats): CheckResult {
  const loss = s.sent > 0 ? Math.round(((s.sent - s.received) / s.sent) * 1000) / 10 : 100
  const fields: Record<string, number> = { loss_percent: loss }
  if (s.rttAvgMs !== undefined) fields['rtt_ms'] = Math.round(s.rttAvgMs * 1000) / 1000
  if (s.rttMaxMs !== undefined) fields['rtt_max_ms'] = Math.round(s.rttMaxMs * 1000) / 1000
  const up = s.received > 0
  const rtt = s.rttAvgMs !== undefined ? `, rtt avg ${fields['rtt_ms']} ms` : ''
  return { up, message: up ? `${s.received}/${s.sent} replies from ${host}${rtt}` : `no reply from ${host} (${s.sent} probes, 100% loss)`, fields }
}

/** pingCheck runs the system ping once per check run. */
export function pingCheck (o: PingOptions): Check {
  const platform = o.platform ?? process.platform
  const [file, args] = pingArgs(o, platform)
  return async signal => {
    const { out, code, err } = await run(file, args, signal)
    // ping.exe writes in the console code page (CP932 on Japanese Windows): only ASCII is read.
    const text = out.toString(platform === 'win32' ? 'latin1' : 'utf8')
    if (err !== undefined) return { up: false, message: `cannot run ${file}: ${err}${err.includes('ENOENT') ? ' (install iputils-ping)' : ''}` }
    const s = platform === 'win32' ? parseWindowsPing(text, o.count) : parseLinuxPing(text)
    if (s === undefined) {
      const why = text.trim().split('\n').filter(l => l.trim() !== '').at(-1) ?? `exit ${code}`
      return { up: false, message: `ping ${o.host} failed: ${why.slice(0, 200)}` }
    }
    return pingResult(o.host, s)
  }
}

function run (file: string, args: string[], signal: AbortSignal): Promise<{ out: Buffer, code: number | null, err?: string }> {
  return new Promise(resolve => {
    execFile(file, args, { signal, encoding: 'buffer', maxBuffer: 256 * 1024, windowsHide: true, env: { ...process.env, LC_ALL: 'C', LANG: 'C' } }, (error, stdout, stderr) => {
      const out = Buffer.concat([stdout, stderr])
      // ping exits 1 when no probe was answered: its summary still says so.
      if (error !== null && typeof error.code === 'string') return resolve({ out, code: null, err: error.code === 'ABORT_ERR' ? 'aborted at the timeout' : `${error.code}` })
      resolve({ out, code: error === null ? 0 : (typeof error.code === 'number' ? error.code : null) })
    })
  })
}
