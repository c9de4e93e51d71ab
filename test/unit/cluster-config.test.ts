// The cluster: section: absent means no PostgreSQL; defaults; the password only from the
// environment, never in the URL, logs or the console view; clear errors naming the key.

import t from 'tap'
import { hostname } from 'node:os'
import { Writable } from 'node:stream'
import { checkCollectorConfig } from '../../collector/config.js'
import { redactUrl } from '../../collector/config/cluster.js'
import { makeLogger } from '../../collector/logger.js'
import { pgMessage } from '../../collector/cluster/pg.js'
import { composeNodeDown } from '../../collector/cluster/down-mail.js'

const FILE = '/etc/kanshi/collector.yaml'
const URL_ = 'postgres://kanshi@db1:5432/kanshi'

t.test('absent: no cluster; present: defaults and the password from KANSHI_PG_PASSWORD', async t => {
  t.equal(checkCollectorConfig(FILE, {}, {}).cluster, undefined, 'single-collector mode as before')
  const c = checkCollectorConfig(FILE, { cluster: { postgres: { url: URL_ } } }, { KANSHI_PG_PASSWORD: 's3cret' }).cluster!
  t.equal(c.node, hostname().split('.')[0], 'node defaults to the host name')
  t.same([c.lease, c.heartbeat, c.receivers], [15_000, 5000, []])
  t.same({ ...c.postgres }, { url: URL_, passwordEnv: 'KANSHI_PG_PASSWORD', ssl: 'disable', connectTimeout: 5000, statementTimeout: 5000, poolSize: 4, password: 's3cret', caFile: undefined })
  const other = checkCollectorConfig(FILE, { cluster: { node: 'c2', postgres: { url: URL_, passwordEnv: 'PG_PW', ssl: 'verify-full', caFile: 'ca.pem' } } }, { PG_PW: 'x' }).cluster!
  t.same([other.node, other.postgres.password, other.postgres.caFile], ['c2', 'x', '/etc/kanshi/ca.pem'])
})

t.test('bad values name the key and what is expected', async t => {
  const bad = (cluster: unknown, msg: RegExp): void => { t.throws(() => checkCollectorConfig(FILE, { cluster }, {}), { message: msg }) }
  bad({ postgres: { url: 'postgres://kanshi:pw@db1/kanshi' } }, new RegExp(`^${FILE}: cluster\\.postgres\\.url: expected no password in the URL: put it in the environment variable KANSHI_PG_PASSWORD$`))
  bad({ postgres: { url: 'mysql://db1/kanshi' } }, /cluster\.postgres\.url: expected a PostgreSQL URL/)
  bad({ postgres: { url: 'postgres://kanshi@db1' } }, /cluster\.postgres\.url: expected a database name in the URL path/)
  bad({ postgres: { url: URL_ }, lease: '4s', heartbeat: '3s' }, /cluster\.heartbeat: expected at most half of cluster\.lease \(4s\)/)
  bad({ postgres: { url: URL_, ssl: 'verify-full' } }, /cluster\.postgres\.caFile: expected a CA file with ssl: verify-full/)
  bad({ postgres: { url: URL_ }, receivers: ['oncall'] }, /cluster\.receivers: expected an alerting section/)
  bad({ node: 'c 1', postgres: { url: URL_ } }, /cluster\.node: expected a node name/)
  bad({ postgres: { url: URL_ }, leader: true }, /cluster\.leader: unknown key/)
  t.throws(() => checkCollectorConfig(FILE, { alerting: { receivers: [{ name: 'oncall', email: ['o@example.jp'] }] }, cluster: { postgres: { url: URL_ }, receivers: ['boss'] } }, {}),
    { message: `${FILE}: cluster.receivers.0: expected one of the receivers (oncall), got "boss"` })
})

t.test('the password stays out of logs, the console URL and error messages', async t => {
  const c = checkCollectorConfig(FILE, { cluster: { postgres: { url: URL_ } } }, { KANSHI_PG_PASSWORD: 'p4ss-w0rd' })
  let out = ''
  const dest = new Writable({ write (chunk, _e, cb) { out += String(chunk); cb() } })
  const log = makeLogger('info', dest as never)
  log.info({ config: c }, 'loaded')
  log.info({ postgres: c.cluster!.postgres }, 'pg')
  log.flush()
  await new Promise(resolve => setTimeout(resolve, 50))
  t.match(out, /\[redacted\]/)
  t.notMatch(out, /p4ss-w0rd/, 'never logged')
  t.equal(redactUrl('postgres://kanshi:p4ss@db1:5432/kanshi'), 'postgres://kanshi@db1:5432/kanshi')
  t.notMatch(pgMessage(new Error('connect failed for postgres://kanshi:p4ss@db1/kanshi')), /p4ss/)
  t.match(pgMessage(new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string')), /passwordEnv/)
})

t.test('the collector-down mail: counts and names from its input, in both languages', async t => {
  const d = { node: 'c1', agents: 5, moved: { c3: ['db01'], c2: ['web01', 'web02'] }, lost: ['kiosk-01', 'kiosk-02'], lastSeen: Date.parse('2026-12-07T01:00:00Z') }
  const moved = Object.values(d.moved).flat().length
  const en = composeNodeDown(d, 'en', 'Asia/Tokyo')
  t.equal(en.subject, `[kanshi] collector c1 down; ${moved} agents moved to c2 (2), c3 (1); ${d.lost.length} not reconnected`)
  t.match(en.text, /last seen 07\/12\/2026, 10:00:00/, 'local time in Asia/Tokyo')
  t.match(en.text, /kiosk-01, kiosk-02/)
  const ja = composeNodeDown(d, 'ja', 'Asia/Tokyo')
  t.equal(ja.subject, `[kanshi] コレクタ c1 停止: エージェント ${moved} 台が c2 (2), c3 (1) へ移動、${d.lost.length} 台が未接続`)
  t.match(ja.html, /^<pre>/)
  // A node with no agents on record (none connected, or it never reached PostgreSQL): not "0 agents moved to —".
  const empty = { ...d, agents: 0, moved: {}, lost: [] }
  t.equal(composeNodeDown(empty, 'en', 'Asia/Tokyo').subject, '[kanshi] collector c1 down (no agents on record as connected to it)')
  t.equal(composeNodeDown(empty, 'ja', 'Asia/Tokyo').subject, '[kanshi] コレクタ c1 停止 (接続中のエージェントの記録なし)')
  t.notMatch(composeNodeDown(empty, 'en', 'Asia/Tokyo').text, /reconnected|moved/, 'no claim about moves')
  t.notMatch(composeNodeDown(empty, 'ja', 'Asia/Tokyo').text, /移動|未接続のエージェントはありません/)
})
