// journald on Linux: `journalctl -o json --follow` from a saved cursor. Each
// entry's __CURSOR is the position; the cursor saved with a batch is the one
// of the last entry in it, and a restart follows with --after-cursor.

import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { JournaldSpec } from './config.js'
import { LEVELS, type Level } from './logline.js'
import { QueuedSource } from './stream.js'

export interface JournalRecord { cursor: string, t: number, level: Level, source: string, message: string }

/**
 * parseJournalLine reads one line of `journalctl -o json`. MESSAGE is a
 * string, or an array of bytes when it is not valid UTF-8, or null.
 */
function parseJournalLine (line: string): JournalRecord | undefined {
  let o: Record<string, unknown>
  try { o = JSON.parse(line) as Record<string, unknown> } catch { return undefined }
  if (typeof o !== 'object' || o === null || typeof o['__CURSOR'] !== 'string') return undefined
  const raw = o['MESSAGE']
  const message = typeof raw === 'string'
    ? raw
    : Array.isArray(raw) ? Buffer.from(raw.filter((b): b is number => typeof b === 'number')).toString('utf8') : ''
  const us = Number(o['__REALTIME_TIMESTAMP'])
  const prio = Number(o['PRIORITY'])
  const unit = str(o['_SYSTEMD_UNIT']) ?? str(o['UNIT'])
  const ident = str(o['SYSLOG_IDENTIFIER']) ?? str(o['_COMM'])
  return {
    cursor: o['__CURSOR'],
    t: Number.isFinite(us) ? Math.floor(us / 1000) : Date.now(),
    level: Number.isInteger(prio) && prio >= 0 && prio <= 7 ? LEVELS[prio]! : 'info',
    source: `journald:${unit ?? ident ?? 'unknown'}`,
    message
  }
}

const str = (v: unknown): string | undefined => typeof v === 'string' && v !== '' ? v : undefined

/** journalArgs builds the journalctl command line. */
function journalArgs (spec: Pick<JournaldSpec, 'units' | 'identifiers' | 'directory'>, cursor: string | undefined): string[] {
  const args = ['-o', 'json', '--follow', '--no-pager']
  if (spec.directory !== undefined) args.push(`--directory=${spec.directory}`)
  if (cursor !== undefined) args.push(`--after-cursor=${cursor}`)
  else args.push('--lines=0')
  for (const u of spec.units) args.push(`--unit=${u}`)
  for (const i of spec.identifiers) args.push(`--identifier=${i}`)
  return args
}

const MAX_QUEUE = 20_000
const RESTART_MS = 10_000

/**
 * JournaldSource keeps journalctl running and queues its entries; poll moves
 * them into batches. When the queue is full the pipe is paused (journald
 * keeps the entries; nothing is dropped here). If journalctl exits it is
 * started again after the last cursor handed out.
 */
export class JournaldSource extends QueuedSource<JournalRecord, string> {
  private child: ChildProcess | undefined
  private closed = false
  private restartTimer: NodeJS.Timeout | undefined
  private paused = false
  lastError: string | undefined

  constructor (readonly spec: JournaldSpec, stamp: (source: string, t: number) => number, now: number, private readonly onError: (err: unknown) => void = () => {}) {
    super(spec, stamp, now)
  }

  protected position (r: JournalRecord): string { return r.cursor }

  protected drained (): void {
    if (this.paused && this.child !== undefined) { this.paused = false; this.child.stdout!.resume() }
  }

  start (saved: unknown): void {
    this.closed = false
    this.queue = []
    this.last = typeof saved === 'string' ? saved : undefined
    this.spawn()
  }

  private spawn (): void {
    if (this.closed) return
    const child = spawn(this.spec.command, journalArgs(this.spec, this.last), { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000) })
    const rl = createInterface({ input: child.stdout!, crlfDelay: Infinity })
    rl.on('line', line => {
      const r = parseJournalLine(line)
      if (r === undefined) return
      this.queue.push(r)
      if (this.queue.length >= MAX_QUEUE && !this.paused) { this.paused = true; child.stdout!.pause() }
    })
    const restart = (why: string): void => {
      if (this.child !== child) return
      this.child = undefined
      if (this.closed) return
      this.lastError = why
      this.onError(new Error(why))
      this.restartTimer = setTimeout(() => this.spawn(), RESTART_MS)
    }
    child.on('error', err => restart(`cannot run ${this.spec.command}: ${err.message}`))
    child.on('exit', (code, signal) => restart(`${this.spec.command} exited (${signal ?? code})${stderr !== '' ? ': ' + stderr.trim().split('\n').at(-1)! : ''}`))
  }

  async close (): Promise<void> {
    this.closed = true
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer)
    const c = this.child
    this.child = undefined
    if (c !== undefined && c.exitCode === null) {
      await new Promise<void>(resolve => { c.once('exit', () => resolve()); c.kill('SIGTERM') })
    }
  }
}
