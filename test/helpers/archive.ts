// The log archive in tests: a signing key pair on disk, log events numbered so each is known,
// the CLI run as a real process (dist/), and day files edited the way a tamperer would.

import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { newKeyPair } from '../../collector/archive/manifest.js'
import type { FakeAgent } from './fake-agent.js'

const root = resolve(import.meta.dirname, '..', '..')

/** writeKeys writes <dir>/archive.key (private) and archive.key.pub; it returns both paths. */
export function writeKeys (dir: string): { key: string, pub: string } {
  const k = newKeyPair()
  writeFileSync(join(dir, 'archive.key'), k.privatePem, { mode: 0o600 })
  writeFileSync(join(dir, 'archive.key.pub'), k.publicPem)
  return { key: join(dir, 'archive.key'), pub: join(dir, 'archive.key.pub') }
}

export interface SentEvent { t: number, host: string, source: string, level: string, message: string }

const LEVELS = ['error', 'warning', 'info'] as const

/** makeEvents returns n events of host, numbered from first; some messages hold Japanese, commas, quotes and line breaks. */
export function makeEvents (host: string, first: number, n: number, t0: number): SentEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const k = first + i
    const message = k % 7 === 0 ? `ID-${k} ログイン失敗, user "田中"\n2行目` : `ID-${k} disk check ok`
    return { t: t0 + k, host, source: '/var/log/app.log', level: LEVELS[k % 3]!, message }
  })
}

/** sendEvents sends the events in batches of per from seq on, and waits for every ack; it returns the next seq. */
export async function sendEvents (a: FakeAgent, seq: number, events: SentEvent[], per = 200): Promise<number> {
  for (let i = 0; i < events.length; i += per) {
    a.batch(seq, [], { events: events.slice(i, i + per).map(({ host: _h, ...e }) => e) })
    await a.waitFrame(m => m.type === 'ack' && m.seq === seq, `ack ${seq}`)
    seq++
  }
  return seq
}

/** collectorCli runs dist/collector/main.js with args and returns its exit code and output. */
export function collectorCli (args: string[]): { code: number | null, out: string, err: string } {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'collector', 'main.js'), ...args], { encoding: 'utf8' })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/** editLines rewrites a day file's records (as lines) through fn, compressed again as one member. */
export function editLines (file: string, fn: (lines: string[]) => string[]): void {
  const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\n').slice(0, -1)
  writeFileSync(file, gzipSync(fn(lines).map(l => l + '\n').join('')))
}

/** parseCsv reads RFC 4180 CSV (quoted cells may hold commas, quotes and line breaks). */
export function parseCsv (text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++ } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === ',') { row.push(cell); cell = '' } else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++ } else cell += c
  }
  return rows
}
