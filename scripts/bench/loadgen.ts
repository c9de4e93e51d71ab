// A load generator speaking protocol v1: N agent connections, each sending
// batches of P points as fast as acks allow (window W). Prints one JSON line:
// points/s and ack latency percentiles. Run in its own process.
//   node dist/scripts/bench/loadgen.js --url ws://127.0.0.1:8080/v1/agent --tokens FILE --seconds 20
// With --influx URL --writers N it is the reference instead: N writers POST the
// same points as line protocol straight to InfluxDB /write, no kanshi between.

import { parseArgs } from 'node:util'
import { readFileSync } from 'node:fs'
import WebSocket from 'ws'

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    tokens: { type: 'string' },
    seconds: { type: 'string', default: '20' },
    points: { type: 'string', default: '100' },
    window: { type: 'string', default: '8' },
    influx: { type: 'string' },
    writers: { type: 'string', default: '8' }
  }
})
const agents = values.influx !== undefined ? [] : JSON.parse(readFileSync(values.tokens!, 'utf8')) as Array<{ id: string, token: string }>
const seconds = Number(values.seconds)
const perBatch = Number(values.points)
const window = Number(values.window)
const latencies: number[] = []
let acked = 0
let errors = 0
let stopAt = 0

const base = Date.now()

// Timestamps are unique per agent (base + running number), so InfluxDB keeps every point.
// Frames and lines are built by concatenation, not JSON.stringify of objects: the
// generator shares the cores with what it measures, and should cost as little as
// it can on both sides (kanshi's and the reference's) alike.
function batch (seq: number, id: string): string {
  const f = `,"agent":${JSON.stringify(id)}}}`
  let out = `{"type":"batch","seq":${seq},"points":[`
  for (let i = 0; i < perBatch; i++) {
    const n = seq * perBatch + i
    out += `${i === 0 ? '' : ','}{"m":"bench","t":${base + n},"tags":{"n":"${i % 10}"},"f":{"v":${n}${f}`
  }
  return out + ']}'
}

async function runWriter (url: string, w: number): Promise<void> {
  for (let seq = 1; Date.now() < stopAt; seq++) {
    const lines: string[] = []
    // The same series shape as the collector writes (tags host, n, role; fields v, agent).
    for (let i = 0; i < perBatch; i++) lines.push(`bench,host=writer${w},n=${i % 10},role=server v=${seq * perBatch + i},agent="writer${w}" ${base + seq * perBatch + i}`)
    const t0 = performance.now()
    const res = await fetch(`${url}/write?db=kanshi&precision=ms`, { method: 'POST', body: lines.join('\n') })
    await res.arrayBuffer()
    if (res.status !== 204) { errors++; continue }
    latencies.push(performance.now() - t0)
    acked += perBatch
  }
}

async function runAgent (a: { id: string, token: string }): Promise<void> {
  const ws = new WebSocket(values.url!, { headers: { authorization: `Bearer ${a.token}` } })
  const sentAt = new Map<number, number>()
  let seq = 0
  await new Promise<void>((resolve, reject) => {
    ws.on('error', reject)
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, agent: { id: a.id, hostname: a.id, version: 'bench', os: 'linux' } })))
    const send = (): void => {
      if (Date.now() >= stopAt) { if (sentAt.size === 0) { ws.close(); resolve() } return }
      seq++
      sentAt.set(seq, performance.now())
      ws.send(batch(seq, a.id))
    }
    ws.on('message', d => {
      const m = JSON.parse(d.toString())
      if (m.type === 'welcome') { seq = m.ackedSeq; for (let i = 0; i < window; i++) send() }
      else if (m.type === 'ack') {
        const t0 = sentAt.get(m.seq)
        sentAt.delete(m.seq)
        if (t0 !== undefined) latencies.push(performance.now() - t0)
        acked += perBatch
        send()
      } else if (m.type === 'error') { errors++ }
    })
    ws.on('close', () => resolve())
  })
}

const pct = (xs: number[], p: number): number => xs.length === 0 ? NaN : xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]!
const started = Date.now()
stopAt = started + seconds * 1000
if (values.influx !== undefined) {
  await fetch(`${values.influx}/query`, { method: 'POST', body: new URLSearchParams({ q: 'CREATE DATABASE kanshi' }) })
  await Promise.all(Array.from({ length: Number(values.writers) }, (_, w) => runWriter(values.influx!, w)))
} else {
  await Promise.all(agents.map(runAgent))
}
const elapsed = (Date.now() - started) / 1000
latencies.sort((a, b) => a - b)
process.stdout.write(JSON.stringify({ agents: values.influx !== undefined ? Number(values.writers) : agents.length, pointsPerBatch: perBatch, seconds: elapsed, points: acked, pointsPerSec: Math.round(acked / elapsed), ackP50ms: +pct(latencies, 0.5).toFixed(2), ackP99ms: +pct(latencies, 0.99).toFixed(2), errors }) + '\n')
