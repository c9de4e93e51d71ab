// A session stops reading its socket while too many frame bytes wait for their acks, and reads
// again once acks come: a real WebSocket pair, an ingest whose answers the test releases.

import t from 'tap'
import { once } from 'node:events'
import WebSocket, { WebSocketServer } from 'ws'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { Session } from '../../collector/ingest/session.js'
import type { Ingest } from '../../collector/ingest/ingest.js'
import type { Batch } from '../../protocol/messages.js'
import { createMetrics } from '../../collector/metrics.js'

t.test('reading pauses past maxPendingBytes and resumes as acks go out; every frame is taken, in order', async t => {
  const held: Array<{ seq: number, bytes: number, answer: () => void }> = []
  const ingest = {
    attach: () => {},
    detach: () => {},
    ackedSeq: async () => 0,
    settled: async () => {},
    accept: (_id: unknown, b: Batch, frame: Buffer) => new Promise(resolve => {
      held.push({ seq: b.seq, bytes: frame.length, answer: () => resolve({ kind: 'ack', seq: b.seq, duplicate: false }) })
    })
  } as unknown as Ingest
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  t.teardown(() => wss.close())
  const metrics = createMetrics(new Registry(), false)
  wss.on('connection', ws => new Session(ws, { id: 'web01', role: 'server', site: 'honcho', labels: {} }, '127.0.0.1', {
    ingest, metrics, logger: pino({ level: 'silent' }), maxFrameBytes: 1 << 20, maxErrorsPerMinute: 100, maxPendingBytes: 20_000
  }))
  await once(wss, 'listening')
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`)
  t.teardown(() => client.terminate())
  await once(client, 'open')
  const acks: number[] = []
  client.on('message', d => { const m = JSON.parse(d.toString()) as { type: string, seq?: number }; if (m.type === 'ack') acks.push(m.seq!) })
  client.send(JSON.stringify({ type: 'hello', protocol: 1, agent: { id: 'web01', hostname: 'web01', version: 't', os: 'linux' } }))
  // 40 frames of about 5 kB: 200 kB, ten times the bound.
  const frame = (seq: number): string => JSON.stringify({ type: 'batch', seq, points: Array.from({ length: 50 }, (_, i) => ({ m: 'cpu', t: i, f: { usage_percent: i, pad: 'x'.repeat(60) } })) })
  const bytes = Buffer.byteLength(frame(1))
  for (let s = 1; s <= 40; s++) client.send(frame(s))
  const settle = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, 300)) }
  await settle()
  t.ok(held.length >= 4 && held.length * bytes <= 20_000 + bytes + 70_000, `reading paused: ${held.length} of 40 frames taken (${bytes} bytes each) before any ack`)
  t.ok(held.length < 40, 'not every frame was read while none was acked')
  // Answer everything taken so far, again and again: the rest is read in turn.
  let answered = 0
  for (let i = 0; i < 100 && answered < 40; i++) {
    while (answered < held.length) held[answered++]!.answer()
    await settle()
  }
  t.equal(answered, 40, 'every frame reached ingest')
  t.same(held.map(h => h.seq), Array.from({ length: 40 }, (_, i) => i + 1), 'in order')
  for (let i = 0; i < 50 && acks.length < 40; i++) await settle()
  t.same(acks, Array.from({ length: 40 }, (_, i) => i + 1), 'every frame acked')
})
