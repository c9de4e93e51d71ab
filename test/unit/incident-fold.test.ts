// A 障害 of merged alerts reads as one in the report's record (readRecord): detected the earliest,
// resolved the latest (open while any member is open), notified/acked the earliest, severity the
// highest, every host listed; members are not rows of their own. Real SQLite files, generated rows.

import t from 'tap'
import { SqliteAlertStore } from '../../collector/alerting/store-sqlite.js'
import { readRecord } from '../../collector/report/incidents.js'
import { tmpDir } from '../helpers/tmp.js'

const MIN = 60_000
const O = { notifyWithinMin: 15, majorSeverities: ['critical'], majorMinMs: 30 * MIN }

async function open (s: SqliteAlertStore, host: string, severity: string, at: number, mergedInto: number | null, systems: string[]): Promise<number> {
  return await s.openIncident({ rule: 'r', severity, host, labels: { host }, summary: host, summary_en: host, description: '', description_en: '', value: 1, threshold: null, detected_at: at, suppressed_by: null, series_key: `r:${host}`, systems, merged_into: mergedInto })
}

t.test('readRecord folds each primary with its members', async t => {
  const dir = await tmpDir(t)
  const s = new SqliteAlertStore(dir)
  const T = Date.parse('2026-10-05T09:00:00+09:00')
  // Generated: a primary (warning) and two members (one critical), with their own times.
  const spec = [
    { host: 'web01', sev: 'warning', det: T, notified: T + 9 * MIN, acked: T + 20 * MIN, resolved: T + 40 * MIN },
    { host: 'web02', sev: 'critical', det: T + 2 * MIN, notified: T + 6 * MIN, acked: null, resolved: T + 70 * MIN },
    { host: 'web03', sev: 'warning', det: T + 4 * MIN, notified: null, acked: T + 12 * MIN, resolved: T + 55 * MIN }
  ]
  const p = await open(s, spec[0]!.host, spec[0]!.sev, spec[0]!.det, null, ['共通基盤'])
  const ids = [p]
  for (const x of spec.slice(1)) ids.push(await open(s, x.host, x.sev, x.det, p, x.host === 'web03' ? ['共通基盤', '窓口'] : ['共通基盤']))
  const single = await open(s, 'tax01', 'critical', T + 5 * MIN, null, ['市税'])
  spec.forEach((x, i) => {
    s.db.db.prepare('UPDATE incidents SET notified_at = ?, acked_at = ?, acked_by = ? WHERE id = ?').run(x.notified, x.acked, x.acked === null ? null : `op-${x.host}`, ids[i])
  })
  const range = { start: T - 3_600_000, end: T + 86_400_000 }

  // While one member is open, the 障害 is open.
  for (const [i, x] of spec.slice(0, 2).entries()) await s.resolveIncident(ids[i]!, x.resolved, null, 0)
  let rec = readRecord(dir, range.start, range.end, 'ja', O)
  t.same(rec.incidents.map(r => r.id), [p, single], 'members are not rows of their own')
  t.equal(rec.incidents[0]!.resolvedAt, null, 'open while web03 is open')

  await s.resolveIncident(ids[2]!, spec[2]!.resolved, null, 0)
  rec = readRecord(dir, range.start, range.end, 'ja', O)
  const r = rec.incidents[0]!
  const earliest = (xs: Array<number | null>): number => Math.min(...xs.filter((x): x is number => x !== null))
  t.equal(r.detectedAt, earliest(spec.map(x => x.det)))
  t.equal(r.resolvedAt, Math.max(...spec.map(x => x.resolved)))
  t.equal(r.notifiedAt, earliest(spec.map(x => x.notified)))
  t.equal(r.ackedAt, earliest(spec.map(x => x.acked)))
  t.equal(r.ackedBy, `op-${spec.find(x => x.acked === earliest(spec.map(y => y.acked)))!.host}`)
  t.equal(r.severity, 'critical', 'the highest of its members')
  t.same(r.hosts, spec.map(x => x.host))
  t.same(r.systems, ['共通基盤', '窓口'])
  t.same(r.members, ids.slice(1))
  t.equal(r.durationMin, (Math.max(...spec.map(x => x.resolved)) - T) / MIN)
  t.equal(r.notifyMin, (earliest(spec.map(x => x.notified)) - T) / MIN)
  t.equal(r.major, true, 'critical and 70 minutes ≥ 30')
  t.same(rec.incidents[1]!.hosts, ['tax01'])
  // The operator's severity is the 障害's, and the report's judgements by severity follow it.
  await s.book.update(p, { severity_override: 'warning' })
  const over = readRecord(dir, range.start, range.end, 'ja', O).incidents[0]!
  t.same([over.severity, over.major, over.serviceAffecting], ['warning', false, false], 'a warning is neither major nor service-affecting by default')
  await s.book.update(p, { severity_override: null })
  // An operator's correction of the systems (impact.systems) is what the 障害 reads as.
  await s.book.update(p, { systems: ['共通基盤'] })
  t.same(readRecord(dir, range.start, range.end, 'ja', O).incidents[0]!.systems, ['共通基盤'])

  // Split web02 off: it becomes its own row; the 障害 keeps web01 and web03.
  await s.book.split(ids[1]!)
  rec = readRecord(dir, range.start, range.end, 'ja', O)
  t.same(rec.incidents.map(x => x.id), [p, ids[1], single])
  t.equal(rec.incidents[0]!.severity, 'warning')
  t.equal(rec.incidents[0]!.resolvedAt, Math.max(spec[0]!.resolved, spec[2]!.resolved))
  // Merge tax01 in by hand (into a member: its primary is used).
  t.equal(await s.book.merge(single, ids[2]!), p)
  t.same(readRecord(dir, range.start, range.end, 'ja', O).incidents.map(x => x.id), [p, ids[1]])
  await s.close()
})
