// Tells printed Japanese from tofu. Each character is printed alone in its own
// 100 px cell by the report's own print path (collector/report/pdf.ts), the PDF
// is rasterised with pdftoppm, and the cells are compared: a missing font
// prints the same box (or nothing) for every character, real kanji differ.

import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { findChromium, printPdf } from '../../collector/report/pdf.js'

const run = promisify(execFile)
const CELL = 100

export interface Bitmap { width: number, height: number, grey: Uint8Array }

/** readPgm decodes pdftoppm -gray output (binary PGM, P5, maxval 255). */
export function readPgm (buf: Buffer): Bitmap {
  const head = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(buf.toString('latin1', 0, 40))
  if (head === null) throw new Error(`not a binary 8-bit PGM: ${JSON.stringify(buf.toString('latin1', 0, 16))}`)
  const width = Number(head[1]); const height = Number(head[2])
  const grey = new Uint8Array(buf.subarray(head[0].length, head[0].length + width * height))
  if (grey.length !== width * height) throw new Error(`PGM ${width}×${height} holds ${grey.length} pixels`)
  return { width, height, grey }
}

export function crop (b: Bitmap, x: number, y: number, width: number, height: number): Bitmap {
  const grey = new Uint8Array(width * height)
  for (let r = 0; r < height; r++) grey.set(b.grey.subarray((y + r) * b.width + x, (y + r) * b.width + x + width), r * width)
  return { width, height, grey }
}

const dark = (v: number): boolean => v < 128

/** ink is the share of dark pixels. */
export function ink (b: Bitmap): number {
  let n = 0
  for (const v of b.grey) if (dark(v)) n++
  return n / b.grey.length
}

/** difference is the share of the pixels inked in either bitmap that are inked in only one. */
export function difference (a: Bitmap, b: Bitmap): number {
  let either = 0; let one = 0
  for (let i = 0; i < a.grey.length; i++) {
    const x = dark(a.grey[i]!); const y = dark(b.grey[i]!)
    if (x || y) either++
    if (x !== y) one++
  }
  return either === 0 ? 0 : one / either
}

/** tofu says why cells look like missing glyphs, or undefined when every cell is a distinct, inked glyph. */
export function tofu (chars: readonly string[], cells: readonly Bitmap[]): string | undefined {
  for (let i = 0; i < cells.length; i++) if (ink(cells[i]!) < 0.02) return `${chars[i]} has no ink (${(ink(cells[i]!) * 100).toFixed(2)} % dark)`
  for (let i = 0; i < cells.length; i++) {
    for (let j = i + 1; j < cells.length; j++) {
      const d = difference(cells[i]!, cells[j]!)
      if (d < 0.2) return `${chars[i]} and ${chars[j]} are the same shape (${(d * 100).toFixed(1)} % of their ink differs): tofu`
    }
  }
  return undefined
}

export interface Printed { pdf: string, cells: Bitmap[], verdict: string | undefined }

/** printGlyphs prints chars in fontFamily (a CSS font-family value) under env and judges the cells. */
export async function printGlyphs (dir: string, chars: readonly string[], fontFamily: string, env: NodeJS.ProcessEnv = process.env): Promise<Printed> {
  const chromium = findChromium() ?? '/usr/bin/chromium'
  const cells = chars.map((c, i) => `<div style="left:${i * CELL}px">${c}</div>`).join('')
  const html = join(dir, 'glyphs.html')
  writeFileSync(html, `<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><style>@page { size: ${chars.length * CELL}px ${CELL}px; margin: 0 } ` +
    `body { margin: 0; font-family: ${fontFamily} } div { position: absolute; top: 0; width: ${CELL}px; height: ${CELL}px; font-size: 72px; line-height: ${CELL}px; text-align: center }` +
    `</style></head><body>${cells}</body></html>`)
  const pdf = join(dir, 'glyphs.pdf')
  await printPdf(chromium, html, pdf, 60_000, env)
  // 96 dpi: one CSS pixel is one raster pixel, so the cells fall on whole pixels.
  const { stdout } = await run('pdftoppm', ['-gray', '-r', '96', '-f', '1', '-l', '1', pdf], { encoding: 'buffer', maxBuffer: 16 << 20 })
  const page = readPgm(stdout)
  const bitmaps = chars.map((_, i) => crop(page, i * CELL, 0, CELL, Math.min(CELL, page.height)))
  return { pdf, cells: bitmaps, verdict: tofu(chars, bitmaps) }
}

/** noCjkFontconfig writes a fontconfig file that sees only DejaVu: a server without a Japanese font. */
export function noCjkFontconfig (dir: string): string {
  const file = join(dir, 'fonts-no-cjk.conf')
  writeFileSync(file, `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>/usr/share/fonts/truetype/dejavu</dir>\n  <cachedir>${join(dir, 'fontconfig-cache')}</cachedir>\n</fontconfig>\n`)
  return file
}
