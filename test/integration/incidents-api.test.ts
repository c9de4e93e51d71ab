// Incidents as 障害 in the real collector app: alerts on one business system merge within the
// window (not across systems, not beyond it), operators merge and split, edit the write-up
// (audited with before/after, roles enforced, bad bodies named) and publish notices to users,
// which the public status page shows — and nothing else.

import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import type { Collector } from '../../collector/app.js'
import { NullSink } from '../../collector/storage/null-sink.js'
import { checkCollectorConfig } from '../../collector/config.js'
import { startCollector } from '../helpers/collector.js'
import { withSmtp } from '../helpers/smtp.js'
import { tmpDir } from '../helpers/tmp.js'
import { copyFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const rulesDir = new URL('../fixtures/alert-rules/', import.meta.url).pathname
const TOK = { viewer: 'tok-viewer', operator: 'tok-operator' }
const sha = (s: string): string => createHash('sha256').update(s).digest('hex')
const MIN = 60_000
const SYSTEMS = [{ name: '共通基盤', hosts: ['web01', 'web02', 'web03'] }, { name: '市税', hosts: ['tax01'] }]

async function app (t: Test, clock: { now: number }, extra: Record<string, unknown> = {}, smtpPort = 1, rules = rulesDir): Promise<{ c: Collector, url: string }> {
  const { c, url } = await startCollector(t, {
    backend: new NullSink(),
    build: { now: () => clock.now },
    config: {
      api: { tokens: Object.entries(TOK).map(([role, tok]) => ({ name: `${role}-user`, tokenSha256: sha(tok), role })) },
      systems: SYSTEMS,
      alerting: {
        rulesDir: rules,
        smtp: { host: '127.0.0.1', port: smtpPort, from: 'kanshi@example.jp', timeout: '2s' },
        receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }],
        routes: [{ receiver: 'oncall' }],
        groupWait: '0s', groupInterval: '0s', repeatInterval: '1h',
        publicUrl: 'https://kanshi.example.jp',
        incidents: { mergeWindow: '10m' }
      },
      ...extra
    }
  })
  return { c, url }
}

/** breach makes the rule fire for host with its detection (the breach's start) at `at`. */
async function breach (c: Collector, host: string, at: number): Promise<number> {
  const a = c.alerting!
  await a.stage.apply(a.evaluator.observePoints([{ m: 'kiosk_app', t: at, tags: { host, role: 'server', site: 's' }, f: { queue_length: 95 } }], at))
  await a.stage.apply(a.evaluator.tick(at + 3000))
  const inc = (await a.store.firing()).find(i => i.host === host)
  if (inc === undefined) throw new Error(`no incident for ${host}`)
  return inc.id
}

async function recover (c: Collector, host: string, at: number): Promise<void> {
  const a = c.alerting!
  await a.stage.apply(a.evaluator.observePoints([{ m: 'kiosk_app', t: at, tags: { host, role: 'server', site: 's' }, f: { queue_length: 10 } }], at))
  await a.stage.apply(a.evaluator.tick(at + 1000))
}

const call = async (url: string, path: string, token: string | undefined, method = 'GET', body?: unknown): Promise<{ status: number, json: any }> => {
  const res = await fetch(url + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  const text = await res.text()
  let json: unknown
  try { json = JSON.parse(text) } catch { json = text }
  return { status: res.status, json }
}

t.test('alerts on one system within the window are one 障害; other systems and later alerts are not', async t => {
  const T0 = Date.now() - 3 * 3_600_000
  const clock = { now: T0 }
  const { c, url } = await app(t, clock)
  const a = await breach(c, 'web01', T0)
  const b = await breach(c, 'web02', T0 + 5 * MIN) // same system, 5 min later: joins a
  const x = await breach(c, 'tax01', T0 + 6 * MIN) // another system: its own 障害
  const d = await breach(c, 'web03', T0 + 11 * MIN) // same system, beyond 10 min: its own 障害
  const book = c.alerting!.store.book
  t.same((await book.get(a))!.systems, ['共通基盤'], 'the system is recorded when the alert opens')
  t.equal((await book.get(a))!.merged_into, null)
  t.equal((await book.get(b))!.merged_into, a, 'web02 5 min after web01 joins it')
  t.equal((await book.get(x))!.merged_into, null, 'tax01 is another system')
  t.same((await book.get(x))!.systems, ['市税'])
  t.equal((await book.get(d))!.merged_into, null, '11 min after the first detection is beyond the window')

  const g = await call(url, `/v1/incidents/${b}`, TOK.viewer)
  t.equal(g.status, 200)
  t.equal(g.json.primary, a, 'a member reads as its 障害')
  t.same(g.json.members.map((m: { id: number }) => m.id), [b])
  t.same(g.json.folded.hosts, ['web01', 'web02'])
  t.equal(g.json.folded.detected_at, T0)
  await recover(c, 'web01', T0 + 20 * MIN)
  t.equal((await call(url, `/v1/incidents/${a}`, TOK.viewer)).json.folded.resolved_at, null, 'open while a member is open')
  await recover(c, 'web02', T0 + 30 * MIN)
  t.equal((await call(url, `/v1/incidents/${a}`, TOK.viewer)).json.folded.resolved_at, T0 + 30 * MIN, 'resolved at the latest member recovery')

  // By hand: tax01's alert joins a, then is split off again.
  t.equal((await call(url, `/v1/incidents/${x}/merge`, TOK.viewer, 'POST', { into: a })).status, 403, 'a viewer cannot merge')
  t.equal((await call(url, `/v1/incidents/${x}/merge`, TOK.operator, 'POST', { into: 9999 })).status, 404)
  t.equal((await call(url, `/v1/incidents/${a}/merge`, TOK.operator, 'POST', { into: b })).status, 400, 'a 障害 cannot join itself')
  const m = await call(url, `/v1/incidents/${x}/merge`, TOK.operator, 'POST', { into: b })
  t.equal(m.status, 200)
  t.equal(m.json.primary, a, 'merging into a member joins its primary')
  t.same(m.json.incident.systems, ['共通基盤', '市税'], 'the 障害 now spans both systems')
  t.same(m.json.members.map((i: { id: number }) => i.id).sort(), [b, x].sort())
  t.equal((await call(url, `/v1/incidents/${a}/split`, TOK.operator, 'POST')).status, 400, 'a primary has nothing to split from')
  const s = await call(url, `/v1/incidents/${x}/split`, TOK.operator, 'POST')
  t.equal(s.status, 200)
  t.equal(s.json.primary, x)
  t.equal((await book.get(x))!.merged_into, null)
  t.same((await book.get(x))!.systems, ['市税'], 'split off, tax01 keeps its own system')
  const actions = c.audit.about('incident', x).map(e => e.action)
  t.same(actions, ['incident.merge', 'incident.split'], 'both audited')
  t.equal(c.audit.verify().broken, undefined, 'the audit chain verifies')
})

t.test('an alert muted because its parent is down joins the parent\'s 障害; a log rule keeps the lines it matched', async t => {
  const dir = await tmpDir(t)
  await copyFile(join(rulesDir, 'test.yaml'), join(dir, 'test.yaml'))
  await writeFile(join(dir, 'more.yaml'), [
    '- { name: host_down, type: heartbeat, for: 2s, severity: critical }',
    "- { name: app_errors, type: log, level: [error], match: 'ORA-', count: 25, window: 5m, severity: warning }"
  ].join('\n'))
  const T0 = Date.now() - 3_600_000
  const { c } = await app(t, { now: T0 }, {}, 1, dir)
  const a = c.alerting!
  // sw01 (in no system) goes down; web01 (共通基盤) and tax01 (市税) hang on it.
  await a.stage.apply(a.evaluator.observePoints([{ m: 'host_up', t: T0, tags: { host: 'sw01', role: 'device', site: 's' }, f: { up: 0 } }], T0))
  await a.stage.apply(a.evaluator.tick(T0 + 3000))
  const sw = (await a.store.firing()).find(i => i.host === 'sw01')!
  t.equal(sw.suppressed_by, null, 'the parent itself is not muted')
  const kid = async (host: string, at: number): Promise<number> => {
    await a.stage.apply(a.evaluator.observePoints([{ m: 'kiosk_app', t: at, tags: { host, role: 'server', site: 's', parent: 'sw01' }, f: { queue_length: 95 } }], at))
    await a.stage.apply(a.evaluator.tick(at + 3000))
    return (await a.store.firing()).find(i => i.host === host)!.id
  }
  const w = await kid('web01', T0 + 2 * MIN)
  const x = await kid('tax01', T0 + 30 * MIN) // beyond mergeWindow: the parent is still down, so it is still its 障害
  const book = a.store.book
  for (const [id, host] of [[w, 'web01'], [x, 'tax01']] as const) {
    const inc = (await book.get(id))!
    t.equal(inc.suppressed_by, 'parent:sw01', `${host} is muted by its parent`)
    t.equal(inc.merged_into, sw.id, `${host} joins sw01's 障害`)
  }
  t.same((await book.get(sw.id))!.systems, ['共通基盤', '市税'], 'the 障害 spans the systems behind the switch')

  // A log rule: 25 matching lines of 600 characters; the incident keeps the first 20, 500 characters each; the mail quotes 5.
  const msgs = Array.from({ length: 25 }, (_, i) => `ORA-${String(i).padStart(5, '0')} ` + 'x'.repeat(600))
  const t1 = T0 + 40 * MIN
  await a.stage.apply(a.evaluator.observeEvents(msgs.map((message, i) => ({ t: t1 + i, source: '/var/log/app.log', level: 'error', message, tags: { host: 'db09', role: 'server', site: 's' } })), t1 + 30))
  const logInc = (await a.store.firing()).find(i => i.rule === 'app_errors')!
  t.same(logInc.matched_lines, msgs.slice(0, 20).map(m => m.slice(0, 500)), 'the first 20 lines, 500 characters each')
  t.equal(a.stage.lines.get(logInc.id)?.length, 5, 'the mail quotes the first 5')
})

t.test('mergeWindow 0 turns merging off; the default is 10 minutes', async t => {
  const T0 = Date.now() - 3_600_000
  const { c } = await startCollector(t, {
    backend: new NullSink(),
    config: { systems: SYSTEMS, alerting: { rulesDir, smtp: { host: '127.0.0.1', port: 1 }, incidents: { mergeWindow: 0 } } }
  })
  const a = await breach(c, 'web01', T0)
  const b = await breach(c, 'web02', T0 + MIN)
  t.equal((await c.alerting!.store.book.get(b))!.merged_into, null, `web02 stays apart from ${a}`)
  t.equal(checkCollectorConfig('x.yaml', { alerting: {} }).alerting!.incidents.mergeWindow, 10 * MIN)
})

t.test('PATCH edits the write-up: roles, 404, bad bodies named, audited with before/after', async t => {
  const T0 = Date.now() - 2 * 3_600_000
  const clock = { now: T0 }
  const { c, url } = await app(t, clock)
  const id = await breach(c, 'web01', T0)
  const member = await breach(c, 'web02', T0 + MIN)
  const edit = { cause: '共有ストレージのコントローラ故障', impact: { systems: ['共通基盤'], users: '窓口職員 40 名', description: '住民票発行が 45 分停止' }, actions: 'コントローラ交換', prevention: '予備部品を常備する', confirmedRecoveryAt: '2026-12-01T10:45:00+09:00', serviceAffecting: true, major: true, exempt: null }
  t.equal((await call(url, `/v1/incidents/${id}`, TOK.viewer, 'PATCH', edit)).status, 403, 'a viewer cannot edit')
  t.equal((await call(url, `/v1/incidents/${id}`, undefined, 'PATCH', edit)).status, 401)
  t.equal((await call(url, '/v1/incidents/424242', TOK.operator, 'PATCH', edit)).status, 404)
  const bad = await call(url, `/v1/incidents/${id}`, TOK.operator, 'PATCH', { confirmedRecoveryAt: 12 })
  t.equal(bad.status, 400)
  t.match(bad.json.message, /body\.confirmedRecoveryAt: expected an ISO 8601 time/)
  const badTime = await call(url, `/v1/incidents/${id}`, TOK.operator, 'PATCH', { confirmedRecoveryAt: 'yesterday' })
  t.equal(badTime.status, 400)
  t.match(badTime.json.message, /body\.confirmedRecoveryAt/)
  const extra = await call(url, `/v1/incidents/${id}`, TOK.operator, 'PATCH', { cuase: 'typo' })
  t.equal(extra.status, 400)
  t.match(extra.json.message, /body\.cuase/, 'an unknown field is named')
  const empty = await call(url, `/v1/incidents/${id}`, TOK.operator, 'PATCH', {})
  t.equal(empty.status, 400)
  t.match(empty.json.message, /^body: expected an object with some of cause, impact, actions/)
  t.equal((await call(url, `/v1/incidents/${id}/report.html`, TOK.viewer)).status, 200, 'the report downloads (no InfluxDB: no charts)')
  t.equal((await call(url, '/v1/incidents/999/report.html', TOK.viewer)).status, 404, 'an unknown incident has no report, and the queue moves on')
  t.equal((await call(url, `/v1/incidents/${id}/report.xlsx`, TOK.viewer)).status, 200)
  const badExempt = await call(url, `/v1/incidents/${id}`, TOK.operator, 'PATCH', { exempt: { category: 'power' } })
  t.equal(badExempt.status, 400)
  t.match(badExempt.json.message, /body\.exempt/)
  t.equal((await call(url, `/v1/incidents/${member}`, TOK.operator, 'PATCH', edit)).status, 400, 'a member is edited through its primary')

  clock.now = T0 + 30 * MIN
  const ok = await call(url, `/v1/incidents/${id}`, TOK.operator, 'PATCH', edit)
  t.equal(ok.status, 200)
  const inc = (await c.alerting!.store.book.get(id))!
  t.equal(inc.cause_text, edit.cause)
  t.equal(inc.affected_users, edit.impact.users)
  t.equal(inc.impact, edit.impact.description)
  t.equal(inc.confirmed_recovery_at, Date.parse(edit.confirmedRecoveryAt))
  t.equal(inc.service_affecting, 1)
  t.equal(inc.major_override, 1)

  clock.now = T0 + 40 * MIN
  const second = await call(url, `/v1/incidents/${id}`, TOK.operator, 'PATCH', { exempt: { category: '外部要因', reason: '電力会社の停電' }, major: null })
  t.equal(second.status, 200)
  const hist = second.json.history as Array<{ at: number, actor: string, action: string, detail: { before: Record<string, unknown>, after: Record<string, unknown> } }>
  t.equal(hist.length, 2, 'two edits, two audit records')
  t.equal(hist[0]!.actor, 'operator-user (operator)')
  t.equal(hist[0]!.at, T0 + 30 * MIN)
  t.same(hist[0]!.detail.before, { cause_text: '', impact: '', affected_users: '', actions: '', prevention: '', confirmed_recovery_at: null, service_affecting: null, major_override: null }, 'before: the blank write-up (exempt null → null is not a change)')
  t.equal(hist[0]!.detail.after['cause_text'], edit.cause)
  t.same(hist[1]!.detail.before, { major_override: 1, exempt_category: null, exempt_reason: null })
  t.same(hist[1]!.detail.after, { major_override: null, exempt_category: '外部要因', exempt_reason: '電力会社の停電' })
  const cleared = await call(url, `/v1/incidents/${id}`, TOK.operator, 'PATCH', { exempt: null })
  t.equal(cleared.json.incident.exempt_category, null, 'null clears the exemption')

  // Severity override: both alerts are critical; the operator judges the 障害 a warning, then gives the judgement back.
  t.equal(cleared.json.folded.severity, 'critical', 'by default the highest severity of its alerts')
  const badSev = await call(url, `/v1/incidents/${id}`, TOK.operator, 'PATCH', { severity: 'major' })
  t.equal(badSev.status, 400)
  t.match(badSev.json.message, /body\.severity: expected critical, warning, info, or null/)
  t.equal((await call(url, `/v1/incidents/${id}`, TOK.viewer, 'PATCH', { severity: 'info' })).status, 403, 'a viewer cannot set the severity')
  clock.now = T0 + 50 * MIN
  const sev = await call(url, `/v1/incidents/${id}`, TOK.operator, 'PATCH', { severity: 'warning' })
  t.equal(sev.status, 200)
  t.equal(sev.json.folded.severity, 'warning', 'the override is the 障害 severity')
  t.equal(sev.json.incident.severity, 'critical', 'the alert keeps the severity it fired with')
  const sevEdit = sev.json.history.at(-1) as { at: number, action: string, detail: { before: unknown, after: unknown } }
  t.same([sevEdit.action, sevEdit.at, sevEdit.detail.before, sevEdit.detail.after], ['incident.edit', T0 + 50 * MIN, { severity_override: null }, { severity_override: 'warning' }], 'audited before/after')
  const back = await call(url, `/v1/incidents/${id}`, TOK.operator, 'PATCH', { severity: null })
  t.equal(back.json.folded.severity, 'critical', 'null gives the judgement back to the alerts')
  t.equal(c.audit.verify().broken, undefined, 'the audit chain verifies')
})

t.test('notices at 10 and 20 minutes; /status shows only them; off by default is a 404', async t => {
  const T0 = Date.now() - 2 * 3_600_000
  const clock = { now: T0 }
  const { c, url } = await app(t, clock, { status: { enabled: true, title: '市役所システム稼働状況' } })
  const id = await breach(c, 'web01', T0)
  await breach(c, 'web02', T0 + MIN)
  await call(url, `/v1/incidents/${id}`, TOK.operator, 'PATCH', { cause: 'SECRET-CAUSE-TEXT', actions: 'SECRET-ACTIONS' })
  const empty = await fetch(`${url}/status`)
  t.equal(empty.status, 200)
  t.match(await empty.text(), /現在、お知らせはありません。/, 'no notice yet: nothing to show')

  t.equal((await call(url, `/v1/incidents/${id}/notices`, TOK.viewer, 'POST', { message: 'x' })).status, 403)
  t.equal((await call(url, '/v1/incidents/777/notices', TOK.operator, 'POST', { message: 'x' })).status, 404)
  const badNotice = await call(url, `/v1/incidents/${id}/notices`, TOK.operator, 'POST', { message: '' })
  t.equal(badNotice.status, 400)
  t.match(badNotice.json.message, /body\.message/)
  clock.now = T0 + 10 * MIN
  const first = await call(url, `/v1/incidents/${id}/notices`, TOK.operator, 'POST', { message: '住民票の発行ができない状態です。', expectedRecoveryAt: new Date(T0 + 60 * MIN).toISOString() })
  t.equal(first.status, 201)
  t.equal(first.json.userNoticeAt, T0 + 10 * MIN)
  clock.now = T0 + 20 * MIN
  const second = await call(url, `/v1/incidents/${id}/notices`, TOK.operator, 'POST', { message: '復旧作業中です。<script>alert(1)</script>' })
  t.equal(second.status, 201)
  t.equal(second.json.userNoticeAt, T0 + 10 * MIN, 'user_notice_at stays the first notice')
  t.equal((await c.alerting!.store.book.get(id))!.user_notice_at, T0 + 10 * MIN)

  const res = await fetch(`${url}/status`)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-security-policy'), /default-src 'none'/)
  t.notMatch(res.headers.get('content-security-policy'), /script-src/, 'no script may run')
  t.equal(res.headers.get('x-frame-options'), 'DENY')
  const html = await res.text()
  t.match(html, /市役所システム稼働状況/)
  t.match(html, /住民票の発行ができない状態です。/)
  t.match(html, /復旧作業中です。&lt;script&gt;/, 'escaped')
  t.notMatch(html, /<script/i)
  t.match(html, /共通基盤/)
  t.match(html, /対応中/)
  for (const secret of ['web01', 'web02', 'queue_high', '待ち人数', 'SECRET-CAUSE-TEXT', 'SECRET-ACTIONS', 'operator-user']) t.notOk(html.includes(secret), `the page does not show ${secret}`)
  t.match(await (await fetch(`${url}/status?lang=en`)).text(), /Ongoing/)

  const j = await (await fetch(`${url}/status.json`)).json() as { incidents: Array<{ systems: string[], resolved: boolean, notices: Array<{ message: string, publishedAt: string, expectedRecoveryAt: string | null }> }> }
  t.equal(j.incidents.length, 1)
  t.same(j.incidents[0]!.systems, ['共通基盤'])
  t.same(j.incidents[0]!.notices.map(n => n.publishedAt), [new Date(T0 + 20 * MIN).toISOString(), new Date(T0 + 10 * MIN).toISOString()], 'newest first')
  t.equal(j.incidents[0]!.notices[1]!.expectedRecoveryAt, new Date(T0 + 60 * MIN).toISOString())
  const raw = JSON.stringify(j)
  for (const secret of ['web01', 'queue_high', 'SECRET-CAUSE-TEXT', 'operator']) t.notOk(raw.includes(secret), `the feed does not show ${secret}`)

  // Correcting the first notice: the page shows the new text and when it was corrected; the 告知 time stays.
  const n1 = first.json.id as number
  const n2 = second.json.id as number
  const noticePath = `/v1/incidents/${id}/notices/${n1}`
  t.equal((await call(url, noticePath, TOK.viewer, 'PATCH', { message: 'x' })).status, 403, 'a viewer cannot correct')
  t.equal((await call(url, noticePath, TOK.viewer, 'DELETE')).status, 403, 'a viewer cannot withdraw')
  t.equal((await call(url, `/v1/incidents/${id}/notices/9999`, TOK.operator, 'PATCH', { message: 'x' })).status, 404)
  const badFix = await call(url, noticePath, TOK.operator, 'PATCH', { expectedRecoveryAt: 'soon' })
  t.equal(badFix.status, 400)
  t.match(badFix.json.message, /body\.expectedRecoveryAt/)
  clock.now = T0 + 25 * MIN
  const fixedAt = new Date(T0 + 90 * MIN).toISOString()
  const fix = await call(url, noticePath, TOK.operator, 'PATCH', { message: '住民票・印鑑証明の発行ができない状態です。', expectedRecoveryAt: fixedAt })
  t.equal(fix.status, 200)
  t.equal(fix.json.notice.published_at, T0 + 10 * MIN, 'published_at is the 告知 time and stays')
  t.equal(fix.json.notice.corrected_at, T0 + 25 * MIN)
  const fixed = await (await fetch(`${url}/status.json`)).json() as { incidents: Array<{ notices: Array<{ message: string, expectedRecoveryAt: string | null, correctedAt: string | null }> }> }
  t.same(fixed.incidents[0]!.notices.map(n => [n.message, n.expectedRecoveryAt, n.correctedAt]), [
    ['復旧作業中です。<script>alert(1)</script>', null, null],
    ['住民票・印鑑証明の発行ができない状態です。', fixedAt, new Date(T0 + 25 * MIN).toISOString()]
  ], 'the feed shows the correction')
  const fixedHtml = await (await fetch(`${url}/status`)).text()
  t.match(fixedHtml, /<dt>訂正<\/dt>/, 'the page says it was corrected')
  t.notMatch(fixedHtml, /住民票の発行ができない状態です。/, 'the old text is gone from the page')
  const fixAudit = c.audit.about('incident', id).find(e => e.action === 'incident.notice.edit')!
  t.same((fixAudit.detail as { before: unknown }).before, { message: '住民票の発行ができない状態です。', expected_recovery_at: T0 + 60 * MIN }, 'the audit keeps what it said')
  t.same((fixAudit.detail as { after: unknown }).after, { message: '住民票・印鑑証明の発行ができない状態です。', expected_recovery_at: T0 + 90 * MIN })

  // Withdrawing it: gone from the page and the feed, no longer the 告知, kept in the audit log.
  clock.now = T0 + 30 * MIN
  const wd = await call(url, noticePath, TOK.operator, 'DELETE')
  t.equal(wd.status, 200)
  t.equal(wd.json.userNoticeAt, T0 + 20 * MIN, 'the remaining notice (20 min) is now the 告知')
  t.equal((await c.alerting!.store.book.get(id))!.user_notice_at, T0 + 20 * MIN)
  t.equal((await call(url, noticePath, TOK.operator, 'DELETE')).status, 404, 'withdrawn once')
  t.match((await call(url, noticePath, TOK.operator, 'PATCH', { message: 'y' })).json.message, /was withdrawn/, 'a withdrawn notice cannot be corrected')
  const gone = await (await fetch(`${url}/status.json`)).json() as { incidents: Array<{ notices: Array<{ message: string }> }> }
  t.same(gone.incidents[0]!.notices.map(n => n.message), ['復旧作業中です。<script>alert(1)</script>'])
  t.notMatch(await (await fetch(`${url}/status`)).text(), /印鑑証明/)
  const wdAudit = c.audit.about('incident', id).find(e => e.action === 'incident.notice.withdraw')!
  t.same([wdAudit.actor, (wdAudit.detail as { notice: number }).notice, (wdAudit.detail as { message: string }).message], ['operator-user (operator)', n1, '住民票・印鑑証明の発行ができない状態です。'])
  const view = await call(url, `/v1/incidents/${id}`, TOK.viewer)
  t.same(view.json.notices.map((n: { id: number, withdrawn_at: number | null }) => [n.id, n.withdrawn_at]), [[n1, T0 + 30 * MIN], [n2, null]], 'the incident keeps the withdrawn notice, marked')
  t.equal(c.audit.verify().broken, undefined)

  await recover(c, 'web01', T0 + 50 * MIN)
  await recover(c, 'web02', T0 + 55 * MIN)
  const after = await (await fetch(`${url}/status.json`)).json() as { incidents: Array<{ resolved: boolean, resolvedAt: string }> }
  t.equal(after.incidents[0]!.resolved, true)
  t.equal(after.incidents[0]!.resolvedAt, new Date(T0 + 55 * MIN).toISOString())
  clock.now = T0 + 20 * MIN + 3 * 86_400_000 + 1
  t.same((await (await fetch(`${url}/status.json`)).json() as { incidents: unknown[] }).incidents, [], 'a resolved 障害 leaves the page after status.keep')
})

t.test('the status page is off by default: 404, telling nothing', async t => {
  const { url } = await app(t, { now: Date.now() })
  for (const p of ['/status', '/status.json']) {
    const r = await fetch(url + p)
    t.equal(r.status, 404, p)
    const body = await r.json() as { code: string }
    t.equal(body.code, 'E_NOT_FOUND')
  }
})

t.test('the resolved mail links to the incident view', async t => {
  const smtp = await withSmtp(t)
  const T0 = Date.now() - 600_000
  const { c } = await app(t, { now: T0 + 10_000 }, {}, smtp.port)
  const id = await breach(c, 'web01', T0)
  await new Promise(resolve => setTimeout(resolve, 1500))
  await recover(c, 'web01', T0 + 20_000)
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline && !smtp.mails.some(m => /RESOLVED/.test(m.subject))) await new Promise(resolve => setTimeout(resolve, 100))
  const resolved = smtp.mails.find(m => /RESOLVED/.test(m.subject))
  t.ok(resolved, `a resolved mail: ${smtp.mails.map(m => m.subject).join(' | ')}`)
  t.ok(resolved!.text.includes(`https://kanshi.example.jp/console/incidents/${id}`), 'the text carries the incident view link')
  t.match(resolved!.html, new RegExp(`href="https://kanshi\\.example\\.jp/console/incidents/${id}"`))
})
