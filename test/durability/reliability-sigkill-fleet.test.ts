// The collector SIGKILLed ten times, every 1.5–3 s, while 20 agents stream
// numbered points: once every spool has drained (each batch acked), InfluxDB
// holds every point exactly once, per agent. The collector and influxd are
// real processes; the agents are the real spool and transport, in this
// process, so twenty of them fit on a small CI machine.

import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { sha256Hex } from '../../collector/ingest/auth.js'
import { Spool } from '../../agent/spool.js'
import { Transport } from '../../agent/transport.js'
import { asViewer, viewerApi } from '../helpers/config.js'
import { withInfluxd, query } from '../helpers/influxd.js'
import { spawnProgram, freePort, waitFor, type Program } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

const AGENTS = 20
const KILLS = Number(process.env['KANSHI_SIGKILLS'] ?? 10)

t.test(`collector SIGKILLed ${KILLS} times while ${AGENTS} agents stream: every acked point in InfluxDB exactly once`, async t => {
  const influxd = await withInfluxd(t)
  const dir = await tmpDir(t)
  const port = await freePort()
  const ids = Array.from({ length: AGENTS }, (_, i) => `fleet${String(i).padStart(2, '0')}`)
  writeFileSync(join(dir, 'collector.yaml'), JSON.stringify({
    listen: { host: '127.0.0.1', port }, dataDir: join(dir, 'collector'),
    influx: { version: 1, url: influxd.url, db: 'kanshi', flushInterval: '100ms', rollups: false },
    ingest: { defaultInterval: '1s' },
    agents: ids.map(id => ({ id, tokenSha256: sha256Hex(`tok-${id}`), role: 'kiosk', site: 'fleet' })),
    api: viewerApi()
  }))
  const start = async (): Promise<Program> => {
    const c = await spawnProgram(t, 'collector', ['--config', join(dir, 'collector.yaml')])
    await c.waitForLine(l => l.includes('collector listening'), 20_000)
    return c
  }
  let collector = await start()
  const agents = await Promise.all(ids.map(async id => {
    const spool = await Spool.open(join(dir, id), 64 << 20)
    const tr = new Transport({
      url: `ws://127.0.0.1:${port}/v1/agent`, token: `tok-${id}`, spool, logger: pino({ level: 'silent' }),
      hello: { id, hostname: id, role: 'kiosk', site: 'fleet', version: 'test', os: 'linux', labels: {}, intervalMs: 1000 },
      backoffMinMs: 50, backoffMaxMs: 500, pingIntervalMs: 1000, maxInflight: 8, ackTimeoutMs: 5000
    })
    tr.start()
    t.teardown(async () => await tr.stop())
    return { id, spool, tr, sent: 0 }
  }))
  // Each agent adds a batch of 5 numbered points every 100 ms: the numbers are what InfluxDB must hold at the end.
  const base = Date.now()
  let streaming = true
  const pumps = agents.map(async a => {
    while (streaming) {
      const points = Array.from({ length: 5 }, () => { a.sent++; return { m: 'seqtest', t: base + a.sent, tags: {}, f: { n: a.sent } } })
      await a.spool.add(points)
      a.tr.notify()
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  })
  for (let i = 0; i < KILLS; i++) {
    await new Promise(resolve => setTimeout(resolve, 1500 + Math.random() * 1500))
    collector.kill('SIGKILL')
    await collector.waitExit()
    await new Promise(resolve => setTimeout(resolve, 200))
    collector = await start()
  }
  streaming = false
  await Promise.all(pumps)
  await waitFor(() => agents.every(a => a.spool.batches === 0), 60_000, 200)
  t.pass(`every spool drained after ${KILLS} kills: all ${agents.reduce((n, a) => n + a.sent, 0)} points acked`)
  const expected = new Map(agents.map(a => [a.id, [a.sent, a.sent * (a.sent + 1) / 2]]))
  let got = new Map<string, number[]>()
  await waitFor(async () => {
    const r = await query(influxd.url, 'kanshi', 'SELECT count(n), sum(n) FROM seqtest GROUP BY host')
    got = new Map((r.results[0].series ?? []).map((s: any) => [s.tags.host, s.values[0].slice(1)]))
    return ids.every(id => got.get(id)?.[0] === expected.get(id)![0])
  }, 90_000, 500).catch(() => {})
  for (const id of ids) t.same(got.get(id), expected.get(id), `${id}: count and sum of n match — each point once`)
  const dup = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: asViewer })).text()
  t.comment(`resends acked as duplicates by the last collector: ${/^kanshi_duplicate_batches_total (\d+)/m.exec(dup)?.[1] ?? 'n/a'}`)
  collector.kill('SIGTERM')
  await collector.waitExit()
})
