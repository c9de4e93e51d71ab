// The agent's local push endpoint on a real loopback port: good bodies become
// one spooled batch each, bad ones get a clear 4xx, and nothing else breaks.

import t, { type Test } from 'tap'
import { PushListener } from '../../agent/inputs/push/push.js'
import { buildRedactor } from '../../agent/inputs/logs/redact.js'
import { inputContext } from '../helpers/input-context.js'

type Policy = ConstructorParameters<typeof PushListener>[0]['policy']

/** listenerOn: start(policy) opens a push listener on a free port whose batches land in got; closed at teardown. */
function listenerOn (t: Test, got: Array<{ points: unknown[], events: unknown[] }>): (policy?: Policy) => Promise<PushListener> {
  return async policy => {
    const l = new PushListener({ host: '127.0.0.1', port: 0, now: () => 1000, ...(policy !== undefined ? { policy } : {}) })
    await l.start(inputContext({ enqueue: async (points, events = []) => { got.push({ points, events }); return got.length } }))
    t.teardown(async () => await l.close())
    return l
  }
}

/** post sends body to a listener's path; a JSON answer is parsed (204 has none). */
async function post (l: PushListener, path: string, body: string, type = 'application/json'): Promise<{ status: number, body: Record<string, unknown> }> {
  const r = await fetch(`http://127.0.0.1:${l.port}${path}`, { method: 'POST', body, headers: { 'content-type': type } })
  return { status: r.status, body: r.status === 204 ? {} : await r.json() as Record<string, unknown> }
}

t.test('push: good, bad and oversized bodies', async t => {
  const got: Array<{ points: unknown[], events: unknown[] }> = []
  const l = new PushListener({ host: '127.0.0.1', port: 0, now: () => 1000, policy: { allowStrings: [], allowEvents: true } })
  await l.start(inputContext({ enqueue: async (points, events = []) => { got.push({ points, events }); return got.length } }))
  t.teardown(async () => await l.close())
  const url = `http://127.0.0.1:${l.port}/v1/push`
  const post = async (body: string) => { const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } }); return { status: r.status, body: await r.json() as Record<string, unknown> } }
  t.same(await post(JSON.stringify({ points: [{ m: 'kiosk_app', tags: { counter: '1番窓口' }, f: { queue_length: 7 } }], events: [{ source: 'app', level: 'error', message: '用紙切れ' }] })), { status: 200, body: { seq: 1, points: 1, events: 1 } })
  t.same(got[0]!.points, [{ m: 'kiosk_app', t: 1000, tags: { counter: '1番窓口' }, f: { queue_length: 7 } }], 't defaults to the request time')
  t.same(await post('not json'), { status: 400, body: { error: 'body is not JSON (send Content-Type: text/plain for line protocol)' } })
  const bad = await post(JSON.stringify({ points: [{ m: 'x', f: { v: { nested: 1 } } }] }))
  t.equal(bad.status, 400)
  t.match(bad.body['error'], /^points\.0\.f\.v: /, 'the error names the bad field')
  t.same(await post('{}'), { status: 400, body: { error: 'no points and no events' } })
  const big = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ points: [{ m: 'x', f: { s: 'x'.repeat(2 * 1024 * 1024) } }] }) })
  t.equal(big.status, 413, 'an oversized body gets 413, not a reset connection')
  t.equal((await fetch(url.replace('/v1/push', '/other'), { method: 'POST', body: '{}' })).status, 404)
  t.same(await post(JSON.stringify({ points: [{ m: 'y', f: { v: 1 } }] })), { status: 200, body: { seq: 2, points: 1, events: 0 } }, 'still working after the bad ones')
  t.equal(got.length, 2)
})

t.test('push: InfluxDB line protocol on /v1/push (text/plain) and on the /write compatible path', async t => {
  const got: Array<{ points: unknown[] }> = []
  const l = new PushListener({ host: '127.0.0.1', port: 0, now: () => 5000, policy: { allowStrings: ['last_ticket'], allowEvents: false } })
  await l.start(inputContext({ enqueue: async points => { got.push({ points }); return got.length } }))
  t.teardown(async () => await l.close())
  const base = `http://127.0.0.1:${l.port}`
  const lp = [
    '# tickets issued at the counter',
    'kiosk_app,counter=1番窓口,floor=1F tickets=42i,queue_length=7,paper_ok=t,last_ticket="A-042 \\"急\\"" 1795420000000',
    'kiosk_app,counter=2\\ 番 tickets=3u',
    ''
  ].join('\n')
  const r = await fetch(`${base}/v1/push`, { method: 'POST', body: lp, headers: { 'content-type': 'text/plain' } })
  t.same({ status: r.status, body: await r.json() }, { status: 200, body: { seq: 1, points: 2, events: 0 } })
  t.same(got[0]!.points, [
    { m: 'kiosk_app', t: 1795420000000, tags: { counter: '1番窓口', floor: '1F' }, f: { tickets: 42, queue_length: 7, paper_ok: true, last_ticket: 'A-042 "急"' } },
    { m: 'kiosk_app', t: 5000, tags: { counter: '2 番' }, f: { tickets: 3 } }
  ], 'tags, escapes, integer/float/boolean/string fields; ms precision on /v1/push; t defaults to now')
  const w = await fetch(`${base}/write?db=ignored&precision=s`, { method: 'POST', body: 'kiosk_app tickets=1i 1795420000' })
  t.equal(w.status, 204, '/write answers 204 like InfluxDB')
  t.same((got[1]!.points[0] as { t: number }).t, 1795420000000)
  const ns = await fetch(`${base}/write`, { method: 'POST', body: 'kiosk_app tickets=1i 1795420000123456789' })
  t.equal(ns.status, 204)
  t.same((got[2]!.points[0] as { t: number }).t, 1795420000123, '/write defaults to nanoseconds, as InfluxDB does')
  const bad = await fetch(`${base}/write`, { method: 'POST', body: 'ok v=1\nbad,tag v=1\nworse v=abc\nnofields\n' })
  const body = await bad.json() as { error: string, lines: string[] }
  t.equal(bad.status, 400)
  t.match(body.error, /3 bad line\(s\); nothing was stored/)
  t.match(body.lines[0], /^line 2: expected tag key=value/)
  t.match(body.lines[1], /^line 3: expected a number \(1\.5, 5i\), a boolean or a "string" for field "v", got "abc"/)
  t.match(body.lines[2], /^line 4: expected a space and fields/)
  t.equal(got.length, 3, 'the request with bad lines stored nothing, not even its good line')
  const tooLong = await fetch(`${base}/write`, { method: 'POST', body: `x,${'k'.repeat(200)}=v f=1` })
  t.match(((await tooLong.json()) as { lines: string[] }).lines[0], /^point 1 \(x\): tags/, 'limits of the wire protocol are enforced too')
  t.equal((await fetch(`${base}/write?precision=h`, { method: 'POST', body: 'x f=1' })).status, 400)
})

t.test('push: kiosk apps may send numbers and statuses; strings and events only when allowed', async t => {
  const got: Array<{ points: Array<{ f: Record<string, unknown> }>, events: Array<{ message: string }> }> = []
  const redact = buildRedactor('agent.yaml', j => `push.redact.${j}`, [{ preset: 'mynumber', replace: '[個人番号]' }, { preset: 'phone-jp', replace: '***' }])!
  const start = listenerOn(t, got)
  const strict = await start()
  t.same(await post(strict, '/v1/push', JSON.stringify({ points: [{ m: 'kiosk_app', tags: { counter: '1' }, f: { tickets: 3, paper_ok: true } }] })), { status: 200, body: { seq: 1, points: 1, events: 0 } }, 'numbers and booleans are accepted by default')
  const s = await post(strict, '/v1/push', JSON.stringify({ points: [{ m: 'kiosk_app', f: { tickets: 1, visitor: '山田太郎' } }] }))
  t.same(s, { status: 400, body: {
    error: 'not allowed: points.0.f.visitor: a string field is not allowed from a push client (send numbers or booleans, or list "visitor" in push.allowStrings); nothing was stored',
    error_ja: '送信が許可されていないデータ（文字列フィールドまたはイベント）を含むため、何も保存しませんでした。数値と真偽値だけを送るか、push.allowStrings / push.allowEvents で許可してください。',
    refused: ['points.0.f.visitor: a string field is not allowed from a push client (send numbers or booleans, or list "visitor" in push.allowStrings)']
  } }, 'a string field not allowed: 400 naming it')
  const lp = await post(strict, '/write', 'kiosk_app tickets=1i,visitor="山田"\n', 'text/plain')
  t.equal(lp.status, 400)
  t.match(lp.body['error'], /^not allowed: point 1 \(kiosk_app\)\.f\.visitor: a string field/, 'line protocol too, the point named')
  const ev = await post(strict, '/v1/push', JSON.stringify({ events: [{ source: 'app', level: 'info', message: '山田様 受付' }] }))
  t.match(ev, { status: 400, body: { error: 'not allowed: events: 1 event(s) not allowed from a push client: free text is off (set push.allowEvents: true); nothing was stored', refused: ['events: 1 event(s) not allowed from a push client: free text is off (set push.allowEvents: true)'] } }, 'events (free text) are off by default')
  t.equal(got.length, 1, 'nothing of the refused requests was stored')
  const acc: Array<{ m: string, f: Record<string, unknown> }> = []
  await strict.gather({ add: (m, f) => { acc.push({ m, f }) } })
  t.same(acc, [{ m: 'push_input', f: { accepted: 1, refused_invalid: 0, refused_policy: 3, redacted: 0 } }], 'refusals are counted')

  const open = await start({ allowStrings: ['status', 'note'], allowEvents: true, redact })
  t.same(await post(open, '/v1/push', JSON.stringify({ points: [{ m: 'kiosk_app', tags: { caller: '0312345678', tel: '03-1234-5678' }, f: { status: 'paper_out', note: '折返し 090-1234-5678' } }], events: [{ source: 'app', level: 'info', message: '番号 123456789018 確認' }] })), { status: 200, body: { seq: 2, points: 1, events: 1 } }, 'allowed string fields and events are accepted')
  t.same(got[1]!.points[0]!.f, { status: 'paper_out', note: '折返し ***' }, 'push.redact applies to allowed strings')
  t.same((got[1]!.points[0] as unknown as { tags: object }).tags, { caller: '0312345678', tel: '***' }, 'and to tag values')
  t.equal(got[1]!.events[0]!.message, '番号 [個人番号] 確認', 'and to event messages')
  t.equal(open.stats.redacted, 3)
})

t.test('push: push.allowTags — only listed tag keys (and the identity tags) pass; others refuse the request, counted', async t => {
  const got: Array<{ points: Array<{ tags: Record<string, string> }>, events: Array<{ tags?: Record<string, string> }> }> = []
  const l = new PushListener({ host: '127.0.0.1', port: 0, now: () => 1000, policy: { allowStrings: [], allowTags: ['counter'], allowEvents: true } })
  await l.start(inputContext({ enqueue: async (points, events = []) => { got.push({ points, events } as never); return got.length } }))
  t.teardown(async () => await l.close())
  const post = async (path: string, body: string, type = 'application/json') => {
    const r = await fetch(`http://127.0.0.1:${l.port}${path}`, { method: 'POST', body, headers: { 'content-type': type } })
    return { status: r.status, body: r.status === 204 ? {} : await r.json() as Record<string, unknown> }
  }
  const ok = await post('/v1/push', JSON.stringify({ points: [{ m: 'kiosk_app', tags: { counter: '1', host: 'spoof', role: 'x', site: 'y' }, f: { tickets: 1 } }] }))
  t.equal(ok.status, 200, 'a listed tag and the identity tags (overwritten by the collector) pass')
  const name = 'visitor_name'
  const bad = await post('/v1/push', JSON.stringify({ points: [{ m: 'kiosk_app', tags: { counter: '2', [name]: '山田' }, f: { tickets: 1 } }] }))
  t.equal(bad.status, 400)
  t.equal(bad.body['error'], `not allowed: points.0.tags.${name}: a tag not allowed from a push client (tags can carry free text: list "${name}" in push.allowTags); nothing was stored`)
  t.match(bad.body['error_ja'], /push\.allowTags/, 'the Japanese reason names push.allowTags')
  const lp = await post('/write', `kiosk_app,counter=3,${name}=x tickets=1i\n`, 'text/plain')
  t.equal(lp.status, 400)
  t.match(lp.body['error'], new RegExp(`^not allowed: point 1 \\(kiosk_app\\)\\.tags\\.${name}: `), 'line protocol tags too')
  const ev = await post('/v1/push', JSON.stringify({ events: [{ source: 'app', level: 'info', message: 'm', tags: { lane: 'a' } }] }))
  t.match(ev, { status: 400, body: { refused: ['events.0.tags.lane: a tag not allowed from a push client (list "lane" in push.allowTags)'] } }, 'event tags are checked too')
  t.equal(got.length, 1, 'only the allowed request was stored')
  t.same(l.stats, { accepted: 1, refused_invalid: 0, refused_policy: 3, redacted: 0 }, 'each refusal is counted')
})

t.test('push: measurement names and field keys are names, not free text; allow-lists and push.redact apply, refusals counted', async t => {
  const got: Array<{ points: Array<{ m: string, f: Record<string, unknown> }>, events: Array<{ source: string, message: string }> }> = []
  const start = listenerOn(t, got)
  const nameJa = /測定名またはフィールド名/
  const strict = await start()
  const m = await post(strict, '/v1/push', JSON.stringify({ points: [{ m: '山田太郎 様', f: { tickets: 1 } }] }))
  t.match(m, { status: 400, body: { error: /^not allowed: points\.0\.m: a measurement name must be a name \(ASCII letters, digits and _ \. : -, up to 128\), not free text; nothing was stored$/, error_ja: nameJa } }, 'a free-text measurement name is refused, in English and Japanese')
  const f = await post(strict, '/write', 'kiosk_app 山田太郎=1i,tickets=2i\n', 'text/plain')
  t.equal(f.status, 400)
  t.match(f.body, { error: /^not allowed: point 1 \(kiosk_app\)\.f\.山田太郎: a field key must be a name/, error_ja: nameJa }, 'a free-text field key on /write too')
  const sp = await post(strict, '/v1/push', 'kiosk\\ app tickets=1i\n', 'text/plain')
  t.match(sp, { status: 400, body: { refused: ['point 1 (kiosk app).m: a measurement name must be a name (ASCII letters, digits and _ . : -, up to 128), not free text'] } }, 'an escaped space makes free text too')
  t.equal(got.length, 0, 'nothing of the refused requests was stored')
  t.equal(strict.stats.refused_policy, 3, 'each refused request counted in push_input.refused_policy')

  const listed = await start({ allowStrings: [], allowEvents: false, allowMeasurements: ['kiosk_app'], allowFields: ['tickets', 'paper_ok'] })
  t.same(await post(listed, '/v1/push', JSON.stringify({ points: [{ m: 'kiosk_app', f: { tickets: 4, paper_ok: true } }] })), { status: 200, body: { seq: 1, points: 1, events: 0 } }, 'listed names pass')
  const other = await post(listed, '/v1/push', JSON.stringify({ points: [{ m: 'kiosk_app', f: { tickets: 1, yamada: 1 } }, { m: 'pos_app', f: { tickets: 1 } }] }))
  t.same(other.body['refused'], [
    'points.0.f.yamada: a field key not allowed from a push client (list it in push.allowFields)',
    'points.1.m: a measurement name not allowed from a push client (list it in push.allowMeasurements)'
  ], 'push.allowFields and push.allowMeasurements: every name not listed is named')
  t.equal(listed.stats.refused_policy, 1)

  const redact = buildRedactor('agent.yaml', j => `push.redact.${j}`, [{ preset: 'mynumber', replace: '[個人番号]' }, { preset: 'phone-jp', replace: '***' }])!
  const masked = await start({ allowStrings: [], allowEvents: true, redact })
  const r = await post(masked, '/v1/push', JSON.stringify({ points: [{ m: 'kiosk_app', f: { '090-1234-5678': 1 } }, { m: '123456789018', f: { v: 1 } }] }))
  t.same(r.body['refused'], [
    'points.0.f.090-1234-5678: a field key holds what push.redact masks (personal data in a name)',
    'points.1.m: a measurement name holds what push.redact masks (personal data in a name)'
  ], 'a name push.redact would mask is refused (a renamed series would be worse)')
  t.same(await post(masked, '/v1/push', JSON.stringify({ events: [{ source: 'kiosk 090-1234-5678', level: 'info', message: 'ok' }] })), { status: 200, body: { seq: 2, points: 0, events: 1 } })
  t.equal(got.at(-1)!.events[0]!.source, 'kiosk ***', 'push.redact applies to event sources too')
  t.same(masked.stats, { accepted: 1, refused_invalid: 0, refused_policy: 1, redacted: 1 })
})
