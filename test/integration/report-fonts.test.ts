// The tofu check itself, through the report's print path (pdf.ts → Chromium →
// PDF → pdftoppm): it passes with the Japanese font scripts/test.sh installs,
// and it fails on a machine without one (a fontconfig that sees only DejaVu),
// so the check in report.test.ts can fail. No influxd needed.

import t from 'tap'
import { execFileSync } from 'node:child_process'
import { tmpDir } from '../helpers/tmp.js'
import { difference, ink, noCjkFontconfig, printGlyphs, type Bitmap } from '../helpers/glyphs.js'
import { FONT_STACK } from '../../collector/report/fonts.js'

const KANJI = ['監', '視']

t.test('fc-match resolves the report\'s first font to the installed IPAexGothic', async t => {
  const match = execFileSync('fc-match', ['-f', '%{family}|%{file}', 'IPAexGothic'], { encoding: 'utf8' })
  t.match(match, /^IPAexGothic\b[^|]*\|/, `fc-match IPAexGothic: ${match} (scripts/test.sh installs fonts-ipaexfont-gothic)`)
})

t.test('with the Japanese font: two kanji print as two different inked glyphs', async t => {
  const dir = await tmpDir(t)
  const r = await printGlyphs(dir, KANJI, '"IPAexGothic", sans-serif')
  const [a, b] = r.cells as [Bitmap, Bitmap]
  t.equal(r.verdict, undefined, `監 and 視 are real glyphs: ${r.verdict ?? `${(difference(a, b) * 100).toFixed(0)} % of their ink differs; ${(ink(a) * 100).toFixed(1)} % and ${(ink(b) * 100).toFixed(1)} % dark`}`)
  t.match(execFileSync('pdffonts', [r.pdf], { encoding: 'utf8' }), /\+IPAexGothic\s+CID TrueType/, 'embedded as a named TrueType subset')
})

t.test('without a Japanese font: the same check reports tofu', async t => {
  const dir = await tmpDir(t)
  const env = { ...process.env, FONTCONFIG_FILE: noCjkFontconfig(dir) }
  const stack = await printGlyphs(dir, KANJI, FONT_STACK, env)
  t.match(stack.verdict, /tofu|no ink/, `the report's font stack on a server with DejaVu only: ${stack.verdict ?? 'judged Japanese (wrong)'}`)
  const missing = await printGlyphs(dir, KANJI, '"No Such Font"', env)
  t.match(missing.verdict, /tofu|no ink/, `a font-family that does not exist: ${missing.verdict ?? 'judged Japanese (wrong)'}`)
  t.notMatch(execFileSync('pdffonts', [missing.pdf], { encoding: 'utf8' }), /IPA|Noto.*CJK/, 'and no CJK font is embedded')
})
