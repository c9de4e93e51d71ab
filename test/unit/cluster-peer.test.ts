// Peer calls between collectors: the signature (wrong key, wrong node, stale time, replay
// window), the reply's signature, the sweep's decision table for a silent peer, the advertised
// address, the peer config keys and the cut-off mails in both languages.

import t from 'tap'
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { PEER_HEADERS, PEER_WINDOW_MS, PeerKey } from '../../collector/cluster/peer-auth.js'
import { decide, type PeerFacts, type VerdictTimes } from '../../collector/cluster/peer-verdict.js'
import { peerUrl } from '../../collector/cluster/peer-probe.js'
import { advertiseUrl } from '../../collector/cluster/advertise.js'
import { composeCutOff, composeCutOffBack } from '../../collector/cluster/down-mail.js'
import { checkCollectorConfig } from '../../collector/config.js'

const T0 = Date.parse('2026-12-07T03:00:00Z')

t.test('peer auth: a member signs, the addressed node verifies once; every other case is refused', async t => {
  const secret = randomBytes(32)
  const c2 = new PeerKey(secret)
  const c1 = new PeerKey(Buffer.from(secret))
  const h = c1.sign('c1', 'c2', T0)
  t.equal(c2.verify(h, 'c2', T0 + 1000), undefined, 'accepted')
  t.equal(c2.verify(h, 'c2', T0 + 1000), 'replay', 'the same request again is a replay')
  t.equal(new PeerKey(randomBytes(32)).verify(c1.sign('c1', 'c2', T0), 'c2', T0), 'bad_signature', 'another cluster\'s key')
  t.equal(new PeerKey(undefined).verify(c1.sign('c1', 'c2', T0), 'c2', T0), 'no_secret', 'a node without the secret refuses')
  t.equal(c2.verify(c1.sign('c1', 'c3', T0), 'c2', T0), 'wrong_node', 'a request for c3 replayed to c2')
  t.equal(c2.verify(c1.sign('c1', 'c2', T0 - PEER_WINDOW_MS - 1), 'c2', T0), 'stale', 'older than the window')
  t.equal(c2.verify(c1.sign('c1', 'c2', T0 + PEER_WINDOW_MS + 1), 'c2', T0), 'stale', 'from the future beyond the window')
  t.equal(c2.verify(c1.sign('c1', 'c2', T0 - PEER_WINDOW_MS), 'c2', T0), undefined, 'at the edge of the window: accepted')
  // Tampering with any signed field breaks the signature.
  for (const k of [PEER_HEADERS.from, PEER_HEADERS.to, PEER_HEADERS.time, PEER_HEADERS.nonce]) {
    const x = c1.sign('c1', 'c2', T0)
    const v = x[k]!
    x[k] = k === PEER_HEADERS.time ? String(Number(v) + 1) : k === PEER_HEADERS.nonce ? v.replace(/^./, c => c === 'a' ? 'b' : 'a') : v + 'x'
    t.equal(c2.verify(x, 'c2', T0), 'bad_signature', `${k} changed: refused`)
  }
  const noSig = c1.sign('c1', 'c2', T0)
  delete noSig[PEER_HEADERS.sig]
  t.equal(c2.verify(noSig, 'c2', T0), 'missing')
  const sig = c1.sign('c1', 'c2', T0)
  t.equal(c2.verify({ ...sig, [PEER_HEADERS.sig]: sig[PEER_HEADERS.sig]!.slice(0, 10) }, 'c2', T0), 'bad_signature', 'a short signature (constant-time compare of unequal lengths)')
  // A replay after the nonce left the window is stale anyway: the window bounds the memory.
  const old = c1.sign('c1', 'c2', T0)
  t.equal(c2.verify(old, 'c2', T0 + 10), undefined)
  t.equal(c2.verify(old, 'c2', T0 + 2 * PEER_WINDOW_MS + 1), 'stale', 'replayed after the window: stale')

  const body = JSON.stringify({ node: 'c2', pgUp: false, agents: [] })
  const nonce = h[PEER_HEADERS.nonce]!
  const rs = c2.signReply(nonce, body)
  t.ok(c1.verifyReply(nonce, body, rs), 'the reply verifies')
  t.notOk(c1.verifyReply(nonce, body.replace('false', 'true'), rs), 'a changed reply does not')
  t.notOk(c1.verifyReply('0'.repeat(32), body, rs), 'a reply to another request does not')
  t.notOk(new PeerKey(randomBytes(32)).verifyReply(nonce, body, rs), 'nor under another key')
  t.notOk(c1.verifyReply(nonce, body, undefined), 'nor an unsigned one')
})

t.test('the sweep\'s decision table for a peer', async t => {
  const times: VerdictTimes = { leaseMs: 15_000, heartbeatMs: 5000, peerTimeoutMs: 2000, failuresForDown: 2 }
  const now = T0
  const base: PeerFacts = { node: 'c2', live: false, stopped: false, ageMs: 16_000, open: undefined, judge: true, probe: undefined }
  const answered = (pgUp: boolean, ago = 1000, node = 'c2'): PeerFacts['probe'] => ({ kind: 'answered', at: now - ago, node, pgUp })
  const failed = (failures: number, ago = 1000, streakMs = 0): PeerFacts['probe'] => ({ kind: 'failed', at: now - ago, failures, since: now - ago - streakMs })
  const giveUp = times.leaseMs + times.failuresForDown * (times.peerTimeoutMs + times.heartbeatMs) + times.heartbeatMs
  const rows: Array<[string, Partial<PeerFacts>, string]> = [
    ['beats, nothing open', { live: true }, 'none'],
    ['beats again after down', { live: true, open: 'down' }, 'back'],
    ['beats again after cut off', { live: true, open: 'cut_off' }, 'cut_off_back'],
    ['stopped gracefully', { stopped: true }, 'none'],
    ['stopped gracefully while cut off (it wrote, so it reached PostgreSQL)', { stopped: true, open: 'cut_off' }, 'cut_off_back'],
    ['silent, not yet settled (after an outage)', { judge: false, probe: failed(5) }, 'none'],
    ['silent, not asked yet', {}, 'wait'],
    ['silent, one failed probe', { probe: failed(1) }, 'wait'],
    ['silent, two failed probes: dead', { probe: failed(2) }, 'down'],
    ['silent, failures too old to count', { probe: failed(3, times.leaseMs + 1) }, 'wait'],
    ['silent, answers as itself without PostgreSQL: cut off', { probe: answered(false) }, 'cut_off'],
    ['silent, an old answer does not count', { probe: answered(false, times.leaseMs + 1) }, 'wait'],
    ['silent, another node answers at its address', { probe: answered(false, 1000, 'c9') }, 'wait'],
    ['… and past the bound: down', { probe: answered(false, 1000, 'c9'), ageMs: giveUp + 1 }, 'down'],
    ['silent, answers that it reaches PostgreSQL (row and answer disagree)', { probe: answered(true) }, 'wait'],
    ['silent, no conclusive probe past the bound: down as before', { ageMs: giveUp + 1 }, 'down'],
    ['down already: nothing more', { open: 'down', probe: failed(9) }, 'none'],
    ['cut off and still answering', { open: 'cut_off', probe: answered(false) }, 'none'],
    ['cut off, one failed probe', { open: 'cut_off', probe: failed(1) }, 'none'],
    ['cut off, then no answer twice within a lease: not yet', { open: 'cut_off', probe: failed(2, 0, times.leaseMs - 1) }, 'none'],
    ['cut off, then no answer for a lease: down', { open: 'cut_off', probe: failed(2, 0, times.leaseMs) }, 'cut_off_down'],
    ['cut off, one failure however long ago it began', { open: 'cut_off', probe: failed(1, 0, times.leaseMs * 2) }, 'none'],
    ['cut off, long silent, answering: never down by age', { open: 'cut_off', ageMs: 3_600_000, probe: answered(false) }, 'none']
  ]
  for (const [name, f, want] of rows) t.equal(decide({ ...base, ...f }, times, now), want, name)
})

t.test('the advertised address and the probe URL', async t => {
  t.equal(advertiseUrl(undefined, false, { address: '127.0.0.1', port: 8080 }, { host: '127.0.0.1', port: 0 }), 'http://127.0.0.1:8080')
  t.equal(advertiseUrl(undefined, true, { address: '0.0.0.0', port: 8443 }, { host: '0.0.0.0', port: 8443 }), `https://${hostname()}:8443`, 'a wildcard becomes the host name')
  t.equal(advertiseUrl(undefined, false, { address: '::1', port: 80 }, { host: '::1', port: 80 }), 'http://[::1]:80')
  t.equal(advertiseUrl('https://c1.example.jp:8443/', true, { address: '0.0.0.0', port: 8443 }, { host: '0.0.0.0', port: 8443 }), 'https://c1.example.jp:8443')
  t.equal(peerUrl('http://10.0.0.2:8080')?.toString(), 'http://10.0.0.2:8080/api/v1/cluster/peer')
  t.equal(peerUrl('10.0.0.2:8080')?.toString(), 'http://10.0.0.2:8080/api/v1/cluster/peer', 'host:port as older versions wrote it')
  t.equal(peerUrl('0.0.0.0:8080'), undefined, 'a wildcard cannot be called')
  t.equal(peerUrl('http://[::]:8080'), undefined)
})

t.test('config: cluster.advertise and cluster.peerTimeout', async t => {
  const c = (cluster: Record<string, unknown>): ReturnType<typeof checkCollectorConfig>['cluster'] => checkCollectorConfig('/c.yaml', { cluster: { postgres: { url: 'postgres://k@db/k' }, ...cluster } }, {}).cluster
  t.same([c({})!.peerTimeout, c({})!.advertise], [2000, undefined], 'defaults: 2 s, from listen')
  t.equal(c({ lease: '1s', heartbeat: '500ms' })!.peerTimeout, 1000, 'never more than the lease')
  t.equal(c({ peerTimeout: '500ms', advertise: 'https://c1:8443' })!.peerTimeout, 500)
  t.throws(() => c({ peerTimeout: '20s' }), { message: '/c.yaml: cluster.peerTimeout: expected at most cluster.lease (15s)' })
  t.throws(() => c({ advertise: 'c1:8443' }), { message: /^\/c\.yaml: cluster\.advertise: / })
})

t.test('the cut-off mail and its resolved mail, in both languages', async t => {
  const agents = ['web01', 'web02', 'db01'].sort()
  const d = { node: 'c2', agents, lastSeen: T0, pgError: 'Query read timeout', degraded: true, degradedSince: T0 + 60_000 }
  const en = composeCutOff(d, 'en', 'Asia/Tokyo')
  t.equal(en.subject, `[kanshi] collector c2 cannot reach PostgreSQL; ${agents.length} agents still report through it; its alerts run in 縮退運転 (degraded mode) there`)
  t.match(en.text, `${agents.length} agents stay connected to c2 and keep sending (stored in its WAL and InfluxDB): ${agents.join(', ')}`)
  t.match(en.text, 'Query read timeout')
  t.match(en.text, /not judged down/)
  t.notMatch(en.subject, /\bdown\b/, 'the subject does not say down')
  const ja = composeCutOff({ ...d, degraded: false, degradedSince: null, pgError: null }, 'ja', 'Asia/Tokyo')
  t.equal(ja.subject, `[kanshi] コレクタ c2 が PostgreSQL に接続不可: エージェント ${agents.length} 台は c2 経由で収集継続 (縮退運転)`)
  t.match(ja.text, /cluster\.degradedAfter を過ぎると縮退運転/)
  t.notMatch(ja.text, /報告するエラー/, 'no error line when none was reported')
  t.match(ja.html, /^<pre>/)
  const back = composeCutOffBack('c2', T0, T0 + 7 * 60_000, 'en', 'Asia/Tokyo')
  t.equal(back.subject, '[kanshi] [RESOLVED] collector c2 is back in PostgreSQL')
  t.match(back.text, /about 7 min/)
  t.equal(composeCutOffBack('c2', T0, T0 + 7 * 60_000, 'ja', 'Asia/Tokyo').subject, '[kanshi] [復旧] コレクタ c2 が PostgreSQL に復帰しました')
})
