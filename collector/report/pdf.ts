// report.pdf, when a Chromium is installed: the headless browser prints
// report.html as it is (A4 from the page's @page rule). No Chromium is not an
// error: the caller says so and the HTML stays the report. Japanese needs a
// Japanese font on this machine (docs/report.md, "Fonts"), else it prints boxes.

import { execFile } from 'node:child_process'
import { accessSync, constants, existsSync, statSync } from 'node:fs'
import { basename, delimiter, dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']

/** findChromium looks at KANSHI_CHROMIUM, then PATH. */
export function findChromium (env: NodeJS.ProcessEnv = process.env): string | undefined {
  const pinned = env['KANSHI_CHROMIUM']
  if (pinned !== undefined && pinned !== '') return existsSync(pinned) ? pinned : undefined
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    for (const n of NAMES) {
      const p = join(dir, n)
      try { accessSync(p, constants.X_OK); return p } catch { /* next */ }
    }
  }
  return undefined
}

/** printPdf prints html to pdf; env is Chromium's environment (fontconfig reads FONTCONFIG_FILE from it). */
export async function printPdf (chromium: string, html: string, pdf: string, timeoutMs = 120_000, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // Unhinted glyph metrics: the printed text keeps the widths the layout used.
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
    '--no-pdf-header-footer', '--run-all-compositor-stages-before-draw', '--font-render-hinting=none', `--print-to-pdf=${pdf}`, pathToFileURL(html).href]
  await new Promise<void>((resolve, reject) => {
    execFile(chromium, args, { timeout: timeoutMs, env: { ...env, HOME: env['HOME'] ?? '/tmp' } }, (err, _out, stderr) => {
      if (err !== null && !existsSync(pdf)) reject(new Error(`${chromium} could not print the PDF: ${String(stderr).trim().split('\n').slice(-2).join(' ') || err.message}`))
      else resolve()
    })
  })
  if (!existsSync(pdf) || statSync(pdf).size === 0) throw new Error(`${chromium} wrote no PDF`)
}

/**
 * pdfBeside prints html to the PDF of the same name beside it (report.html → report.pdf) when asked
 * and Chromium is there: it returns the PDF's file name, or why there is none.
 */
export async function pdfBeside (html: string, wanted: boolean): Promise<{ file: string } | { skipped: string }> {
  if (!wanted) return { skipped: 'not asked for (--no-pdf)' }
  const chromium = findChromium()
  if (chromium === undefined) return { skipped: `Chromium not found (install the chromium package, or set KANSHI_CHROMIUM to its path); ${basename(html)} prints to PDF from any browser` }
  const file = basename(html).replace(/\.html$/, '.pdf')
  await printPdf(chromium, html, join(dirname(html), file))
  return { file }
}
