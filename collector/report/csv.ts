// One CSV file per table: UTF-8 with a byte-order mark (so Excel on Windows
// reads the Japanese headers), CRLF line ends, RFC 4180 quoting. Numbers are
// plain (percentages in percent units, as the headers say); times local.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Cell, Column, Table } from './tables.js'
import { localStamp } from './tables.js'

function field (v: Cell, c: Column, tz: string): string {
  if (v === null || v === undefined) return ''
  let s: string
  if (typeof v === 'number') {
    if (c.type === 'datetime') s = localStamp(v, tz)
    else if (c.type === 'date') s = localStamp(v, tz).slice(0, 10)
    else if (c.type === 'int') s = String(Math.round(v))
    else s = String(Math.round(v * 1e6) / 1e6)
  } else s = v
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

function toCsv (t: Table, tz: string): string {
  const lines = [t.columns.map(c => field(c.header, { ...c, type: 'text' }, tz)).join(',')]
  for (const r of t.rows) lines.push(t.columns.map(c => field(r[c.key] ?? null, c, tz)).join(','))
  return '\ufeff' + lines.join('\r\n') + '\r\n'
}

/** writeCsvs writes <id>.csv for every table and returns the file names. */
export function writeCsvs (dir: string, tables: Table[], tz: string): string[] {
  return tables.map(t => {
    const name = `${t.id}.csv`
    writeFileSync(join(dir, name), toCsv(t, tz))
    return name
  })
}
