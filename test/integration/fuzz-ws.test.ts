// The agent WebSocket under hostile input, through the real app on a real port
// writing to a real influxd: every malformed frame gets its documented error
// code, a well-behaved agent streaming at the same time loses nothing, and
// what reaches InfluxDB is exactly what was sent, with no extra series,
// measurements or fields from line-protocol injection.

import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { startCollector } from '../helpers/collector.js'
import { asViewer, viewerApi } from '../helpers/config.js'
import { connectAgent, type FakeAgent } from '../helpers/fake-agent.js'
import { withInfluxd, query } from '../helpers/influxd.js'
import { waitFor } from '../helpers/procs.js'

const TOKENS = { good: 'fuzz-good-token', bad: 'fuzz-bad-token' }
const MAX_FRAME = 1024 * 1024
// Inside the raw retention (35 days): older points are refused by InfluxDB and dead-lettered.
const T0 = Date.now() - 60_000

async function connect (t: Test, url: string, id: keyof typeof TOKENS): Promise<FakeAgent> {
  const a = await connectAgent(t, url, { token: TOKENS[id], id })
  await a.greet({ version: 't' })
  return a
}

async function start (t: Test) {
  const influxd = await withInfluxd(t)
  const { c, agentUrl } = await startCollector(t, {
    logger: pino({ level: process.env['FUZZ_LOG'] ?? 'silent' }),
    agents: [
      { id: 'good', token: TOKENS.good, role: 'server', site: 'honcho' },
      { id: 'bad', token: TOKENS.bad, role: 'kiosk', site: '本庁舎' }
    ],
    config: {
      influx: { version: 1, url: influxd.url, db: 'kanshi', flushInterval: '50ms', rollups: false },
      ingest: { maxFrameBytes: MAX_FRAME, maxErrorsPerMinute: 10_000 },
      api: viewerApi()
    }
  })
  return { c, influxd, url: agentUrl }
}

/** A good agent streaming numbered batches all through the fuzzing. */
function stream (conn: FakeAgent): { stop: () => Promise<{ sent: number, acked: number[] }> } {
  let seq = 0
  let stopped = false
  const acked: number[] = []
  conn.ws.on('message', d => { const m = JSON.parse(d.toString()); if (m.type === 'ack') acked.push(m.seq) })
  const timer = setInterval(() => {
    if (stopped) return
    seq++
    conn.ws.send(JSON.stringify({ type: 'batch', seq, points: [{ m: 'steady', t: T0 + seq, tags: {}, f: { n: seq } }] }))
  }, 20)
  return {
    stop: async () => {
      // Keep streaming for a while, so the good agent overlaps all of the fuzzing and then some.
      await waitFor(() => seq >= 100, 10_000, 20)
      stopped = true
      clearInterval(timer)
      await waitFor(() => acked.length === seq, 10_000, 50)
      return { sent: seq, acked }
    }
  }
}

// The documented rule for names and tag values (docs/errors.md): control characters become spaces, and a
// backslash before , = space or at the end becomes ＼ (InfluxDB 1.x cannot store it there).
// eslint-disable-next-line no-control-regex -- the rule is about control characters
const asName = (s: string): string => s.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/\\(?=[,= ]|$)/g, '\uff3c')

const point = (f: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ m: 'x', t: 1, f, ...extra })
const batch = (seq: number, points: unknown[]) => JSON.stringify({ type: 'batch', seq, points })

// Strings an attacker would use to break out of a line-protocol token.
const NASTY = [
  'a,b', 'a b', 'a=b', 'a"b', "a'b", 'a\\b', 'trail\\', '\\', 'x\ninj,host=evil v=1 1', 'x\r\ny', ' lead', 'q" v=1', '#comment',
  '監視 本庁舎', '番号発券機=1,2', '🚨🔥', 'e\u0301', 'nul\u0000byte', 'tab\tx', '__proto__'
]

t.test('hostile frames each get the documented code; the good agent beside them loses nothing; InfluxDB gets nothing malformed', async t => {
  const { c, influxd, url } = await start(t)
  const good = await connect(t, url, 'good')
  const steady = stream(good)
  const bad = await connect(t, url, 'bad')

  let seq = 0
  const expect = async (name: string, frame: string | Buffer, code: string, binary = false): Promise<void> => {
    bad.ws.send(frame, { binary })
    const m = await bad.next()
    t.equal(m.type, 'error', `${name}: error frame`)
    t.equal(m.code, code, `${name}: ${code} (${String(m.message).slice(0, 80)})`)
  }
  for (let i = 0; i < 20; i++) await expect(`random bytes ${i} (binary)`, randomBytes(1 + i * 50), 'E_BAD_FRAME', true)
  for (let i = 0; i < 20; i++) await expect(`random bytes ${i} (text, not UTF-8)`, Buffer.concat([Buffer.from([0xff, 0xfe]), randomBytes(i * 50)]), 'E_BAD_UTF8')
  await expect('overlong UTF-8 encoding of "/"', Buffer.from([0x7b, 0xc0, 0xaf, 0x7d]), 'E_BAD_UTF8')
  await expect('lone surrogate in UTF-8', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), 'E_BAD_UTF8')
  const full = batch(1, [point({ v: 1 })])
  for (let cut = 1; cut < full.length; cut += 7) await expect(`truncated JSON at ${cut}`, full.slice(0, cut), 'E_BAD_FRAME')
  await expect('NaN literal', '{"type":"batch","seq":1,"points":[{"m":"x","t":1,"f":{"v":NaN}}]}', 'E_BAD_FRAME')
  await expect('Infinity literal', '{"type":"batch","seq":1,"points":[{"m":"x","t":1,"f":{"v":Infinity}}]}', 'E_BAD_FRAME')
  await expect('1e400 (parses to Infinity)', '{"type":"batch","seq":1,"points":[{"m":"x","t":1,"f":{"v":1e400}}]}', 'E_BAD_BATCH')
  await expect('time 1e400', '{"type":"batch","seq":1,"points":[{"m":"x","t":1e400,"f":{"v":1}}]}', 'E_BAD_BATCH')
  await expect('deeply nested arrays (200 000 levels)', '{"type":"batch","seq":1,"points":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}', 'E_BAD_BATCH')
  await expect('deeply nested objects in a field', '{"type":"batch","seq":1,"points":[{"m":"x","t":1,"f":{"v":' + '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000) + '}}]}', 'E_BAD_BATCH')
  const wrong: Array<[string, unknown]> = [
    ['seq as string', { type: 'batch', seq: '1', points: [] }],
    ['seq fractional', { type: 'batch', seq: 1.5, points: [] }],
    ['seq beyond 2^53', { type: 'batch', seq: 2 ** 60, points: [] }],
    ['points an object', { type: 'batch', seq: 1, points: {} }],
    ['point null', { type: 'batch', seq: 1, points: [null] }],
    ['field value array', { type: 'batch', seq: 1, points: [point({ v: [1] })] }],
    ['field value null', { type: 'batch', seq: 1, points: [point({ v: null })] }],
    ['negative time', { type: 'batch', seq: 1, points: [point({ v: 1 }, { t: -1 })] }],
    ['tag value number', { type: 'batch', seq: 1, points: [point({ v: 1 }, { tags: { a: 1 } })] }],
    ['empty measurement', { type: 'batch', seq: 1, points: [point({ v: 1 }, { m: '' })] }],
    ['empty field key', { type: 'batch', seq: 1, points: [point({ '': 1 })] }],
    ['empty tag key', { type: 'batch', seq: 1, points: [point({ v: 1 }, { tags: { '': 'v' } })] }],
    ['field key over 128 chars', { type: 'batch', seq: 1, points: [point({ ['k'.repeat(129)]: 1 })] }],
    ['257 fields', { type: 'batch', seq: 1, points: [point(Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`f${i}`, i])))] }],
    ['33 tags', { type: 'batch', seq: 1, points: [point({ v: 1 }, { tags: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`t${i}`, 'v'])) })] }],
    ['20 001 points', { type: 'batch', seq: 1, points: Array.from({ length: 20_001 }, () => point({ v: 1 })) }],
    ['string field over 16 KiB', { type: 'batch', seq: 1, points: [point({ v: 'x'.repeat(16 * 1024 + 1) })] }],
    ['event level missing', { type: 'batch', seq: 1, points: [], events: [{ t: 1, source: 's', message: 'm' }] }],
    ['hello as batch fields', { type: 'batch', seq: 1, agent: { id: 'good' } }]
  ]
  for (const [name, msg] of wrong) await expect(name, JSON.stringify(msg), 'E_BAD_BATCH')
  await expect('type not a string', '{"type":1}', 'E_BAD_FRAME')
  await expect('type __proto__', '{"type":"__proto__"}', 'E_UNKNOWN_TYPE')
  await expect('a frame just over ingest.maxFrameBytes', batch(1, [point({ v: 'x'.repeat(MAX_FRAME) })]), 'E_TOO_LARGE')

  // The injection batch is valid: every nasty string as tag key, tag value, field key and string value.
  const tags: Record<string, string> = {}
  const fields: Record<string, string | number> = { n: 1 }
  NASTY.forEach((s, i) => { tags[`k${i}`] = s; fields[`s${i}`] = s })
  // fromEntries defines own keys, so "__proto__" is a key here, not the prototype.
  const keyTags = Object.fromEntries(NASTY.map((s, i) => [s, `v${i}`]))
  const injected = [
    { m: 'inj', t: T0, tags, f: fields },
    { m: 'injkeys', t: T0, tags: keyTags, f: Object.fromEntries(NASTY.map((s, i) => [s, i])) },
    { m: 'inj, evil=1 v', t: T0 + 1, tags: {}, f: { v: 1 } }
  ]
  seq++
  bad.ws.send(batch(seq, injected))
  t.same(await bad.next(), { type: 'ack', seq }, 'the batch with injection attempts is valid and acked')
  seq++
  bad.ws.send(`{"type":"batch","seq":${seq},"points":[{"m":"proto","t":${T0 + 1},"tags":{"__proto__":"p"},"f":{"__proto__":1,"constructor":2}}]}`)
  t.same(await bad.next(), { type: 'ack', seq }, '__proto__ keys are plain keys')
  seq++
  bad.ws.send(batch(seq, [{ m: 'after', t: T0, tags: {}, f: { ok: true } }]))
  t.same(await bad.next(), { type: 'ack', seq }, 'the fuzzed connection still takes good batches')

  // A 100 MB frame: the socket is closed with 1009 before the collector buffers it all; others carry on.
  const huge = await connect(t, url, 'bad')
  t.equal(await bad.closed, 4000, 'the newer connection of "bad" replaced the fuzzed one')
  huge.ws.send(Buffer.alloc(100 * 1024 * 1024, 0x61))
  t.equal(await huge.closed, 1009, '100 MB frame: closed with 1009 (message too big)')

  const { sent, acked } = await steady.stop()
  t.ok(sent >= 100, `the good agent sent ${sent} batches during the fuzzing`)
  t.same(acked, Array.from({ length: sent }, (_, i) => i + 1), 'and every one was acked, in order')

  const q = async (s: string): Promise<any> => (await query(influxd.url, 'kanshi', s)).results[0]
  let steadyCount: unknown
  await waitFor(async () => {
    steadyCount = (await q("SELECT count(n), sum(n) FROM steady WHERE host = 'good'")).series?.[0]?.values?.[0]?.slice(1)
    return (steadyCount as number[] | undefined)?.[0] === sent && c.wal.reader('storage').caughtUp()
  }, 30_000, 200)
  t.same(steadyCount, [sent, sent * (sent + 1) / 2], 'every acked point of the good agent is in InfluxDB once')

  const measurements = ((await q('SHOW MEASUREMENTS')).series?.[0]?.values ?? []).map((v: string[]) => v[0]).sort()
  t.same(measurements, ['after', 'host_up', 'inj', 'inj, evil=1 v', 'injkeys', 'proto', 'steady'].sort(), 'no measurement was injected')
  const injFields = ((await q('SHOW FIELD KEYS FROM inj')).series?.[0]?.values ?? []).map((v: string[]) => v[0]).sort()
  t.same(injFields, Object.keys(fields).sort(), 'inj has exactly the fields sent')
  const row = await q('SELECT * FROM inj')
  const cols: string[] = row.series[0].columns
  const vals: unknown[] = row.series[0].values[0]
  const got = Object.fromEntries(cols.map((c2, i) => [c2, vals[i]]))
  NASTY.forEach((s, i) => {
    t.equal(got[`s${i}`], s, `string field ${JSON.stringify(s)} arrives intact`)
    t.equal(got[`k${i}`], asName(s), `tag value ${JSON.stringify(s)} arrives${asName(s) === s ? ' intact' : ` as ${JSON.stringify(asName(s))}`}`)
  })
  const tagKeys = ((await q('SHOW TAG KEYS FROM injkeys')).series?.[0]?.values ?? []).map((v: string[]) => v[0]).sort()
  t.same(tagKeys, [...NASTY.map(s => asName(s)), 'host', 'role', 'site'].sort(), 'tag keys arrive as sent, plus the stamped host/role/site')
  const fieldKeys = ((await q('SHOW FIELD KEYS FROM injkeys')).series?.[0]?.values ?? []).map((v: string[]) => v[0]).sort()
  t.same(fieldKeys, NASTY.map(s => asName(s)).sort(), 'field keys arrive as sent')
  const hostTags = ((await q('SHOW TAG VALUES WITH KEY = "host"')).series ?? []).flatMap((s: any) => s.values.map((v: string[]) => v[1]))
  t.same([...new Set(hostTags)].sort(), ['bad', 'good'], 'no series claims another host (the host tag comes from the token)')
  const injSeries = ((await q('SHOW SERIES FROM inj')).series?.[0]?.values ?? []).length
  t.equal(injSeries, 1, 'one series for inj: no extra series from newlines or commas')
  const dead = [...(await c.app.inject({ url: '/metrics', headers: asViewer })).body.matchAll(/^kanshi_dead_letter_points_total(?:\{[^}]*\})? (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0)
  t.equal(dead, 0, 'no line was refused by InfluxDB: nothing dead-lettered')
})
