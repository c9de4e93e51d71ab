// A 1.x target (real influxd) and a 2.x target (real VictoriaMetrics on /api/v2/write) in one
// influx: list: each gets every point and every log event; the 2.x one gets log events in its
// log bucket; reports read the target marked query: true.

import t from 'tap'
import { createServer } from 'node:http'
import { InfluxV2 } from '../../collector/storage/influx-v2.js'
import { startCollector } from '../helpers/collector.js'
import { connectAgent } from '../helpers/fake-agent.js'
import { query, withInfluxd } from '../helpers/influxd.js'
import { withVictoria, vmExport } from '../helpers/victoria.js'
import { waitFor } from '../helpers/procs.js'
import { influxTarget } from '../../collector/report/report.js'
import { committedToEnd } from '../helpers/wal.js'

t.test('a v1 and a v2 target together: both get every point', async t => {
  const [influx, vm] = await Promise.all([withInfluxd(t), withVictoria(t)])
  const col = await startCollector(t, {
    agents: [{ id: 'web01' }],
    config: {
      influx: [
        { name: 'vm', version: 2, url: vm.url, token: 'unused-by-vm', org: 'kanshi', bucket: 'kanshi', flushInterval: '50ms' },
        { name: 'influx1', url: influx.url, flushInterval: '50ms', query: true }
      ]
    }
  })
  t.equal(col.config.influx.name, 'influx1', 'the query target is the one marked')
  t.equal(influxTarget(col.config).url, influx.url, 'reports read it')
  const a = await connectAgent(t, col.agentUrl, { token: col.tokens['web01']!, id: 'web01' })
  await a.greet()
  const t0 = Date.now() - 60_000
  let points = 0
  let events = 0
  for (let seq = 1; seq <= 20; seq++) {
    const pts = Array.from({ length: 25 }, (_, i) => ({ m: 'seqtest', t: t0 + seq * 100 + i, f: { n: seq * 100 + i } }))
    const evs = [{ t: t0 + seq * 100, source: 'app', level: 'error', message: `event ${seq}` }]
    a.batch(seq, pts, { events: evs })
    await a.waitFrame(m => m.type === 'ack' && m.seq === seq, `ack ${seq}`)
    points += pts.length
    events += evs.length
  }
  // Every target committed (not only read) up to the WAL's end: several requests may be in flight.
  const committed = (): boolean => col.c.targets!.list.every(x => x.writer.healthy && committedToEnd(x.reader, col.c.wal))
  await waitFor(committed, 20_000, 50)

  const v1 = await query(influx.url, 'kanshi', 'SELECT count("n") FROM "kanshi_raw"."seqtest"; SELECT count("count") FROM "kanshi_logs"."log_event"')
  t.equal(v1.results[0].series[0].values[0][1], points, `influxd: all ${points} points`)
  t.equal(v1.results[1].series[0].values[0][1], events, `influxd: all ${events} log events in kanshi_logs`)
  let vmPoints = 0
  let vmEvents: Array<{ metric: Record<string, string>, values: number[] }> = []
  await waitFor(async () => {
    vmPoints = (await vmExport(vm.url, '{__name__="seqtest_n"}')).reduce((n, s) => n + s.values.length, 0)
    vmEvents = await vmExport(vm.url, '{__name__="log_event_count"}')
    return vmPoints === points && vmEvents.reduce((n, s) => n + s.values.length, 0) === events
  }, 20_000, 200).catch(() => {})
  t.equal(vmPoints, points, `VictoriaMetrics: all ${points} points`)
  t.equal(vmEvents.reduce((n, s) => n + s.values.length, 0), events, `VictoriaMetrics: all ${events} log events`)
  t.equal((await col.c.metrics.pointsWritten.get()).values.filter(v => v.labels.target !== undefined).length, 2, 'points written are counted per target')
})

// VictoriaMetrics ignores the bucket, so which bucket each write names is read off the requests
// themselves by a recording HTTP server (the wire shape only; the real writes are checked above).
t.test('v2: log events go to logBucket, rollups to rollupBucket; logsBy deletes through /api/v2/delete', async t => {
  const seen: Array<{ path: string, bucket: string | null, body: string }> = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x')
      seen.push({ path: u.pathname, bucket: u.searchParams.get('bucket'), body })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const b = new InfluxV2({ url, token: 'tok', org: 'o', bucket: 'kanshi', timeoutMs: 5000, maxLines: 100, rollupBucket: 'kanshi_5m', logBucket: 'kanshi_logs' })
  t.teardown(async () => await b.close())
  t.same(await b.write(['cpu v=1 1'], 'raw'), { kind: 'ok' })
  t.same(await b.write(['log_event count=1i 1'], 'logs'), { kind: 'ok' })
  t.same(await b.write(['cpu v_mean=1 1'], 'rollup'), { kind: 'ok' })
  t.same(seen.map(r => [r.path, r.bucket]), [['/api/v2/write', 'kanshi'], ['/api/v2/write', 'kanshi_logs'], ['/api/v2/write', 'kanshi_5m']])
  const cutoff = Date.parse('2026-12-01T00:00:00Z')
  t.same(await b.deleteLogs({ role: 'kiosk' }, cutoff), { kind: 'ok' })
  const del = seen.at(-1)!
  t.same([del.path, del.bucket], ['/api/v2/delete', 'kanshi_logs'])
  t.same(JSON.parse(del.body), { start: '1970-01-01T00:00:00Z', stop: new Date(cutoff).toISOString(), predicate: '_measurement="log_event" AND role="kiosk"' })
})
