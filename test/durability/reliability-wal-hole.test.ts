// At the WAL's byte bound a big batch is refused while a smaller one sent just
// after it would still fit. The smaller one must not be stored or acked past
// the hole: its resent predecessor would be taken for a duplicate and lost.
// Found by the 5-minute InfluxDB outage (RELIABILITY.md).

import t from 'tap'
import { decodeEntry } from '../../collector/state/entry.js'
import { Wal } from '../../collector/state/wal/index.js'
import { startCollector } from '../helpers/collector.js'
import { connectAgent } from '../helpers/fake-agent.js'

const TOKEN = 'hole-token'

// kib KiB of padding, in 1 KiB string fields (a string field holds at most 16 KiB)
const batch = (seq: number, kib: number) => JSON.stringify({ type: 'batch', seq, points: [{ m: 'x', t: seq, f: { n: seq, ...Object.fromEntries(Array.from({ length: kib }, (_, i) => [`p${i}`, 'p'.repeat(1024)])) } }] })

t.test('a small batch behind a refused big one is refused too; after reconnecting both are stored in order', async t => {
  // WAL-only: nothing drains the log, so it stays at its bound.
  const { c, agentUrl: url } = await startCollector(t, { config: { wal: { maxBytes: '1MiB', segmentBytes: '256KiB' } }, agents: [{ id: 'web01', token: TOKEN }] })
  const a = await connectAgent(t, url, { token: TOKEN, id: 'web01' })
  await a.greet()
  let seq = 0
  // Fill the WAL to within about 100 KiB of its bound with 100 KiB batches.
  while (c.wal.totalBytes < 1024 * 1024 - 200 * 1024) {
    seq++
    a.send(batch(seq, 100))
    const want = seq
    await a.waitFrame(m => m.seq === want, `an answer to seq ${want} (WAL ${c.wal.totalBytes} bytes)`, 5000)
  }
  const filled = seq
  // 250 KiB does not fit; 1 KiB would. Sent back to back, they reach the collector in one read.
  a.send(batch(filled + 1, 250))
  a.send(batch(filled + 2, 1))
  t.equal(await a.closed, 1013, 'the socket is closed with 1013 (try again later)')
  t.notOk(a.frames.some(m => m.type === 'ack' && m.seq > filled), `no ack past seq ${filled}: ${JSON.stringify(a.frames.filter(m => m.seq > filled))}`)
  const b = await connectAgent(t, url, { token: TOKEN, id: 'web01' })
  t.equal((await b.greet()).ackedSeq, filled, 'welcome says the hole: resend from the refused batch')
  await c.shutdown()
  const seqs: number[] = []
  const w = await Wal.open({ dir: c.wal.dir, readers: [], onRecover: d => { const e = decodeEntry(d); if (e.a === 'web01') seqs.push(e.s) } })
  await w.close()
  t.same(seqs, Array.from({ length: filled }, (_, i) => i + 1), 'the WAL holds 1..filled and nothing past the hole')
})
