// report.xlsx: the report's tables as sheets (Summary, Hosts, Disks, Network,
// Services, Availability, Incidents, Jobs) with number formats, widths, a
// frozen header and filters. Times are written as local wall-clock times
// (Excel has no timezone); percentages as fractions with a % format.

import ExcelJS from 'exceljs'
import { localTime } from '../../common/calendar.js'
import { cellDigits, type Cell, type Column, type Table } from './tables.js'

const FORMATS: Record<Column['type'], (c: Column) => string | undefined> = {
  text: () => undefined,
  int: () => '#,##0',
  num: c => (c.digits ?? 1) === 0 ? '#,##0' : `#,##0.${'0'.repeat(c.digits ?? 1)}`,
  pct: c => `0.${'0'.repeat(c.digits ?? 1)}%`,
  gb: () => '#,##0.00',
  datetime: () => 'yyyy-mm-dd hh:mm',
  date: () => 'yyyy-mm-dd'
}

/** wallClock is a Date whose UTC fields are the local time in tz, which is what Excel shows. */
function wallClock (t: number, tz: string): Date {
  const l = localTime(t, tz)
  return new Date(Date.UTC(l.year, l.month - 1, l.day, 0, l.minute) + (t % 60_000))
}

/** displayWidth counts East Asian characters as two columns. */
function displayWidth (s: string): number {
  let n = 0
  for (const ch of s) n += ch.codePointAt(0)! > 0x2e80 ? 2 : 1
  return n
}

function cellValue (v: Cell, c: Column, tz: string): ExcelJS.CellValue {
  if (v === null || v === undefined) return null
  if (typeof v === 'string') return v
  if (c.type === 'datetime' || c.type === 'date') return wallClock(v, tz)
  if (c.type === 'pct') return v / 100
  return v
}

export async function writeXlsx (file: string, tables: ReadonlyArray<Pick<Table, 'sheet' | 'columns' | 'rows'>>, tz: string, meta: { title: string, month: string }): Promise<void> {
  const wb = new ExcelJS.Workbook()
  wb.creator = 'kanshi-report'
  wb.title = `${meta.title} ${meta.month}`
  wb.created = new Date(0)
  for (const t of tables) {
    const ws = wb.addWorksheet(t.sheet, { views: [{ state: 'frozen', ySplit: 1 }], pageSetup: { paperSize: 9, orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0 } })
    ws.columns = t.columns.map(c => ({ header: c.header, key: c.key, width: Math.max(c.width, Math.min(40, displayWidth(c.header) + 2)), style: FORMATS[c.type](c) !== undefined ? { numFmt: FORMATS[c.type](c)! } : {} }))
    for (const r of t.rows) {
      const row = ws.addRow(Object.fromEntries(t.columns.map(c => [c.key, cellValue(r[c.key] ?? null, c, tz)])))
      t.columns.forEach((c, i) => { if (c.digitsKey !== undefined) row.getCell(i + 1).numFmt = FORMATS[c.type]({ ...c, digits: cellDigits(c, r) })! })
    }
    const head = ws.getRow(1)
    head.font = { bold: true }
    head.alignment = { vertical: 'middle', wrapText: true }
    head.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFEEF2F7' } }
    if (t.rows.length > 0) ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: t.columns.length } }
  }
  await wb.xlsx.writeFile(file)
}
