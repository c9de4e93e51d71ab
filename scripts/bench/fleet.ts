// A fleet of paced agents for the connection-scale bench: agents [from, to) of
// a tokens file, each one WebSocket speaking --protocol (3: points as columns, as agents send
// them; 1: as objects) that sends one batch of P points every interval (at a random phase), as a
// real agent does. Connections
// are opened at --rate per second and spread over several loopback source
// addresses (--local 127.0.0.2,127.0.0.3). Prints "connected N" once all are
// open (or given up); when its stdin closes it stops and prints one JSON line
// with the counts.

import { parseArgs } from 'node:util'
import { readFileSync } from 'node:fs'
import WebSocket from 'ws'
import { toColumns } from '../../protocol/columns.js'
import type { Point } from '../../protocol/messages.js'

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    tokens: { type: 'string' },
    from: { type: 'string', default: '0' },
    to: { type: 'string' },
    local: { type: 'string', default: '127.0.0.1' },
    rate: { type: 'string', default: '250' },
    interval: { type: 'string', default: '10000' },
    points: { type: 'string', default: '30' },
    protocol: { type: 'string', default: '3' }
  }
})
const all = JSON.parse(readFileSync(values.tokens!, 'utf8')) as Array<{ id: string, token: string }>
const agents = all.slice(Number(values.from), values.to === undefined ? undefined : Number(values.to))
const locals = values.local.split(',')
const intervalMs = Number(values.interval)
const perBatch = Number(values.points)
const protocol = Number(values.protocol)
const stats = { agents: agents.length, connected: 0, failedConnects: 0, closedEarly: 0, batches: 0, acked: 0, errors: 0, ackP50ms: 0, ackP99ms: 0 }
const latencies: number[] = []
let stopping = false
const sockets: WebSocket[] = []

function batch (seq: number, t: number): string {
  const points: Point[] = []
  for (let i = 0; i < perBatch; i++) points.push({ m: 'fleet', t, tags: { n: String(i) }, f: { v: seq + i } })
  return JSON.stringify(protocol >= 3 ? { type: 'batch', seq, ...toColumns(points) } : { type: 'batch', seq, points })
}

function open (a: { id: string, token: string }, i: number): Promise<void> {
  return new Promise(resolve => {
    const ws = new WebSocket(values.url!, { headers: { authorization: `Bearer ${a.token}` }, localAddress: locals[i % locals.length]!, perMessageDeflate: false })
    sockets.push(ws)
    const sentAt = new Map<number, number>()
    let seq = 0
    let timer: NodeJS.Timeout | undefined
    let welcomed = false
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol, agent: { id: a.id, hostname: a.id, version: 'fleet', os: 'linux', intervalMs } })))
    ws.on('message', d => {
      const m = JSON.parse(d.toString()) as { type: string, seq?: number, ackedSeq?: number }
      if (m.type === 'welcome') {
        welcomed = true
        stats.connected++
        resolve()
        seq = m.ackedSeq!
        const send = (): void => {
          if (stopping) return
          seq++
          sentAt.set(seq, performance.now())
          stats.batches++
          ws.send(batch(seq, Date.now()))
        }
        setTimeout(() => { send(); timer = setInterval(send, intervalMs) }, Math.random() * intervalMs)
      } else if (m.type === 'ack') {
        const t0 = sentAt.get(m.seq!)
        sentAt.delete(m.seq!)
        if (t0 !== undefined) latencies.push(performance.now() - t0)
        stats.acked++
      } else if (m.type === 'error') stats.errors++
    })
    ws.on('error', () => { if (!welcomed) { stats.failedConnects++; resolve() } })
    ws.on('close', () => {
      if (timer !== undefined) clearInterval(timer)
      if (!welcomed) { stats.failedConnects++; resolve() } else if (!stopping) stats.closedEarly++
    })
  })
}

const pending: Array<Promise<void>> = []
const gap = 1000 / Number(values.rate)
for (let i = 0; i < agents.length; i++) {
  pending.push(open(agents[i]!, i))
  if (i % 10 === 9) await new Promise(resolve => setTimeout(resolve, gap * 10))
}
await Promise.all(pending)
process.stdout.write(`connected ${stats.connected}\n`)
await new Promise(resolve => { process.stdin.on('end', resolve); process.stdin.on('close', resolve); process.stdin.resume() })
stopping = true
// Let the last acks arrive before counting.
await new Promise(resolve => setTimeout(resolve, 2000))
latencies.sort((x, y) => x - y)
const pct = (p: number): number => latencies.length === 0 ? NaN : +latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(1)
stats.ackP50ms = pct(0.5)
stats.ackP99ms = pct(0.99)
for (const ws of sockets) ws.terminate()
process.stdout.write(JSON.stringify(stats) + '\n')
process.exit(0)
