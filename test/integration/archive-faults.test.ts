// The archive's faults in a real collector: records (log events, audit records) it archived before
// its cursor moved (a crash between the two) come again and are skipped; a full disk (archive.minFree) stops the archive,
// not ingest, shows on the stage's problem and kanshi_archive_up, and past archive.holdFraction
// the records are skipped and a gap record counts them.

import t from 'tap'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { join } from 'node:path'
import { createPublicKey } from 'node:crypto'
import { parse } from 'yaml'
import { startCollector } from '../helpers/collector.js'
import { connectAgent } from '../helpers/fake-agent.js'
import { waitFor } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'
import { makeEvents, sendEvents, writeKeys } from '../helpers/archive.js'
import { verifyArchive } from '../../collector/archive/verify.js'
import { exportLogs } from '../../collector/archive/export.js'
import { asViewer, viewerApi } from '../helpers/config.js'

const pubOf = (file: string) => createPublicKey(readFileSync(file))

t.test('records archived before the cursor moved come again and are skipped', async t => {
  const keys = writeKeys(await tmpDir(t))
  let col = await startCollector(t, { agents: [{ id: 'web01' }], config: { archive: { enabled: true, signingKey: keys.key } } })
  const a = await connectAgent(t, col.agentUrl, { token: col.tokens['web01']!, id: 'web01' })
  await a.greet()
  await sendEvents(a, 1, makeEvents('web01', 0, 1000, Date.now()))
  const archived = async (): Promise<number> => (await col.c.metrics.archiveEvents.get()).values[0]?.value ?? 0
  await waitFor(async () => await archived() === 1000, 20_000, 100)
  col.c.audit.append('test', 'archive.check', { n: 1 })
  const audits = col.c.audit.entries(1000).length
  const auditLines = (): any[] => gunzipSync(readFileSync(join(col.config.archive.dir, readdirSync(col.config.archive.dir).find(f => f.endsWith('.log.gz'))!))).toString()
    .split('\n').slice(0, -1).map(l => JSON.parse(l.slice(65))).filter(b => b.k === 'audit')
  await waitFor(() => auditLines().length === audits, 10_000, 100)
  t.match(auditLines().at(-1), { k: 'audit', source: 'audit/test', message: 'archive.check {"n":1}' }, 'audit records are archived too')
  const cursor = col.c.wal.reader('archive').file
  const end = { ...col.c.wal.reader('archive').committed }
  await col.c.shutdown()
  // As if the collector died after the archive's fsync and before its cursor was saved.
  writeFileSync(cursor, JSON.stringify({ segment: end.segment, offset: 0 }))
  col = await col.restart()
  await waitFor(() => col.c.wal.reader('archive').committed.offset === end.offset, 20_000, 100)
  t.equal(await archived(), 0, 'nothing archived again')
  const r = verifyArchive(col.config.archive.dir, pubOf(keys.pub))
  t.equal(r.fault, undefined, JSON.stringify(r.fault))
  t.equal(r.records, 1000 + audits, 'each record once')
  t.equal(auditLines().length, audits, 'each audit record once')
})

t.test('a full disk stops the archive, not ingest; held records past holdFraction are skipped and counted', async t => {
  const keys = writeKeys(await tmpDir(t))
  const config = { wal: { maxBytes: '4MiB' }, archive: { enabled: true, signingKey: keys.key, minFree: 2 ** 52, holdFraction: 0.05 }, api: viewerApi() }
  let col = await startCollector(t, { agents: [{ id: 'web01' }], config })
  const a = await connectAgent(t, col.agentUrl, { token: col.tokens['web01']!, id: 'web01' })
  await a.greet()
  const sent = makeEvents('web01', 0, 3000, Date.now())
  const seq = await sendEvents(a, 1, sent, 100)
  t.equal(seq, 31, 'every batch acked while the archive cannot write')
  await waitFor(() => col.c.archive?.problem?.includes('archive.minFree') === true, 10_000, 100)
  t.match(col.c.archive!.problem, /^archive: the archive's disk has \d+ bytes free, under archive.minFree/)
  const readyProblems = async (): Promise<string[]> => ((await (await fetch(`${col.url}/readyz`, { headers: asViewer })).json()) as { problems: string[] }).problems
  t.ok((await readyProblems()).some(p => p.includes('archive.minFree')), '/readyz names the archive problem')
  t.equal((await col.c.metrics.archiveUp.get()).values[0]!.value, 0, 'kanshi_archive_up 0')
  const skipped = async (): Promise<number> => (await col.c.metrics.archiveSkipped.get()).values[0]?.value ?? 0
  await waitFor(async () => await skipped() > 0, 20_000, 200)
  const n = await skipped()
  t.ok(n > 0 && n < 3000, `${n} events skipped to keep the WAL below its bound`)

  // Space again: the rest is archived, after a gap record that counts the skipped events.
  await col.c.shutdown()
  const file = join(col.dir, 'collector.yaml')
  const y = parse(readFileSync(file, 'utf8'))
  y.archive.minFree = 0
  writeFileSync(file, JSON.stringify(y))
  col = await col.restart()
  await waitFor(async () => (await col.c.metrics.archiveEvents.get()).values[0]?.value === 3000 - n, 20_000, 100)
  t.equal(col.c.archive!.problem, undefined)
  t.notOk((await readyProblems()).some(p => p.includes('archive')), 'and /readyz no longer does')
  const out = join(await tmpDir(t), 'all.jsonl')
  const e = await exportLogs({ dir: col.config.archive.dir, from: '2000-01-01', to: '2999-12-31', format: 'jsonl', out })
  t.match(e, { events: 3000 - n, gaps: n }, 'archived + counted in the gap = all sent')
  const r = verifyArchive(col.config.archive.dir, pubOf(keys.pub))
  t.equal(r.fault, undefined, JSON.stringify(r.fault))
})
