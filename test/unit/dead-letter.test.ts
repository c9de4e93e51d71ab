// The dead-letter file on a real directory: what it keeps, and its bound, whose overflow is
// counted in kanshi_dead_letter_dropped_total and logged once with the total.

import t from 'tap'
import { readFile, stat } from 'node:fs/promises'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { DeadLetter } from '../../collector/storage/dead-letter.js'
import { createMetrics } from '../../collector/metrics.js'

function setup (dir: string, maxBytes: number) {
  const metrics = createMetrics(new Registry(), false)
  const logs: Array<{ level: number, msg: string, dropped?: number }> = []
  const logger = pino({ level: 'info' }, { write: (s: string) => { logs.push(JSON.parse(s)) } })
  const dl = new DeadLetter(dir, { metrics, logger, maxBytes, now: () => Date.UTC(2026, 0, 2, 3, 4, 5) })
  return { dl, metrics, logs }
}

t.test('each refused line is one JSON record with the time, status and reason', async t => {
  const { dl } = setup(t.testdir(), 1 << 20)
  await dl.add(['a v=1 1', 'b v=2 2'], 'HTTP 400: type conflict', 400)
  const recs = (await readFile(dl.path, 'utf8')).trim().split('\n').map(l => JSON.parse(l))
  t.same(recs, [
    { at: '2026-01-02T03:04:05.000Z', status: 400, reason: 'HTTP 400: type conflict', line: 'a v=1 1' },
    { at: '2026-01-02T03:04:05.000Z', status: 400, reason: 'HTTP 400: type conflict', line: 'b v=2 2' }
  ])
  t.equal(((await stat(dl.path)).mode & 0o777), 0o600)
})

t.test('past its bound the file keeps nothing more: drops are counted and logged once with the total', async t => {
  const dir = t.testdir()
  const rec = Buffer.byteLength(JSON.stringify({ at: '2026-01-02T03:04:05.000Z', status: 400, reason: 'r', line: 'x v=1 1' }) + '\n')
  const { dl, metrics, logs } = setup(dir, rec * 3)
  await dl.add(['x v=1 1', 'x v=1 1'], 'r', 400)
  await dl.add(['x v=1 1', 'x v=1 1', 'x v=1 1'], 'r', 400)
  await dl.add(['x v=1 1'], 'r', 400)
  t.equal((await stat(dl.path)).size, rec * 3, 'the file stops at its bound')
  t.equal(dl.dropped, 3)
  t.equal((await metrics.deadLetterDropped.get()).values[0]!.value, 3)
  const warned = logs.filter(l => l.level === 40)
  t.equal(warned.length, 1, 'one log line, not one per drop')
  t.equal(warned[0]!.dropped, 2, 'with the total dropped when it was written')
  t.match(warned[0]!.msg, /dead-letter file is full/)
  const { dl: again, metrics: m2 } = setup(dir, rec * 3)
  await again.add(['x v=1 1'], 'r', 400)
  t.equal((await m2.deadLetterDropped.get()).values[0]!.value, 1, 'a restart counts what the file already holds')
})

t.test('the bound is in bytes, not characters', async t => {
  const line = 'ログ message="' + 'あ'.repeat(100) + '" 1'
  const rec = Buffer.byteLength(JSON.stringify({ at: '2026-01-02T03:04:05.000Z', status: 400, reason: 'r', line }) + '\n')
  const { dl } = setup(t.testdir(), rec * 2)
  await dl.add([line, line, line], 'r', 400)
  t.ok((await stat(dl.path)).size <= rec * 2, `file of ${(await stat(dl.path)).size} bytes within its bound of ${rec * 2}`)
  t.equal(dl.dropped, 1)
})
