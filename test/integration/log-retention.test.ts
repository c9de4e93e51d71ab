// Log events apart from metrics, on a real influxd: they land in the kanshi_logs policy (400d by
// default), and influx.retention.logsBy deletes a kiosk's events once older than keep (a fake
// clock moves past it) while a server's stay; the archive leaves the kiosk's out and verifies.

import t from 'tap'
import { createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { startCollector } from '../helpers/collector.js'
import { connectAgent } from '../helpers/fake-agent.js'
import { query, withInfluxd } from '../helpers/influxd.js'
import { waitFor } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'
import { writeKeys } from '../helpers/archive.js'
import { verifyArchive } from '../../collector/archive/verify.js'
import { committedToEnd } from '../helpers/wal.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** messagesIn returns the messages of log_event in policy rp, by host. */
async function messagesIn (url: string, rp: string): Promise<Record<string, string[]>> {
  const r = await query(url, 'kanshi', `SELECT "message" FROM "${rp}"."log_event" GROUP BY "host"`)
  const out: Record<string, string[]> = {}
  const series = [...(r.results?.[0]?.series ?? [])].sort((a, b) => a.tags.host < b.tags.host ? -1 : 1)
  for (const s of series) out[s.tags.host] = s.values.map((v: unknown[]) => String(v[1])).sort()
  return out
}

t.test('log events go to kanshi_logs; logsBy deletes kiosk events after keep, server events stay; the archive leaves kiosk events out', async t => {
  const influx = await withInfluxd(t)
  const keys = writeKeys(await tmpDir(t))
  const start = Date.now()
  let clock = start
  const col = await startCollector(t, {
    agents: [{ id: 'web01' }, { id: 'kiosk01', role: 'kiosk' }],
    config: {
      influx: { url: influx.url, flushInterval: '50ms', retention: { logsBy: [{ where: { role: 'kiosk' }, keep: '1d' }], sweepInterval: '1s' } },
      archive: { enabled: true, signingKey: keys.key }
    },
    build: { now: () => clock }
  })
  const policy = async (): Promise<unknown[] | undefined> => {
    const r = await query(influx.url, '', 'SHOW RETENTION POLICIES ON kanshi').catch(() => undefined)
    return r?.results?.[0]?.series?.[0]?.values?.find((v: unknown[]) => v[0] === 'kanshi_logs')
  }
  await waitFor(async () => await policy() !== undefined, 20_000, 100)
  const logs = (await policy())!
  t.ok(logs, 'the kanshi_logs policy was created at start')
  t.equal(logs[1], `${400 * 24}h0m0s`, 'kept 400 days by default')

  // Each agent sends one event 2 days old and one an hour old (before the sweep can run on them, all in one batch).
  const sent: Record<string, string[]> = {}
  for (const id of ['web01', 'kiosk01']) {
    const a = await connectAgent(t, col.agentUrl, { token: col.tokens[id]!, id })
    await a.greet()
    const events = [{ t: start - 2 * DAY, message: `${id} old` }, { t: start - HOUR, message: `${id} recent` }]
      .map(e => ({ ...e, source: '/var/log/app.log', level: 'error' }))
    a.batch(1, [{ m: 'cpu', t: start, f: { usage_percent: 1 } }], { events })
    await a.waitFrame(m => m.type === 'ack' && m.seq === 1, 'ack 1')
    sent[id] = events.map(e => e.message).sort()
  }
  await waitFor(() => committedToEnd(col.c.targets!.list[0]!.reader, col.c.wal) && col.c.targets!.list[0]!.writer.healthy, 20_000, 50)
  const raw = await query(influx.url, 'kanshi', 'SELECT count("message") FROM "kanshi_raw"."log_event"')
  t.same(raw.results[0].series, undefined, 'no log event in the raw policy')
  t.ok((await query(influx.url, 'kanshi', 'SELECT count("usage_percent") FROM "kanshi_raw"."cpu"')).results[0].series, 'metrics stay in kanshi_raw')

  // The sweep (every second) deletes the kiosk's 2-day-old event; the server's stays, and the kiosk's recent one.
  const after1 = { kiosk01: ['kiosk01 recent'], web01: sent['web01']! }
  await waitFor(async () => JSON.stringify(await messagesIn(influx.url, 'kanshi_logs')) === JSON.stringify(after1), 20_000, 200)
  t.same(await messagesIn(influx.url, 'kanshi_logs'), after1, 'kiosk event older than keep gone, all server events kept')

  // A day later by the collector's clock the kiosk's other event is past keep too.
  clock = start + DAY + HOUR
  const after2 = { web01: sent['web01']! }
  await waitFor(async () => JSON.stringify(await messagesIn(influx.url, 'kanshi_logs')) === JSON.stringify(after2), 20_000, 200)
  t.same(await messagesIn(influx.url, 'kanshi_logs'), after2, 'after keep, no kiosk event is left; server events stay')
  const swept = (await col.c.metrics.logsSwept.get()).values.filter(v => v.labels.result === 'ok')
  t.ok(swept.length > 0 && swept[0]!.value >= 2, 'sweeps counted')
  t.equal((await col.c.metrics.logsSwept.get()).values.filter(v => v.labels.result === 'fail').length, 0, 'no sweep failed')

  // The archive holds the server's events only, and verifies.
  await waitFor(async () => ((await col.c.metrics.archiveEvents.get()).values[0]?.value ?? 0) === 2, 20_000, 100)
  t.equal((await col.c.metrics.archiveExcluded.get()).values[0]?.value, 2, 'the kiosk events were left out of the archive, counted')
  await col.c.shutdown()
  const v = verifyArchive(col.config.archive.dir, createPublicKey(readFileSync(keys.pub)))
  t.equal(v.fault, undefined, 'archive verify passes')
  t.ok(v.records >= 2, `${v.records} records`)
})
