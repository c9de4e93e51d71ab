// The WAL's disk really full, with real processes: the collector's dataDir on
// a 3 MiB tmpfs (root only), InfluxDB stopped so the WAL fills it. The
// collector stops acking instead of dropping, the agent keeps spooling, and
// once InfluxDB is back the WAL drains, frees its disk and takes writes again
// by itself; every confirmed point is in InfluxDB exactly once.

import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { withInfluxd, query } from '../helpers/influxd.js'
import { waitFor } from '../helpers/procs.js'
import { asViewer } from '../helpers/config.js'
import { makeStack, countSeqtest } from '../helpers/stack.js'
import { startPusher } from '../helpers/pusher.js'

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

async function readyz (port: number): Promise<{ status: number, problems: string[] }> {
  const r = await fetch(`http://127.0.0.1:${port}/readyz`, { headers: asViewer })
  return { status: r.status, problems: ((await r.json()) as { problems: string[] }).problems }
}

t.test('the WAL\'s disk really full (3 MiB tmpfs): the collector stops acking, then recovers without loss', async t => {
  if (process.getuid?.() !== 0) {
    t.comment('not root: no tmpfs can be mounted, so the disk-full case is covered by the byte bound in reliability-storage.test.ts (same refusal path: E_WAL_FULL, 1013)')
    return
  }
  const influxd = await withInfluxd(t)
  // Segments well below the free space: the active segment is freed only once it rolls over, so with the
  // default 64 MiB segments on a disk this small the collector would stay refused (RELIABILITY.md).
  const stack = await makeStack(t, {
    influx: { version: 1, url: influxd.url, db: 'kanshi', timeout: '2s' }, agentId: 'disk', inputs: ['mem'], push: true,
    collector: { wal: { segmentBytes: '256KiB' } }
  })
  const mnt = join(stack.dir, 'collector')
  mkdirSync(mnt, { recursive: true })
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt])
  t.teardown(() => { try { execFileSync('umount', ['-l', mnt]) } catch { /* gone already */ } })
  const { port } = stack
  await stack.startCollector()
  await stack.startAgent()
  // About 6 000 points a second: protocol 3's columns take about 45 bytes a point in the WAL.
  const pusher = startPusher(stack.pushUrl, { perRequest: 300, everyMs: 50 })
  await sleep(2000)
  await influxd.stop()
  await waitFor(async () => (await readyz(port)).problems.some(p => /ENOSPC/.test(p)), 60_000, 500)
  t.pass(`disk full: readyz says ${(await readyz(port)).problems.join('; ')}`)
  await sleep(5000)
  const during = pusher.confirmed.length
  await influxd.restart()
  // The WAL keeps a little spare room (.reserve) so cursors and checkpoints can still be written and
  // consumed segments deleted once InfluxDB takes the backlog: it recovers without a restart.
  await waitFor(async () => (await readyz(port)).status === 200, 120_000, 500)
  t.pass('the WAL drained to InfluxDB, freed its disk and takes writes again, without a restart')
  await sleep(2000)
  await pusher.stop()
  const n = pusher.confirmed.length
  t.ok(n > during, `${n} points confirmed (${during} by the end of the outage)`)
  let got: number[] = []
  await waitFor(async () => { got = await countSeqtest(query, influxd.url, 'disk'); return got[0] === n }, 180_000, 1000).catch(() => {})
  if (got[0] !== n) {
    const agents = await (await fetch(`http://127.0.0.1:${port}/api/v1/agents`, { headers: asViewer })).json()
    t.comment(`still missing ${n - got[0]!}: agents ${JSON.stringify(agents)}; readyz ${JSON.stringify(await readyz(port))}`)
  }
  t.same(got, [n, pusher.confirmed.reduce((a, b) => a + b, 0)], `all ${n} points present once`)
})
