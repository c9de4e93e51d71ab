// Each stage of the notification chain alone: pure logic over made-up incidents,
// time driven by the `now` argument.

import t from 'tap'
import { japanCalendar } from '../../common/holidays.js'
import { MuteStage } from '../../collector/alerting/notify/mute.js'
import { GroupStage } from '../../collector/alerting/notify/group.js'
import { DedupStage } from '../../collector/alerting/notify/dedup.js'
import { EscalateStage } from '../../collector/alerting/notify/escalate.js'
import type { Notice, NoticeKind, Receiver } from '../../collector/alerting/notify/stage.js'
import type { Incident, Window } from '../../collector/alerting/store.js'

const T0 = Date.parse('2026-11-24T10:00:00+09:00') // a Tuesday
const MIN = 60_000

let nextId = 1
function incident (o: Partial<Incident> = {}): Incident {
  return {
    id: nextId++, rule: 'cpu_high', severity: 'critical', host: 'web01', labels: { host: 'web01', role: 'server' },
    summary: 's', summary_en: 's', description: '', description_en: '', value: 95, threshold: 90, detected_at: T0,
    notified_at: null, acked_at: null, acked_by: null, resolved_at: null, resolve_reason: null, escalated_at: null,
    suppressed_by: null, last_notified_at: null, resolved_notified: 0, series_key: 'k', systems: [],
    cause_text: '', impact: '', affected_users: '', actions: '', prevention: '', confirmed_recovery_at: null, service_affecting: null,
    major_override: null, exempt_category: null, exempt_reason: null, merged_into: null, user_notice_at: null, severity_override: null, matched_lines: [], ...o
  }
}
function window (o: Partial<Window>): Window {
  return { id: 1, kind: 'silence', name: 'w', matchers: {}, starts_at: T0 - MIN, ends_at: T0 + 60 * MIN, recur_days: null, recur_hours: null, created_by: 't', comment: '', created_at: T0, deleted_at: null, ...o }
}
const ids = (ns: Notice[]): Array<[NoticeKind, number[]]> => ns.map(n => [n.kind, n.incidents.map(i => i.id)])

t.test('mute: a silenced or maintained incident leaves every kind of notice; the dead-man notice stays', async t => {
  const cal = japanCalendar({ timezone: 'Asia/Tokyo' })
  const web = incident({ host: 'web01', labels: { host: 'web01' } })
  const db = incident({ host: 'db01', labels: { host: 'db01' }, rule: 'disk_full' })
  const atDetection = incident({ suppressed_by: 'maintenance:9' })
  const windows: Window[] = [window({ matchers: { host: 'web01' } })]
  const mute = new MuteStage(() => windows, cal)
  for (const kind of ['firing', 'resolved', 'repeat', 'escalation'] as const) {
    t.same(ids(await mute.exec([{ kind, incidents: [web, db, atDetection] }], T0)), [[kind, [db.id]]], `${kind}: only the unmuted incident`)
  }
  t.same(ids(await mute.exec([{ kind: 'repeat', incidents: [web] }], T0)), [], 'a notice left empty goes')
  t.same(ids(await mute.exec([{ kind: 'deadman', incidents: [web] }], T0)), [['deadman', []]], 'the dead-man mail is still sent, without the muted alert')
  t.same(ids(await mute.exec([{ kind: 'firing', incidents: [web] }], T0 + 61 * MIN)), [['firing', [web.id]]], 'after the silence ends it is mailed again')
  windows[0] = window({ matchers: { rule: 'disk_full', severity: 'critical' }, kind: 'maintenance', recur_days: [2], recur_hours: '09:00-11:00', ends_at: T0 + 30 * 86_400_000 })
  t.same(ids(await mute.exec([{ kind: 'firing', incidents: [db] }], T0)), [], 'a recurring window on Tuesdays 09-11 mutes at 10:00 by rule and severity')
  t.same(ids(await mute.exec([{ kind: 'firing', incidents: [db] }], T0 + 2 * 60 * MIN)), [['firing', [db.id]]], 'and not at 12:00')
  t.same(ids(await mute.exec([{ kind: 'firing', incidents: [db] }], T0 + 86_400_000)), [['firing', [db.id]]], 'nor on Wednesday')
})

t.test('group: the first matching route picks the receiver; firing mails group per rule, others per receiver', async t => {
  const oncall: Receiver = { name: 'oncall', email: ['o@x.jp'], locale: 'ja' }
  const dba: Receiver = { name: 'dba', email: ['d@x.jp'], locale: 'en' }
  const boss: Receiver = { name: 'boss', email: ['b@x.jp'], locale: 'en' }
  const g = new GroupStage({
    receivers: [oncall, dba, boss],
    routes: [{ match: { role: '~^db' }, receiver: 'dba' }, { match: { severity: 'critical' }, receiver: 'oncall' }],
    escalation: 'boss'
  })
  const a = incident({ rule: 'cpu_high' })
  const b = incident({ rule: 'disk_full' })
  const c = incident({ rule: 'cpu_high', labels: { host: 'db1', role: 'db' } })
  const d = incident({ severity: 'warning' })
  const out = g.exec([{ kind: 'firing', incidents: [a, b, c, d] }, { kind: 'resolved', incidents: [a, b, c] }, { kind: 'escalation', incidents: [a, c] }])
  t.same(out.map(n => [n.kind, n.receiver?.name, n.incidents.map(i => i.id)]), [
    ['firing', 'oncall', [a.id]], ['firing', 'oncall', [b.id]], ['firing', 'dba', [c.id]],
    ['resolved', 'oncall', [a.id, b.id]], ['resolved', 'dba', [c.id]],
    ['escalation', 'boss', [a.id, c.id]]
  ], 'd matches no route and is not mailed; escalation goes to its own receiver')
  t.equal(g.route(c)?.name, 'dba')
  t.equal(new Set(out.map(n => n.key)).size, out.length, 'each group has its own key')
})

t.test('dedup: group_wait, group_interval, repeat_interval and the dead-man interval', async t => {
  let lastDeadman = 0
  const d = new DedupStage({ groupWaitMs: 30_000, groupIntervalMs: 5 * MIN, repeatIntervalMs: 60 * MIN, deadmanIntervalMs: 24 * 60 * MIN, lastQueued: () => lastDeadman })
  const a = incident({ detected_at: T0 })
  const firing = (i: Incident): Notice[] => [{ kind: 'firing', incidents: [i], key: 'oncall\u0000firing\u0000cpu_high' }]
  t.same(ids(d.exec(firing(a), T0 + 29_000)), [], 'not before group_wait')
  t.same(ids(d.exec(firing(a), T0 + 30_000)), [['firing', [a.id]]], 'due once group_wait has passed')
  const b = incident({ detected_at: T0 + MIN })
  t.same(ids(d.exec(firing(b), T0 + 2 * MIN)), [], 'the same group waits group_interval')
  t.same(ids(d.exec(firing(b), T0 + 30_000 + 5 * MIN)), [['firing', [b.id]]], 'and mails again after it')
  const mailed = incident({ last_notified_at: T0 })
  const acked = incident({ last_notified_at: T0, acked_at: T0 + MIN })
  t.same(ids(d.exec([{ kind: 'repeat', incidents: [mailed, acked] }], T0 + 59 * MIN)), [], 'no repeat before repeat_interval')
  t.same(ids(d.exec([{ kind: 'repeat', incidents: [mailed, acked] }], T0 + 60 * MIN)), [['repeat', [mailed.id]]], 'repeated unless acknowledged')
  t.same(ids(d.exec([{ kind: 'deadman', incidents: [] }], T0)), [['deadman', []]], 'the first dead-man mail is due at once')
  lastDeadman = T0
  t.same(ids(d.exec([{ kind: 'deadman', incidents: [] }], T0 + 60 * MIN)), [], 'then once per interval')
  t.same(ids(d.exec([{ kind: 'deadman', incidents: [] }], T0 + 24 * 60 * MIN)), [['deadman', []]])
  t.same(ids(d.exec([{ kind: 'resolved', incidents: [mailed] }, { kind: 'escalation', incidents: [mailed] }], T0)), [['resolved', [mailed.id]], ['escalation', [mailed.id]]], 'resolved and escalation pass')
})

t.test('escalate: a critical incident unacknowledged `after` its first accepted mail, once', async t => {
  const e = new EscalateStage(15 * MIN)
  const due = incident({ notified_at: T0 })
  const notYetMailed = incident({ notified_at: null })
  const warning = incident({ notified_at: T0, severity: 'warning' })
  const acked = incident({ notified_at: T0, acked_at: T0 + MIN })
  const done = incident({ notified_at: T0, escalated_at: T0 + 15 * MIN })
  const all = [due, notYetMailed, warning, acked, done]
  t.same(ids(e.exec([{ kind: 'escalation', incidents: all }], T0 + 14 * MIN)), [], 'not before `after`')
  t.same(ids(e.exec([{ kind: 'escalation', incidents: all }], T0 + 15 * MIN)), [['escalation', [due.id]]])
  t.same(ids(e.exec([{ kind: 'firing', incidents: all }], T0)), [['firing', all.map(i => i.id)]], 'other kinds pass')
})
