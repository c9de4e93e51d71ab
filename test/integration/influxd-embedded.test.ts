// The embedded influxd refuses a port someone else already serves (the
// influxdb package's own service on 8086 answers /ping too): the collector
// must never mistake another InfluxDB for its own.

import t from 'tap'
import { createServer } from 'node:http'
import { startInfluxd, findInfluxd } from '../../collector/storage/influxd-process.js'
import { freePort } from '../helpers/procs.js'
import { tmpDir } from '../helpers/tmp.js'

t.test('a taken port is refused with the port named; a free one starts', async t => {
  if (findInfluxd() === undefined) throw new Error('influxd is not installed (scripts/test.sh installs it)')
  const port = await freePort()
  const other = createServer((req, res) => { res.writeHead(req.url === '/ping' ? 204 : 404); res.end() })
  await new Promise<void>(resolve => other.listen(port, '127.0.0.1', () => resolve()))
  t.teardown(() => other.close())
  await t.rejects(startInfluxd({ dataDir: await tmpDir(t), port }), { message: new RegExp(`port 127\\.0\\.0\\.1:${port} is already in use \\(another InfluxDB`) })
  const own = await startInfluxd({ dataDir: await tmpDir(t), port: await freePort() })
  t.teardown(async () => await own.stop())
  t.equal((await fetch(`${own.url}/ping`)).status, 204)
})

t.test('ports it chose and lost to another process before influxd bound them are chosen again', async t => {
  // The race a parallel test run hit: a free port handed out, taken by someone else, then influxd's bind fails.
  const taken = await freePort()
  const other = createServer(() => {})
  await new Promise<void>(resolve => other.listen(taken, '127.0.0.1', () => resolve()))
  t.teardown(() => other.close())
  const handed: number[] = []
  const queue = [await freePort(), taken] // the HTTP port, then the RPC port that another process holds
  const choosePort = async (): Promise<number> => { const p = queue.shift() ?? await freePort(); handed.push(p); return p }
  const own = await startInfluxd({ dataDir: await tmpDir(t), port: 0, choosePort })
  t.teardown(async () => await own.stop())
  t.equal(handed.length, 4, `two ports chosen, then two again after the bind failed (${handed.join(', ')})`)
  t.not(own.port, handed[0], 'a new HTTP port')
  t.equal((await fetch(`${own.url}/ping`)).status, 204, 'influxd answers on it')
})
