// The whole notification chain on a real alerting store (SQLite in a temp dir),
// with a fake SMTP send and an injected clock: muting holds back every kind of
// mail, the outbox keeps refused mails and retries them with backoff.

import t, { type Test } from 'tap'
import { pino } from 'pino'
import { japanCalendar } from '../../common/holidays.js'
import { Notifier } from '../../collector/alerting/notify/notifier.js'
import { SendStage, FINAL_RETRY_MS } from '../../collector/alerting/notify/send.js'
import { SqliteAlertStore } from '../../collector/alerting/store-sqlite.js'
import type { SendResult } from '../../common/send-result.js'
import { tmpDir } from '../helpers/tmp.js'

const T0 = Date.parse('2026-11-24T10:00:00+09:00')
const MIN = 60_000
const logger = pino({ level: 'silent' })

interface Mail { to: string[], subject: string, text: string, at: number }

async function setup (t: Test) {
  const store = new SqliteAlertStore(await tmpDir(t))
  t.teardown(() => store.close())
  const clock = { t: T0 }
  const mails: Mail[] = []
  const notifier = new Notifier({
    store,
    send: async (to, subject, text) => { mails.push({ to, subject, text, at: clock.t }); return { kind: 'ok', messageId: String(mails.length) } },
    calendar: japanCalendar({ timezone: 'Asia/Tokyo' }),
    receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }, { name: 'boss', email: ['boss@example.jp'], locale: 'en' }],
    routes: [{ match: {}, receiver: 'oncall' }],
    groupWaitMs: 30_000,
    groupIntervalMs: 5 * MIN,
    repeatIntervalMs: 60 * MIN,
    escalation: { afterMs: 10 * MIN, receiver: 'boss' },
    deadman: { intervalMs: 60 * MIN, receiver: 'oncall' },
    timezone: 'Asia/Tokyo',
    now: () => clock.t,
    logger
  })
  const open = async (host: string, rule: string, suppressedBy: string | null = null): Promise<number> => await store.openIncident({
    rule, severity: 'critical', host, labels: { host }, summary: `${host} ${rule}`, summary_en: `${host} ${rule}`, description: '', description_en: '',
    value: 95, threshold: 90, detected_at: clock.t, suppressed_by: suppressedBy, series_key: `${rule}|host=${host}`
  })
  /** at moves the clock to T0 + ms, then plans and sends as a tick does */
  const at = async (ms: number): Promise<void> => {
    clock.t = T0 + ms
    await notifier.plan(clock.t)
    await notifier.deliver(clock.t)
  }
  return { store, clock, mails, open, at }
}

const kinds = (ms: Mail[]): string[] => ms.map(m => /ESCALATION/.test(m.subject) ? 'escalation' : /継続中/.test(m.subject) ? 'repeat' : /RESOLVED/.test(m.subject) ? 'resolved' : /稼働中/.test(m.subject) ? 'deadman' : 'firing')

t.test('a muted alert gets no mail of any kind; an unmuted one gets each kind', async t => {
  const { store, mails, open, at } = await setup(t)
  const maint = await store.addWindow({ kind: 'maintenance', name: 'patch', matchers: { host: 'in-maintenance' }, starts_at: T0 - MIN, ends_at: T0 + 6 * 60 * MIN, recur_days: null, recur_hours: null, created_by: 't', comment: '' }, T0)
  const live = await open('live-01', 'cpu_high')
  const later = await open('silenced-later', 'disk_full')
  const muted = await open('in-maintenance', 'cpu_high', `maintenance:${maint}`) // as the alerting stage records it
  await at(31_000)
  t.same(kinds(mails).sort(), ['deadman', 'firing', 'firing'], 'first tick: a firing mail each for live-01 and silenced-later, and the dead-man mail')
  t.match(mails.find(m => /稼働中/.test(m.subject))!.subject, /発生中のアラート 2 件/, 'the dead-man mail lists the two unmuted alerts')

  // A silence created after silenced-later was mailed: from now on it is held back too.
  await store.addWindow({ kind: 'silence', name: '調査中', matchers: { host: 'silenced-later' }, starts_at: T0 + MIN, ends_at: T0 + 3 * 60 * MIN, recur_days: null, recur_hours: null, created_by: 't', comment: '' }, T0 + MIN)
  const before = mails.length
  await at(11 * MIN) // escalation due (10 min after the first accepted mail)
  await at(62 * MIN) // repeat and dead-man due
  for (const id of [live, later, muted]) await store.resolveIncident(id, T0 + 63 * MIN, null, 10)
  await at(63 * MIN) // resolved due
  const after = mails.slice(before)
  t.same(kinds(after), ['escalation', 'repeat', 'deadman', 'resolved'], 'the unmuted alert still gets every kind of mail')
  t.ok(after.every(m => !m.subject.includes('silenced-later') && !m.text.includes('silenced-later')), `nothing about the silenced alert: ${after.map(m => m.subject).join(' | ')}`)
  t.ok(mails.every(m => !m.subject.includes('in-maintenance') && !m.text.includes('in-maintenance')), 'nothing ever about the alert in maintenance')
  t.match(after.find(m => /稼働中/.test(m.subject))!.subject, /発生中のアラート 1 件/, 'the dead-man mail lists only the unmuted alert')
  t.equal(after.find(m => /ESCALATION/.test(m.subject))!.to[0], 'boss@example.jp')
  t.equal((await store.incident(later))!.escalated_at, null, 'the silenced alert was not escalated')

  // When the silence ends, the held-back resolved mail about silenced-later goes; the maintained one never had a mail.
  await at(3 * 60 * MIN + MIN)
  t.same(mails.slice(before + after.length).map(m => m.subject).filter(s => !s.includes('稼働中')), ['[RESOLVED 復旧] silenced-later disk_full'])
  await at(7 * 60 * MIN)
  t.notOk(mails.some(m => m.subject.includes('in-maintenance')), 'an alert muted when it fired is never mailed, even after its window')
})

t.test('the outbox keeps a refused mail and retries it with backoff; a permanent refusal waits an hour', async t => {
  const store = new SqliteAlertStore(await tmpDir(t))
  t.teardown(() => store.close())
  let now = T0
  const outcomes: SendResult[] = [{ kind: 'retry', reason: '451 try again later' }, { kind: 'fail', reason: '550 mailbox unavailable' }, { kind: 'ok' }]
  const tried: string[] = []
  const send = new SendStage({
    store, logger, random: () => 0.5, now: () => now,
    send: async (_to, subject) => { tried.push(subject); now += 1500; return outcomes.shift()! }
  })
  const incident = await store.openIncident({ rule: 'r', severity: 'critical', host: 'h', labels: {}, summary: 's', summary_en: 's', description: '', description_en: '', value: 1, threshold: null, detected_at: T0, suppressed_by: null, series_key: 'k' })
  await store.enqueue({ kind: 'firing', incident_ids: [incident], receiver: 'oncall', recipients: ['o@x.jp'], subject: 'first', text: '', html: '', created_at: T0 })
  await store.enqueue({ kind: 'firing', incident_ids: [], receiver: 'oncall', recipients: ['o@x.jp'], subject: 'second', text: '', html: '', created_at: T0 })
  t.equal(await send.exec(now), 0)
  t.same(tried, ['first'], 'a temporary refusal holds the rest back, keeping order')
  const m1 = (await store.dueMail(Infinity))[0]!
  t.equal(m1.next_attempt_at, T0 + 1500 + 3750, 'first retry after 2.5-5 s (common/backoff.ts, random 0.5), counted from the reply')
  t.equal(await store.pendingMail(), 2, 'nothing dropped')
  const second = now = m1.next_attempt_at
  t.equal(await send.exec(now), 1, 'the permanent refusal is kept, and the second mail goes')
  t.same(tried, ['first', 'first', 'second'])
  const m2 = (await store.dueMail(Infinity))[0]!
  t.equal(m2.subject, 'first')
  t.equal(m2.next_attempt_at, second + 1500 + FINAL_RETRY_MS, 'a permanent refusal is tried again an hour later, not dropped')
  t.equal(m2.attempts, 2)
  outcomes.unshift({ kind: 'ok' })
  now = m2.next_attempt_at - 1
  t.equal(await send.exec(now), 0, 'not before its time')
  t.equal(tried.length, 3)
  const last = now = m2.next_attempt_at
  t.equal(await send.exec(now), 1)
  t.equal(await store.pendingMail(), 0)
  t.equal((await store.incident(incident))!.notified_at, last + 1500, 'notified_at is read from the clock after the server accepted')
})
