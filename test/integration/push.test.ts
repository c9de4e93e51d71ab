// The agent's local push endpoint on a real loopback port: good bodies become
// one spooled batch each, bad ones get a clear 4xx, and nothing else breaks.

import t from 'tap'
import { PushListener } from '../../agent/inputs/push.js'

t.test('push: good, bad and oversized bodies', async t => {
  const got: Array<{ points: unknown[], events: unknown[] }> = []
  const l = new PushListener({ host: '127.0.0.1', port: 0, enqueue: async (points, events) => { got.push({ points, events }); return got.length }, now: () => 1000 })
  await l.start()
  t.teardown(async () => await l.close())
  const url = `http://127.0.0.1:${l.port}/v1/push`
  const post = async (body: string) => { const r = await fetch(url, { method: 'POST', body }); return { status: r.status, body: await r.json() as Record<string, unknown> } }
  t.same(await post(JSON.stringify({ points: [{ m: 'kiosk_app', tags: { counter: '1番窓口' }, f: { queue_length: 7 } }], events: [{ source: 'app', level: 'error', message: '用紙切れ' }] })), { status: 200, body: { seq: 1, points: 1, events: 1 } })
  t.same(got[0]!.points, [{ m: 'kiosk_app', t: 1000, tags: { counter: '1番窓口' }, f: { queue_length: 7 } }], 't defaults to the request time')
  t.same(await post('not json'), { status: 400, body: { error: 'body is not JSON' } })
  const bad = await post(JSON.stringify({ points: [{ m: 'x', f: { v: { nested: 1 } } }] }))
  t.equal(bad.status, 400)
  t.match(bad.body['error'], /^points\.0\.f\.v: /, 'the error names the bad field')
  t.same(await post('{}'), { status: 400, body: { error: 'no points and no events' } })
  const big = await fetch(url, { method: 'POST', body: JSON.stringify({ points: [{ m: 'x', f: { s: 'x'.repeat(2 * 1024 * 1024) } }] }) })
  t.equal(big.status, 413, 'an oversized body gets 413, not a reset connection')
  t.equal((await fetch(url.replace('/v1/push', '/other'), { method: 'POST', body: '{}' })).status, 404)
  t.same(await post(JSON.stringify({ points: [{ m: 'y', f: { v: 1 } }] })), { status: 200, body: { seq: 2, points: 1, events: 0 } }, 'still working after the bad ones')
  t.equal(got.length, 2)
})
