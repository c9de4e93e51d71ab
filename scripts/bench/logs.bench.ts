// Log tailing throughput: how fast the log input turns a file into events
// (read, split, decode, level detection, filters, unique timestamps, batches
// with positions), against Node's own line reader over the same file in the
// same process (fs stream → readline; for Shift_JIS through iconv-lite's
// decode stream) as the reference. Prints lines/s and the ratio, and the log
// input again with the three redaction presets (mynumber, phone-jp, email).
//   node dist/scripts/bench/logs.bench.js [--lines N] [--rounds N] [--smoke]

import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import iconv from 'iconv-lite'
import { LogInput } from '../../agent/inputs/logs/input.js'
import type { FileSourceSpec } from '../../agent/inputs/logs/config.js'
import { DEFAULT_LEVELS, type Encoding } from '../../agent/inputs/logs/logline.js'
import { presetRule, Redactor } from '../../agent/inputs/logs/redact.js'

const { values } = parseArgs({ options: { lines: { type: 'string', default: '300000' }, rounds: { type: 'string', default: '3' }, smoke: { type: 'boolean', default: false } } })
const LINES = values.smoke ? 20_000 : Number(values.lines)
const ROUNDS = values.smoke ? 1 : Number(values.rounds)

const dir = mkdtempSync(join(tmpdir(), 'kanshi-logs-bench-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

function text (): string {
  const parts: string[] = []
  for (let i = 0; i < LINES; i++) {
    const lvl = i % 50 === 0 ? 'ERROR' : i % 10 === 0 ? 'WARN' : 'INFO'
    // One line in a hundred carries personal data for the redact variant: マイナンバー, phone, e-mail.
    const pii = i % 100 === 0 ? ' 個人番号 1234 5678 9018 tel 090-1234-5678 mail taro@example.jp' : ''
    parts.push(`2026-11-23T09:${String(i % 60).padStart(2, '0')}:00.123+09:00 ${lvl} [worker-${i % 8}] 住民票発行 受付番号 ${i} 窓口 ${i % 12 + 1} 処理時間 ${i % 997} ms user=u${i % 1000}${pii}\n`)
  }
  return parts.join('')
}

const body = text()
const files: Record<'utf8' | 'cp932', string> = { utf8: join(dir, 'utf8.log'), cp932: join(dir, 'cp932.log') }
writeFileSync(files.utf8, body)
writeFileSync(files.cp932, iconv.encode(body, 'cp932'))
const bytes = Buffer.byteLength(body)

async function reference (enc: 'utf8' | 'cp932'): Promise<number> {
  const t0 = process.hrtime.bigint()
  const raw = createReadStream(files[enc], { highWaterMark: 256 * 1024 })
  const input = enc === 'utf8' ? raw.setEncoding('utf8') : raw.pipe(iconv.decodeStream('cp932'))
  let n = 0
  for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line.length >= 0) n++
  if (n !== LINES) throw new Error(`reference read ${n} lines, expected ${LINES}`)
  return Number(process.hrtime.bigint() - t0) / 1e9
}

async function kanshi (enc: Encoding, file: string, redact = false): Promise<number> {
  const spec: FileSourceSpec = {
    name: 'bench', paths: [file], encoding: enc, startAt: 'beginning', levels: DEFAULT_LEVELS, defaultLevel: 'info', minLevel: 'debug',
    include: [], exclude: [], rateLimit: 0, burst: 1, maxLineBytes: 16 * 1024, rotateWaitMs: 5000, tags: {},
    ...(redact ? { redact: new Redactor([presetRule('mynumber'), presetRule('phone-jp'), presetRule('email')]) } : {})
  }
  let n = 0
  const li = new LogInput([spec], { pollIntervalMs: 1000 })
  const t0 = process.hrtime.bigint()
  li.attach({ enqueue: async (_p, e) => { n += e.length; return 1 }, saveCursors: async () => {} }, undefined)
  while (n < LINES) {
    const before = n
    await li.pollOnce()
    if (n === before) throw new Error(`log input stalled at ${n} of ${LINES} lines`)
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  await li.close()
  return s
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const out = process.stdout
out.write(`log tailing: ${LINES.toLocaleString('en')} lines, ${(bytes / 2 ** 20).toFixed(1)} MiB (UTF-8), ${ROUNDS} round(s), median\n`)
for (const enc of ['utf8', 'cp932'] as const) {
  const ref: number[] = []
  const ours: number[] = []
  const redacted: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    ref.push(await reference(enc))
    ours.push(await kanshi(enc, files[enc]))
    redacted.push(await kanshi(enc, files[enc], true))
  }
  const refRate = LINES / median(ref)
  const ourRate = LINES / median(ours)
  out.write(`  ${enc.padEnd(5)}  reference (fs stream + readline${enc === 'cp932' ? ' + iconv decodeStream' : ''}): ${Math.round(refRate).toLocaleString('en')} lines/s` +
    `   kanshi log input: ${Math.round(ourRate).toLocaleString('en')} lines/s   ratio kanshi/reference ${(ourRate / refRate).toFixed(2)}\n`)
  const redRate = LINES / median(redacted)
  out.write(`  ${enc.padEnd(5)}  with redact [mynumber, phone-jp, email]: ${Math.round(redRate).toLocaleString('en')} lines/s   ratio to without ${(redRate / ourRate).toFixed(2)}\n`)
}
const mem = process.memoryUsage()
out.write(`  rss after the runs: ${(mem.rss / 2 ** 20).toFixed(0)} MiB\n`)
