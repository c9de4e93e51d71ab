// The 障害報告書 on request in cluster mode: the report is made from alerting.db, which holds a
// copy of the shared record (refreshed every 6 heartbeats). A write-up an operator saves through
// the API is in the report downloaded the next moment, not a minute later.

import t from 'tap'
import { createHash } from 'node:crypto'
import { startCollector } from '../helpers/collector.js'
import { startPostgres } from '../helpers/postgres.js'

const rulesDir = new URL('../fixtures/alert-rules/', import.meta.url).pathname
const TOK = { viewer: 'tok-viewer', operator: 'tok-operator' }
const sha = (s: string): string => createHash('sha256').update(s).digest('hex')

t.test('a write-up saved a moment ago is in the incident report', async t => {
  const pg = await startPostgres(t)
  const { c, url } = await startCollector(t, {
    env: { KANSHI_PG_PASSWORD: pg.password },
    config: {
      influx: { embedded: { enabled: false } },
      api: { tokens: Object.entries(TOK).map(([role, tok]) => ({ name: `${role}-user`, tokenSha256: sha(tok), role })) },
      alerting: {
        rulesDir,
        smtp: { host: '127.0.0.1', port: 1, from: 'kanshi@example.jp', timeout: '2s' },
        receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }],
        routes: [{ receiver: 'oncall' }],
        groupWait: '0s', groupInterval: '0s', repeatInterval: '1h'
      },
      // The copy is refreshed every 6 heartbeats: a minute here, far longer than the test.
      cluster: { node: 'c1', postgres: { url: pg.url, connectTimeout: '1s', statementTimeout: '2s' }, lease: '30s', heartbeat: '10s' }
    }
  })
  const a = c.alerting!
  t.equal(a.store.backend, 'postgres', 'alerting runs on the cluster\'s store')
  t.ok(await c.cluster!.agents.take('web01'), 'this node holds web01\'s lease (as when its agent connects)')
  const at = Date.now() - 60_000
  await a.stage.apply(a.evaluator.observePoints([{ m: 'kiosk_app', t: at, tags: { host: 'web01', role: 'server', site: 's' }, f: { queue_length: 95 } }], at))
  await a.stage.apply(a.evaluator.tick(at + 3000))
  const id = (await a.store.firing()).find(i => i.host === 'web01')?.id
  t.ok(id !== undefined, 'the rule fired: an incident in PostgreSQL')

  const cause = `ディスクコントローラの故障 ${Math.random().toString(36).slice(2, 8)}`
  const patch = await fetch(`${url}/v1/incidents/${id!}`, { method: 'PATCH', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOK.operator}` }, body: JSON.stringify({ cause }) })
  t.equal(patch.status, 200, 'the operator saves the write-up')
  const report = await fetch(`${url}/v1/incidents/${id!}/report.html`, { headers: { authorization: `Bearer ${TOK.viewer}` } })
  t.equal(report.status, 200)
  t.match(await report.text(), `<dd id="w-cause">${cause}</dd>`, 'the report made right after carries it')
})
