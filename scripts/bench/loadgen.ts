// The ingest bench's sender, one process, everything pre-built before the clock starts:
//   --influx URL: the reference. The points as line protocol bodies of --lines lines, POSTed to
//     /write by --inflight requests at a time; done when the last write answered 204.
//   --url WS --tokens FILE: the collector. One protocol-1 agent connection per token, each sending
//     its points as frames of --batch points, --window frames unacked (64: the agent's default
//     collector.maxInflight); done at the last ack. With --protocol 2 or 3 it also waits for the collector's
//     `stored` frames (every batch in InfluxDB, docs/protocol.md) and reports when the last one came;
//     with 3 the frames carry the points as columns (protocol/columns.ts), as agents send them.
// Prints one JSON line: points, the clock's start (epoch ms), seconds, points/s, latency p50/p99, errors.

import { parseArgs } from 'node:util'
import { readFileSync } from 'node:fs'
import WebSocket from 'ws'
import { colsFrame, frame, line, type PointSet } from './ingest-points.js'

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    tokens: { type: 'string' },
    influx: { type: 'string' },
    clients: { type: 'string', default: '4' },
    points: { type: 'string', default: '400000' },
    batch: { type: 'string', default: '500' },
    window: { type: 'string', default: '64' },
    lines: { type: 'string', default: '5000' },
    inflight: { type: 'string', default: '4' },
    base: { type: 'string' },
    protocol: { type: 'string', default: '1' }
  }
})
const clients = Number(values.clients)
const set: PointSet = { clients, perClient: Math.ceil(Number(values.points) / clients), base: Number(values.base ?? Date.now() - 86_400_000) }
const total = set.clients * set.perClient
const latencies: number[] = []
let done = 0
let errors = 0

async function direct (url: string): Promise<number> {
  const lines = Number(values.lines)
  const bodies: Array<{ body: Buffer, n: number }> = []
  for (let c = 0; c < clients; c++) {
    for (let from = 0; from < set.perClient; from += lines) {
      const to = Math.min(set.perClient, from + lines)
      const ls: string[] = []
      for (let i = from; i < to; i++) ls.push(line(set, c, i))
      bodies.push({ body: Buffer.from(ls.join('\n')), n: to - from })
    }
  }
  const started = Date.now()
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < bodies.length) {
      const b = bodies[next++]!
      const t0 = performance.now()
      const res = await fetch(`${url}/write?db=kanshi&precision=ms`, { method: 'POST', body: b.body })
      await res.arrayBuffer()
      if (res.status !== 204) { errors++; continue }
      latencies.push(performance.now() - t0)
      done += b.n
    }
  }
  await Promise.all(Array.from({ length: Number(values.inflight) }, worker))
  return started
}

/** when each agent's last batch was reported stored (protocol 2) */
const storedAt: Array<Promise<number>> = []

/** agent connects and waits for its welcome; go() then sends every frame, resolving at the last ack. */
function agent (a: { id: string, token: string }, frames: Buffer[]): Promise<{ go: () => Promise<void> }> {
  let stored = (_at: number): void => {}
  storedAt.push(new Promise(resolve => { stored = resolve }))
  const window = Number(values.window)
  const perFrame = Number(values.batch)
  const ws = new WebSocket(values.url!, { headers: { authorization: `Bearer ${a.token}` }, perMessageDeflate: false })
  const sentAt: number[] = []
  let sent = 0
  let acked = 0
  let finish = (): void => {}
  // Text frames, as agents send them, from bytes encoded before the clock started.
  const send = (): void => { if (sent < frames.length) { sentAt[sent] = performance.now(); ws.send(frames[sent++]!, { binary: false }) } }
  return new Promise((resolve, reject) => {
    ws.on('error', reject)
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: Number(values.protocol), agent: { id: a.id, hostname: a.id, version: 'bench', os: 'linux' } })))
    ws.on('message', d => {
      const m = JSON.parse(d.toString()) as { type: string, seq?: number, ackedSeq?: number }
      if (m.type === 'welcome') {
        if (m.ackedSeq !== 0) reject(new Error(`${a.id}: the collector already holds seq ${m.ackedSeq!}; the bench needs a fresh one`))
        resolve({ go: () => new Promise(resolve => { finish = resolve; for (let i = 0; i < window; i++) send() }) })
      } else if (m.type === 'ack') {
        // Acks are cumulative: seq n acknowledges every frame up to n.
        for (; acked < m.seq!; acked++) { latencies.push(performance.now() - sentAt[acked]!); done += Math.min(perFrame, set.perClient - acked * perFrame) }
        if (acked === frames.length) { if (values.protocol === '1') ws.close(); finish() } else while (sent < acked + window && sent < frames.length) send()
      } else if (m.type === 'stored') {
        if (m.seq === frames.length) { stored(Date.now()); ws.close() }
      } else if (m.type === 'error') { errors++; process.stderr.write(`${a.id}: ${d.toString()}\n`) }
    })
  })
}

async function viaCollector (): Promise<number> {
  const tokens = (JSON.parse(readFileSync(values.tokens!, 'utf8')) as Array<{ id: string, token: string }>).slice(0, clients)
  const perFrame = Number(values.batch)
  const frames = tokens.map((_, c) => {
    // Encoded to UTF-8 here, before the clock: a frame built by += is a rope of thousands of pieces that
    // ws.send would flatten and encode while timing (a quarter of the collector's core, measured).
    const fs: Buffer[] = []
    // Protocol 3: the points as columns, as agents send them to a collector that speaks it.
    const make = Number(values.protocol) >= 3 ? colsFrame : frame
    for (let from = 0, seq = 1; from < set.perClient; from += perFrame, seq++) fs.push(Buffer.from(make(set, c, seq, from, Math.min(set.perClient, from + perFrame))))
    return fs
  })
  const agents = await Promise.all(tokens.map((a, c) => agent(a, frames[c]!)))
  const started = Date.now()
  await Promise.all(agents.map(a => a.go()))
  return started
}

const started = values.influx !== undefined ? await direct(values.influx) : await viaCollector()
const seconds = (Date.now() - started) / 1000
// Protocol 2 and 3: the time the last agent heard that its last batch is stored (at most 300 s more).
const allStored = Number(values.protocol) >= 2 ? await Promise.race([Promise.all(storedAt).then(ts => Math.max(...ts)), new Promise<undefined>(resolve => setTimeout(() => resolve(undefined), 300_000))]) : undefined
latencies.sort((a, b) => a - b)
const pct = (p: number): number => latencies.length === 0 ? NaN : +latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(2)
process.stdout.write(JSON.stringify({ points: done, total, base: set.base, started, ...(allStored !== undefined ? { storedAt: allStored } : {}), seconds, pointsPerSec: Math.round(done / seconds), p50ms: pct(0.5), p99ms: pct(0.99), errors }) + '\n')
process.exit(0)
