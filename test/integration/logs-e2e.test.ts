// Log tailing end to end with real processes: numbered lines written at speed
// to a real file, rotated by rename and by copytruncate, with the agent
// killed (-9) across rotations; kanshi-agent → collector → a real influxd.
// Every line must be in InfluxDB exactly once.

import t, { type Test } from 'tap'
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import iconv from 'iconv-lite'
import { withInfluxd, query } from '../helpers/influxd.js'
import { waitFor, type Program } from '../helpers/procs.js'
import { makeStack, type Stack } from '../helpers/stack.js'
import type { InfluxdProcess } from '../../collector/storage/influxd-process.js'

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

async function messages (url: string, host: string, source: string): Promise<string[]> {
  const r = await query(url, 'kanshi', `SELECT message FROM "kanshi_logs"."log_event" WHERE host = '${host}' AND source = '${source}'`)
  return (r.results[0].series?.[0]?.values ?? []).map((v: unknown[]) => String(v[1]))
}

function checkExactlyOnce (t: Test, msgs: string[], n: number): void {
  const count = new Map<number, number>()
  for (const m of msgs) {
    const k = Number(/line (\d+) /.exec(m)?.[1])
    count.set(k, (count.get(k) ?? 0) + 1)
  }
  const missing: number[] = []
  const repeated: number[] = []
  for (let i = 1; i <= n; i++) {
    if (!count.has(i)) missing.push(i)
    else if (count.get(i)! > 1) repeated.push(i)
  }
  t.same({ rows: msgs.length, missing: missing.slice(0, 20), repeated: repeated.slice(0, 20) }, { rows: n, missing: [], repeated: [] }, `${n} numbered lines, each exactly once in InfluxDB`)
}

/** writeNumbered appends lines from..to in bursts of 100, yielding between bursts; rotate(n) runs after line n when asked. */
async function writeNumbered (file: string, from: number, to: number, rotateAfter: Map<number, () => void> = new Map()): Promise<void> {
  for (let i = from; i <= to; i += 100) {
    let text = ''
    const end = Math.min(to, i + 99)
    for (let j = i; j <= end; j++) text += `2026-11-23T09:00:00+09:00 INFO line ${j} 窓口 ${'z'.repeat(j % 40)}\n`
    appendFileSync(file, text)
    rotateAfter.get(end)?.()
    await sleep(2)
  }
}

const renameRotate = (f: string, suffix: string) => () => { renameSync(f, `${f}.${suffix}`); writeFileSync(f, '') }
const copyTruncate = (f: string, suffix: string) => () => { copyFileSync(f, `${f}.${suffix}`); truncateSync(f, 0) }

/** logStack: influxd, and a collector and agent that tail only the given log sources (no system inputs). */
async function logStack (t: Test, host: string, logs: Array<Record<string, unknown>>): Promise<{ influxd: InfluxdProcess, stack: Stack }> {
  const influxd = await withInfluxd(t)
  const stack = await makeStack(t, {
    influx: { version: 1, url: influxd.url, db: 'kanshi' },
    agentId: host,
    inputs: [],
    agent: { logPollInterval: '200ms', logs }
  })
  return { influxd, stack }
}

t.test('10,000 lines at speed through rename and copytruncate rotations, and a Shift_JIS file', async t => {
  const host = 'logs-host'
  const { influxd, stack } = await logStack(t, host, [
    { name: 'app', path: 'logs/app.log', startAt: 'beginning', rateLimit: 0, rotateWait: '1s' },
    { name: 'kiosk', path: 'logs/kiosk-*.log', encoding: 'shift_jis', startAt: 'beginning' }
  ])
  const logs = join(stack.dir, 'logs')
  mkdirSync(logs)
  const f = join(logs, 'app.log')
  writeFileSync(f, '')
  writeFileSync(join(logs, 'kiosk-01.log'), iconv.encode('2026-11-23 09:00:01 エラー 発券機のプリンタ用紙切れ ①\r\n', 'cp932'))
  await stack.startCollector()
  const agent = await stack.startAgent()
  await agent.waitForLine(l => l.includes('connected to collector'), 20_000)
  await writeNumbered(f, 1, 10_000, new Map([[3000, renameRotate(f, '1')], [6000, copyTruncate(f, '2')], [9000, renameRotate(f, '3')]]))
  // On a timeout the check below still runs and names the missing lines.
  await waitFor(async () => (await messages(influxd.url, host, f)).length >= 10_000, 60_000, 500).catch(err => t.comment(String(err)))
  await sleep(1500) // anything late or repeated would show up now
  checkExactlyOnce(t, await messages(influxd.url, host, f), 10_000)
  if (process.env['DEBUG_LOGS'] !== undefined) { const all = await messages(influxd.url, host, f); t.comment(agent.lines.join('\n')); t.comment(JSON.stringify(all.slice(2990, 3010).map(m => m.slice(26, 40)))) }
  const kiosk = await messages(influxd.url, host, join(logs, 'kiosk-01.log'))
  t.same(kiosk, ['2026-11-23 09:00:01 エラー 発券機のプリンタ用紙切れ ①'], 'Shift_JIS (CP932) decoded into UTF-8 text')
  const lvl = await query(influxd.url, 'kanshi', `SHOW TAG VALUES FROM log_event WITH KEY = level WHERE source = '${join(logs, 'kiosk-01.log')}'`)
  t.same(lvl.results[0].series[0].values.map((v: string[]) => v[1]), ['error'], 'エラー detected as level error')
  const stats = await query(influxd.url, 'kanshi', `SELECT last(lines), last(dropped_rate_limit) FROM log_input WHERE host = '${host}' AND source = 'app'`)
  t.ok(stats.results[0].series !== undefined, 'log_input counters reach InfluxDB')
})

t.test('the agent killed (-9) while lines are written, with rotations while it is down: exactly once', async t => {
  const influxd = await withInfluxd(t)
  const host = 'logs-kill'
  const stack = await makeStack(t, {
    influx: { version: 1, url: influxd.url, db: 'kanshi' },
    agentId: host,
    inputs: [],
    agent: { logPollInterval: '200ms', logs: [{ path: 'app.log', startAt: 'beginning', rateLimit: 0, rotateWait: '1s' }] }
  })
  const f = join(stack.dir, 'app.log')
  writeFileSync(f, '')
  await stack.startCollector()
  let agent: Program = await stack.startAgent()
  // Wait for the first saved position: an agent killed before it ever saved one starts afresh
  // (startAt applies) and cannot know a file that was rotated away meanwhile.
  await waitFor(() => readFileSync(join(stack.dir, 'agent', 'state.json'), 'utf8').includes('"logs"'), 20_000, 50)
  // Three rounds: write while the agent runs, kill it mid-stream, rotate while it is down, write more, start it again.
  const rounds: Array<[number, number, () => void]> = [[1, 3000, renameRotate(f, '1')], [3001, 6000, copyTruncate(f, '2')], [6001, 9000, renameRotate(f, '3')]]
  for (const [from, to, rotate] of rounds) {
    const writing = writeNumbered(f, from, to)
    await sleep(150)
    agent.kill('SIGKILL')
    await agent.waitExit()
    await writing
    rotate()
    appendFileSync(f, '')
    agent = await stack.startAgent()
  }
  await writeNumbered(f, 9001, 10_000)
  await waitFor(async () => (await messages(influxd.url, host, f)).length >= 10_000, 60_000, 500).catch(err => t.comment(String(err)))
  await sleep(1500)
  checkExactlyOnce(t, await messages(influxd.url, host, f), 10_000)
  if (process.env['DEBUG_LOGS'] !== undefined) {
    const { readdirSync, statSync } = await import('node:fs')
    t.comment(readFileSync(join(stack.dir, 'agent', 'state.json'), 'utf8'))
    for (const n of readdirSync(stack.dir)) t.comment(n, statSync(join(stack.dir, n)).ino, statSync(join(stack.dir, n)).size)
    const r = await query(influxd.url, 'kanshi', `SELECT count(message) FROM "kanshi_logs"."log_event" WHERE host = '${host}' GROUP BY source`)
    t.comment(JSON.stringify(r.results[0].series?.map((x: any) => [x.tags.source, x.values[0][1]])))
    t.comment(agent.lines.join('\n'))
  }
  agent.kill('SIGTERM')
  t.equal(await agent.waitExit(), 0, 'the agent stops cleanly')
})

t.test('redaction: a Shift_JIS kiosk log with マイナンバー reaches InfluxDB masked, with the count reported', async t => {
  const host = 'logs-redact'
  const { influxd, stack } = await logStack(t, host, [
    { name: 'kiosk', path: 'kiosk/*.log', encoding: 'shift_jis', startAt: 'beginning', redact: [{ preset: 'mynumber' }, { preset: 'phone-jp' }, { pattern: '氏名=\\S+', replace: '氏名=■' }] }
  ])
  mkdirSync(join(stack.dir, 'kiosk'))
  const file = join(stack.dir, 'kiosk', 'kiosk-01.log')
  // 123456789018 has a valid check digit (11 − 272 mod 11 = 8); 123456789012 (an order number) does not.
  const lines = [
    '2026-12-06 09:00:01 受付 個人番号 1234-5678-9018 氏名=山田太郎 電話 090-1234-5678',
    '2026-12-06 09:00:02 受付 注文番号 123456789012 発券 ①'
  ]
  writeFileSync(file, iconv.encode(lines.join('\r\n') + '\r\n', 'cp932'))
  await stack.startCollector()
  const agent = await stack.startAgent()
  t.teardown(() => { agent.kill('SIGTERM') })
  await waitFor(async () => (await messages(influxd.url, host, file)).length >= 2, 30_000, 200)
  t.same((await messages(influxd.url, host, file)).sort(), [
    '2026-12-06 09:00:01 受付 個人番号 *** 氏名=■ 電話 ***',
    '2026-12-06 09:00:02 受付 注文番号 123456789012 発券 ①'
  ], 'decoded from Shift_JIS, then masked; the wrong check digit kept')
  const redacted = async (): Promise<number> => {
    const r = await query(influxd.url, 'kanshi', `SELECT last(redacted) FROM log_input WHERE host = '${host}' AND source = 'kiosk'`)
    return Number(r.results[0].series?.[0]?.values[0][1] ?? 0)
  }
  await waitFor(async () => await redacted() >= 3, 30_000, 200).catch(err => t.comment(String(err)))
  t.equal(await redacted(), 3, 'log_input.redacted counts the replacements of the source')
  const spool = readFileSync(join(stack.dir, 'agent', 'state.json'), 'utf8')
  t.notMatch(spool, /山田|9018|090-1234/, 'nothing personal in the agent’s saved state')
})
