// The log archive end to end: 10,000 log events from two agents through a real collector over
// three days (a fake clock), then verify on the CLI: intact, and each tampering found and named.
// logs export gives back exactly what went in, as CSV (Excel BOM) and JSON lines, with filters.

import t from 'tap'
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync, truncateSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { encodeEntry } from '../../collector/state/entry.js'
import { startCollector } from '../helpers/collector.js'
import { connectAgent } from '../helpers/fake-agent.js'
import { waitFor } from '../helpers/procs.js'
import { writeConfig } from '../helpers/config.js'
import { tmpDir } from '../helpers/tmp.js'
import { collectorCli, editLines, makeEvents, parseCsv, sendEvents, writeKeys, type SentEvent } from '../helpers/archive.js'

const DAY = 86_400_000
const DAYS = ['2026-12-01', '2026-12-02', '2026-12-03']

t.test('10,000 events archived over three days: verify, tampering, export', async t => {
  const keyDir = await tmpDir(t)
  const keys = writeKeys(keyDir)
  let clock = Date.parse('2026-12-01T01:00:00Z') // 10:00 in Tokyo
  const col = await startCollector(t, {
    agents: [{ id: 'web01' }, { id: 'kiosk01', role: 'kiosk' }],
    config: { archive: { enabled: true, signingKey: keys.key } },
    build: { now: () => clock }
  })
  const web = await connectAgent(t, col.agentUrl, { token: col.tokens['web01']!, id: 'web01' })
  const kiosk = await connectAgent(t, col.agentUrl, { token: col.tokens['kiosk01']!, id: 'kiosk01' })
  await web.greet()
  await kiosk.greet()
  const sent: SentEvent[] = []
  const archived = async (): Promise<number> => (await col.c.metrics.archiveEvents.get()).values[0]?.value ?? 0
  let seqW = 1
  let seqK = 1
  for (const [d, [nw, nk]] of [[3000, 1000], [2500, 500], [2000, 1000]].entries()) {
    const ew = makeEvents('web01', sent.length, nw, clock)
    const ek = makeEvents('kiosk01', sent.length + nw, nk, clock)
    sent.push(...ew, ...ek)
    ;[seqW, seqK] = await Promise.all([sendEvents(web, seqW, ew), sendEvents(kiosk, seqK, ek)])
    await waitFor(async () => await archived() === sent.length, 30_000, 100)
    t.pass(`day ${DAYS[d]}: ${sent.length} events archived`)
    if (d === 0) {
      // An alert state change and an audit record share the archive with the events; export leaves them out.
      await col.c.wal.append(encodeEntry({ a: '', s: 0, r: clock, p: [{ m: 'alert', t: clock, tags: { host: 'kiosk01', role: 'kiosk', site: 'x', rule: 'disk_full', severity: 'error', state: 'firing' }, f: { summary: 'ID-3 ディスク 95%', value: 95, active: 1 } }] }))
      col.c.audit.append('test', 'export.check', { host: 'kiosk01', message: 'ID-5 ログイン' })
      const audits = col.c.audit.entries(1000).length
      await waitFor(() => kinds(col.config.archive.dir, 'alert') === 1 && kinds(col.config.archive.dir, 'audit') === audits, 10_000, 100)
      t.pass(`day ${DAYS[d]}: an alert record and ${audits} audit records archived`)
    }
    clock += DAY
  }
  t.equal(sent.length, 10_000)
  const dir = col.config.archive.dir
  await waitFor(() => statSync(join(dir, `${DAYS[2]}.manifest`), { throwIfNoEntry: false }) !== undefined, 10_000, 100)
  await col.c.shutdown()
  const others = kinds(dir, 'alert') + kinds(dir, 'audit')
  t.ok(others >= 2, `${others} alert and audit records in the archive`)

  // An auditor's config: the archive and the public key, nothing else.
  const audit = async (name: string, tamper?: (d: string) => void, range: string[] = []): Promise<ReturnType<typeof collectorCli>> => {
    const d = join(keyDir, name)
    cpSync(dir, d, { recursive: true })
    tamper?.(d)
    const cfg = writeConfig(join(keyDir, `${name}.yaml`), { archive: { dir: d, publicKey: keys.pub } })
    return collectorCli(['archive', 'verify', ...range, '--config', cfg])
  }
  const intact = await audit('intact')
  t.equal(intact.code, 0, intact.err)
  t.match(intact.out, new RegExp(`3 days, ${10_000 + others} records, chain and signatures intact`))

  const day2 = (d: string): string => join(d, `${DAYS[1]}.log.gz`)
  const cases: Array<[string, (d: string) => void, RegExp]> = [
    ['one byte of a record edited', d => editLines(day2(d), l => { l[499] = l[499]!.replace('ID-', 'ID_'); return l }), /2026-12-02\.log\.gz: record 500: its content does not match its hash/],
    ['one byte of the compressed file edited', d => { const b = readFileSync(day2(d)); b[b.length >> 1] ^= 0x55; writeFileSync(day2(d), b) }, /2026-12-02\.log\.gz: record \d+: .*(corrupt|hash|not JSON|edited)/],
    ['a record removed', d => editLines(day2(d), l => l.filter((_, i) => i !== 699)), /2026-12-02\.log\.gz: record 700: missing or out of place: record 701 stands in its place/],
    ['a day removed', d => { rmSync(day2(d)); rmSync(join(d, `${DAYS[1]}.manifest`)) }, /2026-12-03\.manifest: day 2026-12-02 is missing/],
    ['the newest day removed', d => { rmSync(join(d, `${DAYS[2]}.log.gz`)); rmSync(join(d, `${DAYS[2]}.manifest`)) }, /2026-12-03\.log\.gz: day 2026-12-03 is missing: the signed head witness names it with 3000 records/],
    ['a pair swapped', d => editLines(day2(d), l => { [l[99], l[100]] = [l[100]!, l[99]!]; return l }), /2026-12-02\.log\.gz: record 100: missing or out of place: record 101/],
    ['the file truncated', d => truncateSync(day2(d), statSync(day2(d)).size >> 1), /2026-12-02\.log\.gz: record \d+: the file is truncated or corrupt after record \d+ of 3000/],
    ['the last records cut', d => editLines(day2(d), l => l.slice(0, -10)), /2026-12-02\.log\.gz: record 2991: the file holds 2990 records, its manifest 3000/],
    ['the manifest\'s signature altered', d => {
      const f = join(d, `${DAYS[1]}.manifest`)
      const [json, sig] = readFileSync(f, 'utf8').split('\n')
      writeFileSync(f, `${json}\n${sig![0] === 'A' ? 'B' : 'A'}${sig!.slice(1)}\n`)
    }, /2026-12-02\.manifest: the manifest's signature does not match/],
    ['the manifest\'s count edited', d => {
      const f = join(d, `${DAYS[1]}.manifest`)
      writeFileSync(f, readFileSync(f, 'utf8').replace('"records":3000', '"records":2990'))
    }, /2026-12-02\.manifest: the manifest's signature does not match/]
  ]
  for (const [what, tamper, want] of cases) {
    const r = await audit(what.replace(/\W+/g, '-'), tamper)
    t.equal(r.code, 1, `${what}: exit 1`)
    t.match(r.err, want, `${what}: named`)
  }

  // --from/--to on the CLI: only the days in range are checked; an edit inside it is named, one outside is not looked at.
  const edit500 = (d: string): void => editLines(day2(d), l => { l[499] = l[499]!.replace('ID-', 'ID_'); return l })
  const day3 = sent.filter(e => e.t >= Date.parse('2026-12-02T15:00:00Z')).length
  const later = await audit('range-after', edit500, ['--from', DAYS[2]!, '--to', DAYS[2]!])
  t.equal(later.code, 0, later.err)
  t.match(later.out, new RegExp(`: 1 days, ${day3} records, chain and signatures intact`), '--from/--to: the day after the edit alone verifies')
  const inside = await audit('range-inside', edit500, ['--from', DAYS[1]!, '--to', DAYS[1]!])
  t.equal(inside.code, 1, '--from/--to: the edited day in range exits 1')
  t.match(inside.err, /2026-12-02\.log\.gz: record 500: its content does not match its hash/)
  const reversed = await audit('range-reversed', undefined, ['--from', DAYS[2]!, '--to', DAYS[0]!])
  t.equal(reversed.code, 2, 'a reversed range is a usage error')
  t.match(reversed.err, /--from 2026-12-03 is after --to 2026-12-01/)

  // Export: what went in comes out, with the filters.
  const cfg = writeConfig(join(keyDir, 'export.yaml'), { archive: { dir, publicKey: keys.pub } })
  const id = (m: string): number => Number(/ID-(\d+)/.exec(m)?.[1] ?? -1)
  const byId = (a: { message: string }, b: { message: string }): number => id(a.message) - id(b.message)
  const expected = (f: (e: SentEvent) => boolean): SentEvent[] => sent.filter(f).sort(byId)
  const jsonl = join(keyDir, 'all.jsonl')
  const all = collectorCli(['logs', 'export', '--from', DAYS[0]!, '--to', DAYS[2]!, '--format', 'jsonl', '--out', jsonl, '--config', cfg])
  t.equal(all.code, 0, all.err)
  const rows = readFileSync(jsonl, 'utf8').split('\n').filter(l => l !== '').map(l => JSON.parse(l))
  t.equal(rows.length, sent.length, 'JSONL: log events only, no alert or audit row')
  t.same(rows.map(r => ({ t: r.t, host: r.host, source: r.source, level: r.level, message: r.message })).sort(byId), expected(() => true), 'JSONL: every event once, as sent')
  t.ok(rows.every(r => r.role === (r.host === 'kiosk01' ? 'kiosk' : 'server')), 'the role stamped by the collector')

  const csv = join(keyDir, 'kiosk-errors.csv')
  const f = collectorCli(['logs', 'export', '--from', DAYS[1]!, '--to', DAYS[2]!, '--host', 'kiosk01', '--level', 'error', '--match', 'ログイン|ID-\\d*5 ', '--format', 'csv', '--out', csv, '--config', cfg])
  t.equal(f.code, 0, f.err)
  const text = readFileSync(csv, 'utf8')
  t.ok(text.startsWith('\uFEFFtime,host,role,site,source,level,message\r\n'), 'CSV: UTF-8 BOM and a header')
  const cells = parseCsv(text.slice(1)).slice(1)
  const day2Start = Date.parse('2026-12-01T15:00:00Z')
  const want = expected(e => e.t >= day2Start && e.host === 'kiosk01' && e.level === 'error' && /ログイン|ID-\d*5 /u.test(e.message))
  t.ok(want.length > 50, `${want.length} events match the filters`)
  t.same(cells.map(([time, host, , , source, level, message]) => ({ t: Date.parse(time!), host, source, level, message })).sort(byId), want, 'CSV with --from/--host/--level/--match: exactly the matching events')
})

/** kinds counts the records of kind k in the archive's day files (the open one too: each append is a whole gzip member). */
function kinds (dir: string, k: string): number {
  return readdirSync(dir).filter(f => f.endsWith('.log.gz'))
    .flatMap(f => gunzipSync(readFileSync(join(dir, f))).toString().split('\n').slice(0, -1))
    .filter(l => JSON.parse(l.slice(65)).k === k).length
}
