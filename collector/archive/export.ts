// logs export: the archived log events of the days from..to, filtered by host, level and a regex
// over the message, as CSV (UTF-8 with a BOM, so Excel reads Japanese right) or JSON lines.
// Only log events: the archive's alert and audit records are left out.

import { createWriteStream, existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { once } from 'node:events'
import { DAY_FILE, parseLine, type RecordBody } from './record.js'
import { readDayBytes } from './day-file.js'

export interface ExportOptions {
  dir: string
  from: string
  to: string
  host?: string
  level?: string
  match?: RegExp
  format: 'csv' | 'jsonl'
  out: string
}

export interface ExportResult { days: number, events: number, gaps: number, unreadable: number }

const COLUMNS = ['time', 'host', 'role', 'site', 'source', 'level', 'message'] as const

/** csvCell quotes a cell when it holds a comma, a quote or a line break (RFC 4180), and puts a ' before
 * a cell starting with = + - @ tab or CR so a spreadsheet shows it as text, never runs it (OWASP CSV injection). */
export function csvCell (s: string): string {
  const v = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
}

/** exportRow is what one event exports as (JSON lines; CSV takes COLUMNS of it). */
export function exportRow (b: RecordBody): Record<(typeof COLUMNS)[number] | 't', string | number> {
  return { time: new Date(b.t ?? b.r).toISOString(), t: b.t ?? b.r, host: b.host ?? '', role: b.role ?? '', site: b.site ?? '', source: b.source ?? '', level: b.level ?? '', message: b.message ?? '' }
}

export async function exportLogs (o: ExportOptions): Promise<ExportResult> {
  if (!existsSync(o.dir)) throw new Error(`${o.dir}: there is no archive directory`)
  const days = readdirSync(o.dir).map(f => DAY_FILE.exec(f)?.[1]).filter((d): d is string => d !== undefined && d >= o.from && d <= o.to).sort()
  const res: ExportResult = { days: days.length, events: 0, gaps: 0, unreadable: 0 }
  const out = createWriteStream(o.out, { mode: 0o600 })
  const write = async (s: string): Promise<void> => { if (!out.write(s)) await once(out, 'drain') }
  if (o.format === 'csv') await write('\uFEFF' + COLUMNS.join(',') + '\r\n')
  for (const day of days) {
    const text = readDayBytes(readFileSync(join(o.dir, `${day}.log.gz`)))
    const rows: string[] = []
    for (const l of text.lines) {
      const p = parseLine(l)
      if (typeof p === 'string') { res.unreadable++; continue }
      const b = p.body
      if (b.k === 'gap') { res.gaps += b.skipped ?? 0; continue }
      // Alert and audit records are verified with the rest but are not log events: not exported.
      if (b.k !== 'log') continue
      if (o.host !== undefined && b.host !== o.host) continue
      if (o.level !== undefined && b.level !== o.level) continue
      if (o.match !== undefined && !o.match.test(b.message ?? '')) continue
      const row = exportRow(b)
      rows.push(o.format === 'csv' ? COLUMNS.map(c => csvCell(String(row[c]))).join(',') + '\r\n' : JSON.stringify(row) + '\n')
      res.events++
    }
    await write(rows.join(''))
  }
  out.end()
  await once(out, 'finish')
  return res
}
