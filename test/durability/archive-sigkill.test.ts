// The archive through a collector killed with SIGKILL mid-day (a real child process): after the
// restart it resumes from its WAL cursor, skips what it had archived before its cursor moved, and
// the day verifies whole with every event once.

import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { agentEntries, writeConfig } from '../helpers/config.js'
import { connectAgent, type FakeAgent } from '../helpers/fake-agent.js'
import { freePort, spawnProgram, waitFor } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'
import { collectorCli, makeEvents, sendEvents, writeKeys, type SentEvent } from '../helpers/archive.js'

t.test('SIGKILL mid-stream: the archive resumes, nothing doubled or lost, verify passes', async t => {
  const dir = await tmpDir(t)
  const keys = writeKeys(dir)
  const port = await freePort()
  const { agents, tokens } = agentEntries([{ id: 'web01' }])
  const cfg = writeConfig(join(dir, 'collector.yaml'), {
    listen: { host: '127.0.0.1', port },
    dataDir: join(dir, 'data'),
    influx: { embedded: { enabled: false } },
    agents,
    archive: { enabled: true, signingKey: keys.key }
  })
  const start = async (): Promise<Awaited<ReturnType<typeof spawnProgram>>> => {
    const c = await spawnProgram(t, 'collector', ['--config', cfg])
    await c.waitForLine(l => l.includes('collector listening'), 20_000)
    return c
  }
  const connect = async (): Promise<[FakeAgent, number]> => {
    const a = await connectAgent(t, `ws://127.0.0.1:${port}/v1/agent`, { token: tokens['web01']!, id: 'web01' })
    return [a, (await a.greet()).ackedSeq as number]
  }
  const events = makeEvents('web01', 0, 12_000, Date.now())
  const per = 200
  const batch = (seq: number): SentEvent[] => events.slice((seq - 1) * per, seq * per)

  let c = await start()
  let [a] = await connect()
  // Stream 40 batches without waiting, and kill the collector while they are being stored and archived.
  for (let seq = 1; seq <= 40; seq++) a.batch(seq, [], { events: batch(seq).map(({ host: _h, ...e }) => e) })
  await a.waitFrame(m => m.type === 'ack' && m.seq >= 15, 'ack 15')
  c.kill('SIGKILL')
  t.equal(await c.waitExit(), null, 'killed')

  c = await start()
  const [a2, acked] = await connect()
  a = a2
  t.ok(acked >= 15, `the restarted collector holds batches up to ${acked}`)
  // The agent resends what was not acked, then goes on.
  await sendEvents(a, acked + 1, events.slice(acked * per, 60 * per), per)
  const file = join(dir, 'data', 'archive')
  const archivedIds = (): number[] => {
    const out = collectorCli(['logs', 'export', '--from', '2000-01-01', '--to', '2999-12-31', '--format', 'jsonl', '--out', join(dir, 'all.jsonl'), '--config', cfg])
    if (out.code !== 0) throw new Error(out.err)
    return readFileSync(join(dir, 'all.jsonl'), 'utf8').split('\n').filter(l => l !== '').map(l => Number(/ID-(\d+)/.exec(JSON.parse(l).message)![1]))
  }
  let ids: number[] = []
  await waitFor(() => (ids = archivedIds()).length >= 60 * per, 30_000, 500)
  t.equal(ids.length, 60 * per, `${file}: 12,000 events archived`)
  t.equal(new Set(ids).size, ids.length, 'none twice')
  t.same([...ids].sort((x, y) => x - y), events.map((_, i) => i), 'none missing')
  const v = collectorCli(['archive', 'verify', '--config', cfg])
  t.equal(v.code, 0, v.err)
  t.match(v.out, /12000 records, chain and signatures intact/)
  c.kill('SIGTERM')
  t.equal(await c.waitExit(), 0)
})
