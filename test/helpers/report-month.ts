// What the report tests of August 2026 compute their expected figures with: business hours in
// JST (08:30–17:45 on weekdays; 山の日, 11 Aug, is the month's only national holiday) and the
// rows of one sheet of report.xlsx.

import ExcelJS from 'exceljs'

const MIN = 60_000
const DAY = 86_400_000
const JST = 9 * 3_600_000

export const localDate = (ms: number): string => new Date(ms + JST).toISOString().slice(0, 10)
const localMinute = (ms: number): number => Math.floor(((ms + JST) % DAY) / MIN)
const weekday = (ms: number): number => new Date(ms + JST).getUTCDay()

/** inHours: the minute at ms lies in August 2026's business hours. */
export const inHours = (ms: number): boolean => weekday(ms) !== 0 && weekday(ms) !== 6 && localDate(ms) !== '2026-08-11' && localMinute(ms) >= 510 && localMinute(ms) < 1065

/** minutesInHours counts the business-hour minutes in [from, to). */
export const minutesInHours = (from: number, to: number): number => { let n = 0; for (let m = from; m < to; m += MIN) if (inHours(m)) n++; return n }

/** sheetRows reads one sheet of an XLSX file as objects keyed by its header row. */
export async function sheetRows (file: string, name: string): Promise<Array<Record<string, unknown>>> {
  const wb = new ExcelJS.Workbook()
  await wb.xlsx.readFile(file)
  const ws = wb.getWorksheet(name)!
  const head = (ws.getRow(1).values as unknown[]).slice(1).map(String)
  const out: Array<Record<string, unknown>> = []
  ws.eachRow((row, i) => { if (i > 1) out.push(Object.fromEntries(head.map((h, j) => [h, row.getCell(j + 1).value]))) })
  return out
}
