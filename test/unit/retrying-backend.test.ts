// RetryingBackend's policy on a scripted back end, with the sleep and the random source injected:
// which results are retried, after how long, when prepare() runs, and how shutdown ends it.

import t from 'tap'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import type { SendResult } from '../../common/send-result.js'
import type { StorageBackend } from '../../collector/storage/backend.js'
import { RetryingBackend } from '../../collector/storage/retrying-backend.js'
import { createMetrics } from '../../collector/metrics.js'

/** scripted answers write() and prepare() from their lists, then ok; it records every call. */
function scripted (writes: SendResult[], prepares: SendResult[] = []) {
  const calls: string[] = []
  const inner: StorageBackend = {
    name: 'fake',
    write: async (lines, target) => { calls.push(`write ${target ?? 'raw'} ${lines.length}`); return writes.shift() ?? { kind: 'ok' } },
    prepare: async () => { calls.push('prepare'); return prepares.shift() ?? { kind: 'ok' } },
    ping: async () => true,
    close: async () => { calls.push('close') }
  }
  return { inner, calls }
}

function setup (inner: StorageBackend, signal?: AbortSignal) {
  const metrics = createMetrics(new Registry(), false)
  const logs: Array<{ level: number, msg: string, reason?: string }> = []
  const logger = pino({ level: 'info' }, { write: (s: string) => { logs.push(JSON.parse(s)) } })
  const slept: number[] = []
  let clock = 0
  const b = new RetryingBackend(inner, {
    metrics, logger, minBackoffMs: 100, maxBackoffMs: 1000, random: () => 0.5, signal,
    sleep: async ms => { slept.push(ms) },
    now: () => (clock += 5)
  })
  return { b, metrics, logs, slept }
}

const retry = (reason: string, extra: { afterMs?: number, status?: number } = {}): SendResult => ({ kind: 'retry', reason, ...extra })

t.test('retry results are retried with growing jittered backoff until the write lands', async t => {
  const { inner, calls } = scripted([retry('HTTP 500'), retry('HTTP 500'), retry('ECONNREFUSED'), retry('HTTP 503'), retry('HTTP 503')])
  const { b, metrics, slept } = setup(inner)
  t.same(await b.write(['a', 'b', 'c']), { kind: 'ok' })
  // equal jitter at random 0.5: three quarters of min·2^attempt, capped at max
  t.same(slept, [75, 150, 300, 600, 750])
  t.same(calls, ['prepare', ...Array(6).fill('write raw 3')])
  t.equal((await metrics.writeRetries.get()).values[0]!.value, 5)
  t.equal((await metrics.pointsWritten.get()).values[0]!.value, 3)
  t.equal((await metrics.storageUp.get()).values[0]!.value, 1)
  const durations = (await metrics.writeDuration.get()).values.filter(v => v.metricName === 'kanshi_storage_write_duration_seconds_count')
  t.same(durations.map(v => [v.labels.result, v.value]).sort(), [['ok', 1], ['retry', 5]])
  const sum = (await metrics.writeDuration.get()).values.find(v => v.metricName === 'kanshi_storage_write_duration_seconds_sum' && v.labels.result === 'ok')
  t.equal(sum!.value, 0.005, 'the duration comes from the injected clock')
})

t.test('Retry-After (afterMs) replaces the backoff', async t => {
  const { inner } = scripted([retry('HTTP 429', { afterMs: 7000, status: 429 })])
  const { b, slept } = setup(inner)
  t.same(await b.write(['a']), { kind: 'ok' })
  t.same(slept, [7000])
})

t.test('fail is handed back at once, not retried', async t => {
  const { inner, calls } = scripted([{ kind: 'fail', reason: 'HTTP 400: bad', status: 400 }])
  const { b, slept, metrics } = setup(inner)
  t.same(await b.write(['a', 'b'], 'rollup'), { kind: 'fail', reason: 'HTTP 400: bad', status: 400 })
  t.same(slept, [])
  t.same(calls, ['prepare', 'write rollup 2'])
  t.equal((await metrics.writeRetries.get()).values.length, 0)
})

t.test('prepare runs once for all writes, is retried until ok, and runs again after a 404', async t => {
  const { inner, calls } = scripted([retry('HTTP 404: database not found', { status: 404 }), retry('HTTP 500')], [retry('ECONNREFUSED'), { kind: 'fail', reason: 'HTTP 400' }])
  const { b, slept } = setup(inner)
  await Promise.all([b.write(['a']), b.write(['b'])])
  t.same(calls.slice(0, 3), ['prepare', 'prepare', 'prepare'], 'a failed prepare is retried (fail too) before any write')
  t.equal(calls.filter(c => c === 'prepare').length, 4, 'once more after the 404, not after the 500')
  t.same(calls.slice(3).filter(c => c !== 'prepare').length, 4)
  t.ok(calls.indexOf('prepare', 3) > calls.indexOf('write raw 1'), 'the fourth prepare follows the 404')
  t.same(slept.slice(0, 2), [75, 150])
  t.same(await b.prepare(), { kind: 'ok' })
  t.equal(calls.filter(c => c === 'prepare').length, 4, 'prepared: prepare() answers without asking again')
})

t.test('one warning when writes start failing, one info when they succeed again', async t => {
  const { inner } = scripted([retry('HTTP 500: one'), retry('HTTP 500: two'), { kind: 'ok' }, retry('HTTP 500: three')])
  const { b, logs, metrics } = setup(inner)
  await b.write(['a'])
  t.equal(b.healthy, true)
  const seen = logs.map(l => [l.level, l.msg, l.reason])
  t.same(seen, [[40, 'storage write failing; data is kept in the WAL and retried', 'HTTP 500: one'], [30, 'storage writes succeed again', undefined]])
  await b.write(['b'])
  t.equal(logs.filter(l => l.level === 40).length, 2, 'a new failure after a success warns again')
  t.equal(logs.at(-1)!.msg, 'storage writes succeed again')
  t.equal(b.lastError, 'HTTP 500: three')
  t.equal((await metrics.storageUp.get()).values[0]!.value, 1)
})

t.test('storage_up is 0 and healthy false while writes fail', async t => {
  let answer: SendResult = retry('HTTP 503')
  const inner: StorageBackend = { name: 'fake', write: async () => answer, prepare: async () => ({ kind: 'ok' }), ping: async () => true, close: async () => {} }
  const metrics = createMetrics(new Registry(), false)
  const seen: Array<[boolean, number]> = []
  const b: RetryingBackend = new RetryingBackend(inner, {
    metrics, logger: pino({ level: 'silent' }), random: () => 0,
    sleep: async () => { seen.push([b.healthy, (await metrics.storageUp.get()).values[0]!.value]); answer = { kind: 'ok' } }
  })
  await b.write(['a'])
  t.same(seen, [[false, 0]])
  t.equal(b.healthy, true)
})

t.test('an abort wakes the backoff sleep at once and the write returns its retry result', async t => {
  const { inner, calls } = scripted(Array(100).fill(retry('HTTP 500')))
  const ac = new AbortController()
  const b = new RetryingBackend(inner, { metrics: createMetrics(new Registry(), false), logger: pino({ level: 'silent' }), minBackoffMs: 60_000, maxBackoffMs: 60_000, signal: ac.signal })
  const started = performance.now()
  const w = b.write(['a'])
  setTimeout(() => ac.abort(), 50)
  t.same(await w, retry('HTTP 500'))
  t.ok(performance.now() - started < 5000, 'returned long before the 30-60 s backoff')
  t.same(calls, ['prepare', 'write raw 1'], 'no attempt after the abort')
  t.same(await b.write(['b']), retry('HTTP 500'), 'after the abort: one attempt, no sleep')
})

t.test('an abort during prepare retries ends them too', async t => {
  const { inner } = scripted([], Array(100).fill(retry('ECONNREFUSED')))
  const ac = new AbortController()
  const b = new RetryingBackend(inner, { metrics: createMetrics(new Registry(), false), logger: pino({ level: 'silent' }), minBackoffMs: 60_000, signal: ac.signal })
  const w = b.write(['a'])
  setTimeout(() => ac.abort(), 50)
  t.same(await w, retry('ECONNREFUSED'))
})

t.test('name, ping and close pass through', async t => {
  const { inner, calls } = scripted([])
  const { b } = setup(inner)
  t.equal(b.name, 'fake')
  t.equal(await b.ping(), true)
  await b.close()
  t.same(calls, ['close'])
})
