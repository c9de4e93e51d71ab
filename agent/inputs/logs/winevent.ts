// The Windows Event Log: every interval, PowerShell's Get-WinEvent lists the
// records after the saved EventRecordID, oldest first, one JSON object per
// line. The record id of the last record handed to a batch is the cursor.
// The first start begins at the newest record instead of replaying the log.

import { execFile } from 'node:child_process'
import type { WinEventSpec } from './config.js'
import type { Level } from './logline.js'
import { QueuedSource } from './stream.js'

export interface WinEventRecord { id: number, t: number, level: Level, source: string, message: string }

const MAX_EVENTS = 500

/** Get-WinEvent levels: 1 critical, 2 error, 3 warning, 4 information, 0 LogAlways, 5 verbose. */
export function winLevel (n: unknown): Level {
  switch (Number(n)) {
    case 1: return 'crit'
    case 2: return 'error'
    case 3: return 'warning'
    case 5: return 'debug'
    default: return 'info'
  }
}

const psString = (s: string): string => `'${s.replace(/'/g, "''")}'`

/**
 * winEventScript is the PowerShell run each interval. Output is UTF-8 (the
 * console's OEM code page would mangle Japanese messages), one compressed
 * JSON object per line; with no cursor it prints only {"last": id}.
 */
export function winEventScript (spec: Pick<WinEventSpec, 'channel' | 'providers'> & { eventIds?: number[] | undefined }, after: number | undefined): string {
  const lines = [
    '[Console]::OutputEncoding = [Text.Encoding]::UTF8',
    "$ErrorActionPreference = 'Stop'"
  ]
  if (after === undefined) {
    lines.push(
      `$e = Get-WinEvent -LogName ${psString(spec.channel)} -MaxEvents 1 -ErrorAction SilentlyContinue`,
      "if ($e) { '{\"last\":' + $e.RecordId + '}' } else { '{\"last\":0}' }"
    )
    return lines.join('\n')
  }
  const providers = spec.providers.length === 0 ? '' : ` and (Provider[${spec.providers.map(p => `@Name='${p.replace(/'/g, '')}'`).join(' or ')}])`
  const ids = spec.eventIds === undefined || spec.eventIds.length === 0 ? '' : ` and (${spec.eventIds.map(n => `EventID=${Math.trunc(n)}`).join(' or ')})`
  lines.push(
    `$xp = "*[System[(EventRecordID>${Math.trunc(after)})${providers.replace(/"/g, '')}${ids}]]"`,
    `$events = @(Get-WinEvent -LogName ${psString(spec.channel)} -FilterXPath $xp -MaxEvents ${MAX_EVENTS} -Oldest -ErrorAction SilentlyContinue)`,
    'foreach ($e in $events) {',
    '  $m = $e.Message; if ($null -eq $m) { $m = \'\' }',
    '  [pscustomobject]@{ id = $e.RecordId; t = $e.TimeCreated.ToUniversalTime().ToString(\'o\'); level = [int]$e.Level; provider = $e.ProviderName; eventId = $e.Id; message = $m } | ConvertTo-Json -Compress',
    '}'
  )
  return lines.join('\n')
}

export interface WinEventOutput { last?: number, records: WinEventRecord[] }

/** parseWinEventOutput reads the script's output; unreadable lines are skipped, not fatal. */
export function parseWinEventOutput (text: string, channel: string): WinEventOutput {
  const out: WinEventOutput = { records: [] }
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue
    let o: Record<string, unknown>
    try { o = JSON.parse(line.replace(/^\uFEFF/, '')) as Record<string, unknown> } catch { continue }
    if (typeof o['last'] === 'number') { out.last = o['last']; continue }
    const id = Number(o['id'])
    if (!Number.isSafeInteger(id)) continue
    const t = Date.parse(String(o['t']))
    const provider = typeof o['provider'] === 'string' && o['provider'] !== '' ? o['provider'] : 'unknown'
    const message = typeof o['message'] === 'string' ? o['message'].replace(/\r\n/g, '\n').trimEnd() : ''
    out.records.push({ id, t: Number.isFinite(t) ? t : Date.now(), level: winLevel(o['level']), source: `winevent:${channel}/${provider}`, message: `[${String(o['eventId'] ?? '?')}] ${message}` })
  }
  out.records.sort((a, b) => a.id - b.id)
  return out
}

/** WinEventSource runs the script every interval and queues what it returns for the next poll. */
export class WinEventSource extends QueuedSource<WinEventRecord, number> {
  private fetched: number | undefined
  private timer: NodeJS.Timeout | undefined
  private closed = false
  private running: Promise<void> | undefined

  constructor (readonly spec: WinEventSpec, stamp: (source: string, t: number) => number, now: number, private readonly onError: (err: unknown) => void = () => {}) {
    super(spec, stamp, now)
  }

  protected position (r: WinEventRecord): number { return r.id }

  start (saved: unknown): void {
    this.closed = false
    this.queue = []
    this.last = typeof saved === 'number' ? saved : undefined
    this.fetched = this.last
    this.schedule(0)
  }

  private schedule (delay: number): void {
    if (this.closed) return
    this.timer = setTimeout(() => {
      this.running = this.fetch().catch(err => this.onError(err)).finally(() => { this.running = undefined; this.schedule(this.spec.intervalMs) })
    }, delay)
  }

  /** fetch asks for the records after the newest one already queued (none while the queue is long). */
  private async fetch (): Promise<void> {
    if (this.queue.length >= MAX_EVENTS * 4) return
    const script = winEventScript(this.spec, this.fetched)
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(this.spec.command, ['-NoProfile', '-NonInteractive', '-Command', script], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024, windowsHide: true, encoding: 'utf8' }, (err, out, errOut) => {
        if (err !== null) reject(new Error(`${this.spec.command} Get-WinEvent failed: ${(errOut || err.message).trim().split('\n')[0]}`))
        else resolve(out)
      })
    })
    if (this.closed) return
    const r = parseWinEventOutput(stdout, this.spec.channel)
    if (this.fetched === undefined) {
      this.fetched = r.last ?? 0
      this.last = this.fetched
      return
    }
    for (const rec of r.records) {
      if (rec.id <= this.fetched) continue
      this.queue.push(rec)
      this.fetched = rec.id
    }
  }

  async close (): Promise<void> {
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    await this.running
  }
}
