// The journald source against a real journalctl reading a real journal file:
// systemd-journal-remote turns journal export format into a .journal file
// (and appends to it), so entries can be added while the source follows.

import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import iconv from 'iconv-lite'
import type { LogEvent } from '../../protocol/messages.js'
import { JournaldSource } from '../../agent/inputs/logs/journald.js'
import type { JournaldSpec } from '../../agent/inputs/logs/config.js'
import { DEFAULT_LEVELS } from '../../agent/inputs/logs/logline.js'
import { waitFor } from '../helpers/procs.js'
import { pumpInto } from '../helpers/logs.js'
import { tmpDir } from '../helpers/tmp.js'

const REMOTE = '/lib/systemd/systemd-journal-remote'
const BOOT = '0123456789abcdef0123456789abcdef'

interface Entry { us: number, unit?: string, ident?: string, prio: number, message: string | Buffer }

/** exportFormat renders entries in journal export format; a Buffer message becomes a binary field. */
function exportFormat (entries: Entry[], mono: number): Buffer {
  const parts: Buffer[] = []
  for (const [i, e] of entries.entries()) {
    let text = `__REALTIME_TIMESTAMP=${e.us}\n__MONOTONIC_TIMESTAMP=${mono + i}\n_BOOT_ID=${BOOT}\nPRIORITY=${e.prio}\n_HOSTNAME=kiosk01\n`
    if (e.unit !== undefined) text += `_SYSTEMD_UNIT=${e.unit}\n`
    if (e.ident !== undefined) text += `SYSLOG_IDENTIFIER=${e.ident}\n`
    parts.push(Buffer.from(text))
    if (typeof e.message === 'string') parts.push(Buffer.from(`MESSAGE=${e.message}\n`))
    else {
      const len = Buffer.alloc(8)
      len.writeBigUInt64LE(BigInt(e.message.length))
      parts.push(Buffer.from('MESSAGE\n'), len, e.message, Buffer.from('\n'))
    }
    parts.push(Buffer.from('\n'))
  }
  return Buffer.concat(parts)
}

if (!existsSync(REMOTE)) {
  t.comment(`skipped: ${REMOTE} is missing (Debian package systemd-journal-remote; scripts/test.sh installs it)`)
  t.pass('skipped without systemd-journal-remote')
} else {
  t.test('journald: follows a real journal from now on, and from the saved cursor after a restart', async t => {
    const dir = await tmpDir(t)
    let mono = 1000
    const append = (entries: Entry[]): void => {
      execFileSync(REMOTE, [`--output=${join(dir, 'remote.journal')}`, '-'], { input: exportFormat(entries, mono), stdio: ['pipe', 'ignore', 'ignore'] })
      mono += entries.length
    }
    const base = 1_795_420_000_000_000
    append([{ us: base, unit: 'nginx.service', prio: 3, message: 'old entry before the first start' }])
    const spec: JournaldSpec = {
      name: 'nginx', units: ['nginx.service'], identifiers: [], command: 'journalctl', directory: dir,
      levels: DEFAULT_LEVELS, defaultLevel: 'info', minLevel: 'debug', include: [], exclude: [], rateLimit: 0, burst: 1, tags: {}
    }
    const lastT: Record<string, number> = {}
    const stamp = (s: string, at: number): number => { const v = Math.max(at, (lastT[s] ?? 0) + 1); lastT[s] = v; return v }
    const errors: unknown[] = []
    const events: LogEvent[] = []
    const pump = pumpInto(events)
    let src = new JournaldSource(spec, stamp, Date.now(), err => errors.push(err))
    src.start(undefined)
    await new Promise(resolve => setTimeout(resolve, 700)) // journalctl is following now
    append([
      { us: base + 1_000_000, unit: 'nginx.service', prio: 3, message: 'upstream timed out 窓口システム' },
      { us: base + 2_000_000, unit: 'other.service', prio: 3, message: 'not ours' },
      { us: base + 3_000_000, unit: 'nginx.service', prio: 4, message: iconv.encode('警告 Shift_JIS bytes', 'cp932') }
    ])
    await waitFor(async () => { await pump(src); return events.length >= 2 }, 10_000, 100)
    t.same(events.map(e => [e.source, e.level, e.t]), [['journald:nginx.service', 'error', base / 1000 + 1000], ['journald:nginx.service', 'warning', base / 1000 + 3000]])
    t.equal(events[0]!.message, 'upstream timed out 窓口システム')
    t.match(events[1]!.message, /Shift_JIS bytes$/, 'a binary MESSAGE (not UTF-8) arrives as text with replacement characters, not an error')
    const cursor = src.cursor()
    t.type(cursor, 'string')
    await src.close()
    // Entries written while the agent is stopped come after the saved cursor, once each.
    append([
      { us: base + 4_000_000, unit: 'nginx.service', prio: 6, message: 'while stopped 1' },
      { us: base + 5_000_000, unit: 'nginx.service', prio: 2, message: 'while stopped 2' }
    ])
    src = new JournaldSource(spec, stamp, Date.now(), err => errors.push(err))
    src.start(cursor)
    await waitFor(async () => { await pump(src); return events.length >= 4 }, 10_000, 100)
    await new Promise(resolve => setTimeout(resolve, 300))
    await pump(src)
    t.same(events.slice(2).map(e => [e.message, e.level]), [['while stopped 1', 'info'], ['while stopped 2', 'crit']])
    await src.close()
    t.same(errors, [], 'no errors')
  })

  t.test('journald: a missing journalctl is reported, not fatal', async t => {
    const spec: JournaldSpec = {
      name: 'x', units: [], identifiers: [], command: '/nonexistent/journalctl',
      levels: DEFAULT_LEVELS, defaultLevel: 'info', minLevel: 'debug', include: [], exclude: [], rateLimit: 0, burst: 1, tags: {}
    }
    const errors: string[] = []
    const src = new JournaldSource(spec, (_s, at) => at, Date.now(), err => errors.push(String((err as Error).message)))
    src.start(undefined)
    await waitFor(() => errors.length > 0, 5000, 50)
    t.match(errors[0], /cannot run \/nonexistent\/journalctl/)
    await src.close()
  })
}
