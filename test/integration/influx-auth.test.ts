// A collector writing as an InfluxDB user without admin rights (auth enabled,
// GRANT WRITE only), the usual set-up where an administrator owns the
// database: the collector must not stall on CREATE DATABASE / RETENTION
// POLICY (403), says so once, and writes. A database that is missing at first
// keeps the data in the WAL until the administrator creates it.

import t from 'tap'
import { startInfluxd } from '../../collector/storage/influxd-process.js'
import { makeStack } from '../helpers/stack.js'
import { waitFor } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'
import { asViewer } from '../helpers/config.js'

const ADMIN = 'Basic ' + Buffer.from('admin:admin-pw').toString('base64')

t.test('write-only user: no stall on admin statements; data arrives; a missing database waits in the WAL', async t => {
  const influxd = await startInfluxd({ dataDir: await tmpDir(t), authEnabled: true })
  t.teardown(async () => await influxd.stop())
  const q = async (stmt: string, auth: string | undefined = ADMIN): Promise<any> => {
    const r = await fetch(`${influxd.url}/query?${new URLSearchParams({ q: stmt, db: 'kanshi', epoch: 'ms' })}`, { method: 'POST', headers: auth === undefined ? {} : { authorization: auth } })
    const body = await r.json() as any
    if (r.status !== 200 || body.results?.[0]?.error !== undefined) throw new Error(`${stmt}: ${r.status} ${JSON.stringify(body)}`)
    return body
  }
  await q("CREATE USER admin WITH PASSWORD 'admin-pw' WITH ALL PRIVILEGES", undefined)
  await q("CREATE USER writer WITH PASSWORD 'writer-pw'")
  const count = async (): Promise<number> => {
    try {
      const r = await q("SELECT count(usage_percent) FROM cpu WHERE host = 'auth-host'")
      return r.results[0].series?.[0]?.values?.[0]?.[1] ?? 0
    } catch { return 0 }
  }
  const stack = await makeStack(t, { influx: { version: 1, url: influxd.url, db: 'kanshi', username: 'writer' }, agentId: 'auth-host', inputs: ['cpu'], collectorEnv: { KANSHI_INFLUX_PASSWORD: 'writer-pw' } })
  const startedAt = Date.now()
  const collector = await stack.startCollector()
  await collector.waitForLine(l => l.includes('may not create database kanshi'), 20_000)
  await stack.startAgent()
  // The database does not exist yet: nothing is written, nothing is lost.
  await new Promise(resolve => setTimeout(resolve, 3000))
  t.equal(await count(), 0, 'nothing written while the database is missing')
  const ready = await fetch(`http://127.0.0.1:${stack.port}/readyz`, { headers: asViewer })
  t.equal(ready.status, 503, '/readyz says storage is not writing')
  t.match(await ready.text(), /database not found|not found/)
  // The administrator creates it as docs/configuration.md says; the backlog drains.
  const createdAt = Date.now()
  await q('CREATE DATABASE kanshi')
  await q('CREATE RETENTION POLICY kanshi_raw ON kanshi DURATION 35d REPLICATION 1 DEFAULT')
  await q('CREATE RETENTION POLICY kanshi_5m ON kanshi DURATION 730d REPLICATION 1')
  await q('GRANT WRITE ON kanshi TO writer')
  let n = 0
  await waitFor(async () => { n = await count(); return n >= 3 }, 30_000, 500)
  t.ok(n >= 3, `${n} cpu points written by the write-only user, including those held while the database was missing`)
  const first = await q("SELECT first(usage_percent) FROM cpu WHERE host = 'auth-host'")
  const firstAt = first.results[0].series[0].values[0][0] as number
  t.ok(firstAt < createdAt && firstAt >= startedAt - 1000, `the first point is from ${createdAt - firstAt} ms before the database existed`)
  t.equal(collector.lines.filter(l => l.includes('may not create database')).length, 1, 'said once, not on every retry')
})
