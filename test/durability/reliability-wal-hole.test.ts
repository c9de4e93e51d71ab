// At the WAL's byte bound a big batch is refused while a smaller one sent just
// after it would still fit. The smaller one must not be stored or acked past
// the hole: its resent predecessor would be taken for a duplicate and lost.
// Found by the 5-minute InfluxDB outage (RELIABILITY.md).

import t from 'tap'
import { pino } from 'pino'
import WebSocket from 'ws'
import { build } from '../../collector/app.js'
import { checkCollectorConfig } from '../../collector/config.js'
import { sha256Hex } from '../../collector/ingest/auth.js'
import { decodeEntry } from '../../collector/state/entry.js'
import { Wal } from '../../collector/state/wal/index.js'
import { tmpDir } from '../helpers/procs.js'

const TOKEN = 'hole-token'

async function open (url: string): Promise<{ ws: WebSocket, msgs: any[], closed: Promise<number>, welcome: Promise<any> }> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${TOKEN}` } })
  const msgs: any[] = []
  let onWelcome: (m: any) => void = () => {}
  const welcome = new Promise<any>(resolve => { onWelcome = resolve })
  ws.on('message', d => { const m = JSON.parse(d.toString()); if (m.type === 'welcome') onWelcome(m); else msgs.push(m) })
  const closed = new Promise<number>(resolve => ws.on('close', code => resolve(code)))
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
  ws.send(JSON.stringify({ type: 'hello', protocol: 1, agent: { id: 'web01', hostname: 'web01', version: 't', os: 'linux', labels: {} } }))
  return { ws, msgs, closed, welcome }
}

// kib KiB of padding, in 1 KiB string fields (a string field holds at most 16 KiB)
const batch = (seq: number, kib: number) => JSON.stringify({ type: 'batch', seq, points: [{ m: 'x', t: seq, f: { n: seq, ...Object.fromEntries(Array.from({ length: kib }, (_, i) => [`p${i}`, 'p'.repeat(1024)])) } }] })

t.test('a small batch behind a refused big one is refused too; after reconnecting both are stored in order', async t => {
  const dataDir = await tmpDir(t)
  const config = checkCollectorConfig('c.yaml', { dataDir, wal: { maxBytes: '1MiB', segmentBytes: '256KiB' }, agents: [{ id: 'web01', tokenSha256: sha256Hex(TOKEN) }] })
  // WAL-only: nothing drains the log, so it stays at its bound.
  const c = await build({ config, logger: pino({ level: 'silent' }) })
  const url = (await c.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws') + '/v1/agent'
  const a = await open(url)
  await a.welcome
  let seq = 0
  // Fill the WAL to within about 100 KiB of its bound with 100 KiB batches.
  while (c.wal.totalBytes < 1024 * 1024 - 200 * 1024) {
    seq++
    a.ws.send(batch(seq, 100))
    const want = seq
    await new Promise<void>((resolve, reject) => {
      const end = Date.now() + 5000
      const iv = setInterval(() => {
        if (a.msgs.some(m => m.seq === want)) { clearInterval(iv); resolve() }
        if (Date.now() > end) { clearInterval(iv); reject(new Error(`no answer to seq ${want}; WAL ${c.wal.totalBytes} bytes; ${JSON.stringify(a.msgs.slice(-2))}`)) }
      }, 2)
    })
  }
  const filled = seq
  // 250 KiB does not fit; 1 KiB would. Sent back to back, they reach the collector in one read.
  a.ws.send(batch(filled + 1, 250))
  a.ws.send(batch(filled + 2, 1))
  t.equal(await a.closed, 1013, 'the socket is closed with 1013 (try again later)')
  t.notOk(a.msgs.some(m => m.type === 'ack' && m.seq > filled), `no ack past seq ${filled}: ${JSON.stringify(a.msgs.filter(m => m.seq > filled))}`)
  const b = await open(url)
  t.equal((await b.welcome).ackedSeq, filled, 'welcome says the hole: resend from the refused batch')
  await c.shutdown()
  const seqs: number[] = []
  const w = await Wal.open({ dir: c.wal.dir, readers: [], onRecover: d => { const e = decodeEntry(d); if (e.a === 'web01') seqs.push(e.s) } })
  await w.close()
  t.same(seqs, Array.from({ length: filled }, (_, i) => i + 1), 'the WAL holds 1..filled and nothing past the hole')
})
