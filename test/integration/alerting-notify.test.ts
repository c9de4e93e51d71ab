// The alerting stage inside the real collector app, fed through its evaluator,
// with a real SMTP server: escalation, acknowledgement (token and signed link),
// maintenance windows, API roles and the audit chain.

import type { SqliteAlertStore } from '../../collector/alerting/store-sqlite.js'
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { createHash } from 'node:crypto'
import type { Collector } from '../../collector/app.js'
import { NullSink } from '../../collector/storage/null-sink.js'
import { startCollector } from '../helpers/collector.js'
import { withSmtp, type Smtp } from '../helpers/smtp.js'
import { waitFor } from '../helpers/procs.js'

const rulesDir = new URL('../fixtures/alert-rules/', import.meta.url).pathname
const TOK = { viewer: 'tok-viewer', operator: 'tok-operator', admin: 'tok-admin' }
const sha = (s: string) => createHash('sha256').update(s).digest('hex')

async function app (t: Test, smtp: Smtp, extra: Record<string, unknown> = {}): Promise<{ c: Collector, url: string }> {
  const { c, url } = await startCollector(t, {
    backend: new NullSink(),
    config: {
      api: { tokens: Object.entries(TOK).map(([role, tok]) => ({ name: `${role}-user`, tokenSha256: sha(tok), role })) },
      alerting: {
        rulesDir,
        smtp: { host: '127.0.0.1', port: smtp.port, from: 'kanshi@example.jp', timeout: '2s' },
        receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }, { name: 'managers', email: ['boss@example.jp'], locale: 'en' }],
        routes: [{ receiver: 'oncall' }],
        groupWait: '0s', groupInterval: '0s', repeatInterval: '1h',
        escalation: { after: '1500ms', receiver: 'managers' },
        publicUrl: 'http://127.0.0.1:1',
        ...extra
      }
    }
  })
  return { c, url }
}

async function breach (c: Collector, host: string, value = 95): Promise<void> {
  const a = c.alerting!
  const now = Date.now()
  await a.stage.apply(a.evaluator.observePoints([{ m: 'kiosk_app', t: now - 5000, tags: { host, role: 'kiosk', site: 's' }, f: { queue_length: value } }], now - 5000))
  await a.stage.apply(a.evaluator.tick(now))
}

const api = (url: string, path: string, token?: string, init: RequestInit = {}) =>
  fetch(url + path, { ...init, headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) } })

t.test('a critical alert nobody acknowledges is escalated', async t => {
  const smtp = await withSmtp(t)
  const { c } = await app(t, smtp)
  await breach(c, 'k1')
  await waitFor(() => smtp.mails.length >= 2, 15_000, 100)
  t.same(smtp.mails[0]!.to, ['oncall@example.jp'])
  t.same(smtp.mails[1]!.to, ['boss@example.jp'])
  t.match(smtp.mails[1]!.subject, /^\[CRITICAL\] \[ESCALATION: not acknowledged\] k1 queue length 95/, 'in the managers\' locale')
  // Each outbox row has its own fixed Message-ID (the same on a resend), from the store's scope.
  const scope = await c.alerting!.store.scope()
  const rows = (c.alerting!.store as SqliteAlertStore).db.db.prepare('SELECT id, subject FROM outbox WHERE sent_at IS NOT NULL ORDER BY id').all() as Array<{ id: number, subject: string }>
  t.same(smtp.mails.slice(0, 2).map(m => m.messageId), rows.slice(0, 2).map(r => `<outbox-${r.id}.${scope}@kanshi>`), 'Message-ID <outbox-<id>.<scope>@kanshi>')
})

t.test('acknowledging stops escalation; roles are enforced; the audit chain holds', async t => {
  const smtp = await withSmtp(t)
  const { c, url } = await app(t, smtp)
  await breach(c, 'k2')
  await waitFor(() => smtp.mails.length >= 1, 15_000, 100)
  const id = (await c.alerting!.store.firing())[0]!.id
  t.equal((await api(url, `/v1/alerts/${id}/ack`, TOK.viewer, { method: 'POST' })).status, 403, 'a viewer cannot ack')
  t.equal((await api(url, `/v1/alerts/${id}/ack`, undefined, { method: 'POST' })).status, 401)
  const r = await api(url, `/v1/alerts/${id}/ack`, TOK.operator, { method: 'POST' })
  t.equal(r.status, 200)
  const inc = await r.json() as { acked_by: string, acked_at: number }
  t.equal(inc.acked_by, 'operator-user (operator)')
  await new Promise(resolve => setTimeout(resolve, 3000))
  t.equal(smtp.mails.length, 1, 'no escalation after the ack')
  const audit = await (await api(url, '/v1/audit', TOK.admin)).json() as { brokenAt: number | null, entries: Array<{ action: string, actor: string }> }
  t.equal(audit.brokenAt, null, 'hash chain intact')
  t.equal(audit.entries[0]!.action, 'alert.ack')
  t.equal((await api(url, '/v1/audit', TOK.operator)).status, 403)
  const auditDb = new Database(c.audit.file)
  t.teardown(() => auditDb.close())
  t.throws(() => auditDb.prepare('UPDATE audit SET actor = ?').run('mallory'), /append-only/, 'the audit log cannot be edited')
})

t.test('the signed link in a mail acknowledges with a POST; GET only shows the button; a forged link fails', async t => {
  const smtp = await withSmtp(t)
  const { c, url } = await app(t, smtp)
  await breach(c, 'k3')
  await waitFor(() => smtp.mails.length >= 1, 15_000, 100)
  const link = /http:\/\/127\.0\.0\.1:1(\/v1\/alerts\/\d+\/ack\?exp=\d+&sig=[\w-]+)/.exec(smtp.mails[0]!.text)![1]!
  const page = await fetch(url + link)
  t.equal(page.status, 200)
  t.match(await page.text(), /<form method="post">/)
  t.equal((await c.alerting!.store.firing())[0]!.acked_at, null, 'GET changed nothing')
  t.equal((await fetch(url + link.replace(/sig=[\w-]+/, 'sig=forged'), { method: 'POST' })).status, 403)
  t.equal((await fetch(url + link, { method: 'POST' })).status, 200)
  t.equal((await c.alerting!.store.firing())[0]!.acked_by, 'mail link')
})

t.test('a maintenance window mutes the alert and is recorded on the incident', async t => {
  const smtp = await withSmtp(t)
  const { c, url } = await app(t, smtp)
  const body = JSON.stringify({ name: '月次パッチ適用', match: { host: 'k4' }, start: new Date(Date.now() - 60_000).toISOString(), end: new Date(Date.now() + 3_600_000).toISOString() })
  t.equal((await api(url, '/v1/maintenance', TOK.operator, { method: 'POST', body })).status, 403, 'maintenance needs admin')
  const r = await api(url, '/v1/maintenance', TOK.admin, { method: 'POST', body })
  t.equal(r.status, 201)
  const { id } = await r.json() as { id: number }
  await breach(c, 'k4')
  await breach(c, 'k5')
  await waitFor(() => smtp.mails.length >= 1, 15_000, 100)
  await new Promise(resolve => setTimeout(resolve, 2000))
  t.notOk(smtp.mails.some(m => m.subject.includes('k4')), `nothing about k4 is mailed: ${smtp.mails.map(m => m.subject).join(' | ')}`)
  t.match(smtp.mails[0]!.subject, /k5/, 'k5, outside the window, is')
  const incidents = await c.alerting!.store.firing()
  t.equal(incidents.find(i => i.host === 'k4')!.suppressed_by, `maintenance:${id}`)
  t.equal(incidents.find(i => i.host === 'k5')!.suppressed_by, null)
  const bad = await api(url, '/v1/silences', TOK.operator, { method: 'POST', body: JSON.stringify({ name: 'x', match: {}, start: 'soon', end: 'later' }) })
  t.equal(bad.status, 400, 'a malformed silence is refused')
})

t.test('dead-man\'s switch: a periodic alive mail', async t => {
  const smtp = await withSmtp(t)
  await app(t, smtp, { deadman: { interval: '1m', receiver: 'oncall' } })
  await waitFor(() => smtp.mails.length >= 1, 15_000, 100)
  t.match(smtp.mails[0]!.subject, /^\[kanshi\] 監視は稼働中です \(発生中のアラート 0 件\)$/)
  await new Promise(resolve => setTimeout(resolve, 2000))
  t.equal(smtp.mails.length, 1, 'once per interval, not per tick')
})

t.test('rules reload through the API keeps state; a broken rule file is refused and the old rules stay', async t => {
  const smtp = await withSmtp(t)
  const { c, url } = await app(t, smtp)
  await breach(c, 'k6')
  await waitFor(() => smtp.mails.length >= 1, 15_000, 100)
  t.equal((await api(url, '/v1/rules/reload', TOK.operator, { method: 'POST' })).status, 403)
  const r = await api(url, '/v1/rules/reload', TOK.admin, { method: 'POST' })
  t.same(await r.json(), { rules: 1 })
  t.equal((await c.alerting!.store.firing()).length, 1, 'the firing alert is still firing, and was not mailed again')
  await new Promise(resolve => setTimeout(resolve, 500))
  t.equal(smtp.mails.filter(m => m.subject.includes('k6') && !m.subject.includes('ESCALATION')).length, 1)
})

t.test('alert changes are written as `alert` points for Grafana annotations', async t => {
  const smtp = await withSmtp(t)
  const { c } = await app(t, smtp)
  await breach(c, 'k7')
  const a = c.alerting!
  await a.stage.apply(a.evaluator.observePoints([{ m: 'kiosk_app', t: Date.now(), tags: { host: 'k7', role: 'kiosk', site: 's' }, f: { queue_length: 10 } }], Date.now()))
  await c.wal.flushed()
  const { decodeEntry } = await import('../../collector/state/entry.js')
  const { Wal } = await import('../../collector/state/wal/index.js')
  const dir = c.wal.dir
  await c.shutdown()
  const points: Array<{ tags?: Record<string, string>, f: Record<string, unknown> }> = []
  const w = await Wal.open({ dir, readers: [], onRecover: d => { for (const p of decodeEntry(d).p) if (p.m === 'alert') points.push(p) } })
  await w.close()
  t.same(points.map(p => p.tags?.['state']), ['firing', 'resolved'])
  t.same(points[0]!.tags, { host: 'k7', role: 'kiosk', site: 's', rule: 'queue_high', severity: 'critical', state: 'firing' })
  t.equal(points[0]!.f['value'], 95)
  t.equal(points[0]!.f['threshold'], 90)
})

t.test('a silence created after an alert fired stops its escalation', async t => {
  const smtp = await withSmtp(t)
  const { c, url } = await app(t, smtp)
  await breach(c, 'k8')
  await waitFor(() => smtp.mails.length >= 1, 15_000, 100)
  const body = JSON.stringify({ name: '調査中', match: { host: 'k8', rule: 'queue_high' }, start: new Date(Date.now() - 1000).toISOString(), end: new Date(Date.now() + 600_000).toISOString() })
  t.equal((await api(url, '/v1/silences', TOK.operator, { method: 'POST', body })).status, 201)
  await new Promise(resolve => setTimeout(resolve, 3000))
  t.equal(smtp.mails.length, 1, 'no escalation while silenced')
})
