// type: backup on real files with chosen mtimes: ages in business days across a
// weekend and a national holiday (勤労感謝の日, Mon 23 Nov 2026), generations kept.

import t from 'tap'
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { backupCheck, businessDaysSince } from '../../agent/inputs/checks/backup.js'
import type { BusinessCalendar } from '../../common/calendar.js'
import { japanCalendar } from '../../common/holidays.js'
import { checkAgentConfig } from '../../agent/config.js'
import { tmpDir } from '../helpers/tmp.js'

const cal = japanCalendar({ timezone: 'Asia/Tokyo' })
const jst = (s: string): number => Date.parse(`${s}+09:00`)
type R = { up: boolean, message: string, fields?: Record<string, number> }

t.test('business days begun since a time: weekends and holidays do not count', async t => {
  const fri = jst('2026-11-20T23:00:00')
  t.equal(businessDaysSince(fri, jst('2026-11-21T10:00:00'), cal), 0, 'Saturday')
  t.equal(businessDaysSince(fri, jst('2026-11-23T23:59:00'), cal), 0, 'Monday is 勤労感謝の日')
  t.equal(businessDaysSince(fri, jst('2026-11-24T00:00:00'), cal), 1, 'Tuesday midnight starts the first business day')
  t.equal(businessDaysSince(fri, jst('2026-11-25T10:00:00'), cal), 2)
  t.equal(businessDaysSince(fri, jst('2026-11-24T10:00:00'), undefined), 4, 'without a calendar every day counts')
  t.equal(businessDaysSince(jst('2026-12-28T23:00:00'), jst('2027-01-04T09:00:00'), cal), 1, '29 Dec – 3 Jan is closed')
  t.equal(businessDaysSince(jst('2026-11-25T10:00:00'), jst('2026-11-20T10:00:00'), cal), 0, 'a file from the future is 0 days old')
})

t.test('newest matching file against the allowed age; generations counted', async t => {
  const dir = await tmpDir(t)
  const file = (name: string, at: string, bytes: number): void => {
    writeFileSync(join(dir, name), Buffer.alloc(bytes))
    utimesSync(join(dir, name), new Date(jst(at)), new Date(jst(at)))
  }
  file('db-20261118.dump', '2026-11-18T23:00:00', 100)
  file('db-20261119.dump', '2026-11-19T23:00:00', 200)
  file('db-20261120.dump', '2026-11-20T23:00:00', 300)
  file('other-20261125.dump', '2026-11-25T01:00:00', 5) // newer, but does not match
  mkdirSync(join(dir, 'db-dir.dump')) // matches, but is not a file
  let now = jst('2026-11-24T10:00:00')
  const check = (o: { maxAgeDays?: number, minGenerations?: number, calendar?: BusinessCalendar | undefined } = {}) =>
    backupCheck({ path: join(dir, 'db-*.dump'), maxAgeDays: o.maxAgeDays ?? 1, minGenerations: o.minGenerations ?? 3, calendar: 'calendar' in o ? o.calendar : cal, now: () => now })(new AbortController().signal) as Promise<R>
  const ok = await check()
  t.equal(ok.up, true, ok.message)
  t.same(ok.fields, { age_s: (now - jst('2026-11-20T23:00:00')) / 1000, age_business_days: 1, generations: 3, newest_bytes: 300 })
  t.equal(ok.message, 'db-20261120.dump: 300 bytes, 1 business days old, 3 generations')
  const daily = await check({ calendar: undefined })
  t.same([daily.up, daily.fields?.['age_business_days']], [false, 4], 'counted on every day the weekend and holiday make it stale')
  t.equal(daily.message, 'newest db-20261120.dump is 4 days old (allowed 1)')
  const gens = await check({ minGenerations: 4 })
  t.same([gens.up, gens.message], [false, '3 generations kept, expected at least 4'])
  now = jst('2026-11-25T10:00:00')
  const stale = await check({ minGenerations: 4 })
  t.same([stale.up, stale.message], [false, 'newest db-20261120.dump is 2 business days old (allowed 1); 3 generations kept, expected at least 4'])
  const none = await (backupCheck({ path: join(dir, 'x-*.dump'), maxAgeDays: 1, minGenerations: 1, calendar: cal })(new AbortController().signal) as Promise<R>)
  t.same([none.up, none.fields], [false, { generations: 0 }])
  const gone = await (backupCheck({ path: join(dir, 'missing', '*.dump'), maxAgeDays: 1, minGenerations: 1, calendar: cal })(new AbortController().signal) as Promise<R>)
  t.match(gone.message, /^cannot read .*missing: ENOENT$/)
})

t.test('agent.yaml: a backup check needs path and maxAgeBusinessDays', async t => {
  const dir = await tmpDir(t)
  const base = { collector: { url: 'ws://127.0.0.1:1/v1/agent', token: 'x' } }
  const cfg = checkAgentConfig(join(dir, 'agent.yaml'), { ...base, checks: [{ name: 'db-backup', type: 'backup', path: 'b/db-*.dump', schedule: 'business-days', maxAgeBusinessDays: 1, minGenerations: 7 }] })
  t.same([cfg.checks[0]!.name, cfg.checks[0]!.type], ['db-backup', 'backup'])
  t.throws(() => checkAgentConfig(join(dir, 'agent.yaml'), { ...base, checks: [{ name: 'b', type: 'backup', path: '/b/*.dump' }] }),
    /agent\.yaml: checks\.0\(b\)\.maxAgeBusinessDays: expected a whole number of days for a backup check, got missing/)
  t.throws(() => checkAgentConfig(join(dir, 'agent.yaml'), { ...base, checks: [{ name: 'b', type: 'backup', path: '/b/*.dump', maxAgeBusinessDays: 1, schedule: 'weekly' }] }),
    /agent\.yaml: checks\.0\.schedule: expected one of business-days, daily, got "weekly"/)
})

t.test('agent.yaml calendar: closedDays and openDays reach the backup check', async t => {
  const dir = await tmpDir(t)
  const DAY = 86_400_000
  const now = Date.now()
  const made = now - 14 * DAY
  writeFileSync(join(dir, 'db-1.dump'), 'x')
  utimesSync(join(dir, 'db-1.dump'), new Date(made), new Date(made))
  // every local date after the file's, up to tomorrow: all closed → 0 business days old
  const dates = Array.from({ length: 16 }, (_, i) => new Date(made + (i + 1) * DAY + 9 * 3_600_000).toISOString().slice(0, 10))
  const weekends = dates.filter(d => [0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay()))
  const run = async (calendar?: Record<string, unknown>): Promise<R> => {
    const cfg = checkAgentConfig(join(dir, 'agent.yaml'), { collector: { url: 'ws://127.0.0.1:1/v1/agent', token: 'x' }, ...(calendar !== undefined ? { calendar } : {}), checks: [{ name: 'b', type: 'backup', path: 'db-*.dump', maxAgeBusinessDays: 1 }] })
    return await (cfg.checks[0]!.check(new AbortController().signal) as Promise<R>)
  }
  const plain = await run()
  const want = businessDaysSince(made, now, japanCalendar({ timezone: 'Asia/Tokyo' }))
  t.ok(want > 1, `14 days hold ${want} business days`)
  t.same([plain.up, plain.fields?.['age_business_days']], [false, want], 'without calendar: holidays and weekends only')
  const closed = await run({ closedDays: dates })
  t.same([closed.up, closed.fields?.['age_business_days']], [true, 0], 'every day since closed (closedDays): not stale')
  const open = await run({ openDays: weekends })
  t.equal(open.fields?.['age_business_days'], want + weekends.filter(d => d <= new Date(now + 9 * 3_600_000).toISOString().slice(0, 10)).length, 'opened weekends (openDays) count')
  t.throws(() => checkAgentConfig(join(dir, 'agent.yaml'), { collector: { url: 'ws://127.0.0.1:1/v1/agent', token: 'x' }, calendar: { closedDays: ['24 Nov'] } }), /agent\.yaml: calendar\.closedDays\.0: expected a date YYYY-MM-DD/)
})
