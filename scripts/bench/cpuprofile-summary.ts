// Self time of a V8 .cpuprofile (node --cpu-prof), summed by function, by file and by stage of the
// ingest path, as shares of the profiled process's busy time (idle left out).
//   node dist/scripts/bench/cpuprofile-summary.js FILE.cpuprofile [--top 25] [--from onFrame]
// --from F counts only from the first sample in function F (onFrame: the first agent frame, so the
// collector's start — module loading — is left out).

import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number }
interface Profile { nodes: Node[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

// Where a point's time goes: the first pattern matching the function's file (or name) names its stage.
const STAGES: Array<[string, RegExp]> = [
  ['garbage collection', /^\(garbage collector\)$/],
  ['WebSocket frames (ws)', /node_modules\/(ws|bufferutil|utf-8-validate)\//],
  ['batch check (validate)', /protocol\/batch-check|protocol\/messages/],
  ['ingest + stamp', /collector\/ingest\/|collector\/state\/(entry|device-stamp|seqs)/],
  ['WAL (encode, append, fsync, read)', /collector\/state\/wal\//],
  ['line protocol build', /collector\/storage\/(line-protocol|line-body|write-batch)/],
  ['storage writer + HTTP to InfluxDB', /collector\/storage\/(writer|targets|influx-v1|retrying-backend|isolate|dead-letter)|undici|node:internal\/deps\/undici|node:(http|net|_http)/],
  ['rollups', /collector\/storage\/rollup/],
  ['alert evaluation', /collector\/alerting\//],
  ['JSON.parse / stringify (native)', /^(parse|stringify)$/],
  ['program (other JS)', /\/(collector|common|protocol)\//],
  ['Node internals / native', /./]
]

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, from: { type: 'string' } } })
const p = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Profile
const byId = new Map(p.nodes.map(n => [n.id, n]))
const self = new Map<number, number>()
let first = 0
if (values.from !== undefined) {
  first = p.samples.findIndex(id => byId.get(id)?.callFrame.functionName === values.from)
  if (first < 0) throw new Error(`--from: no sample in a function named ${values.from}`)
}
for (let i = first; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0))
const short = (url: string): string => url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, (_m, d: string) => d === 'dist' ? '' : 'node_modules/')
const sums = { fn: new Map<string, number>(), file: new Map<string, number>(), stage: new Map<string, number>() }
let busy = 0
let idle = 0
for (const [id, us] of self) {
  const n = byId.get(id)!
  const { functionName, url, lineNumber } = n.callFrame
  if (functionName === '(idle)') { idle += us; continue }
  busy += us
  const name = functionName === '' ? '(anonymous)' : functionName
  const fn = `${name} ${url === '' ? '' : `${short(url)}:${lineNumber + 1}`}`
  const file = url === '' ? `(${name})` : short(url)
  const stage = STAGES.find(([, re]) => re.test(url === '' ? name : url))![0]
  for (const [m, k] of [[sums.fn, fn], [sums.file, file], [sums.stage, stage]] as const) m.set(k, (m.get(k) ?? 0) + us)
}
const top = Number(values.top)
const share = (us: number): string => `${(100 * us / busy).toFixed(1)}%`
const table = (title: string, m: Map<string, number>, n: number): string =>
  `| ${title} | self ms | share |\n|---|---|---|\n` + [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => `| ${k} | ${(us / 1000).toFixed(0)} | ${share(us)} |`).join('\n')
process.stdout.write(`profile ${positionals[0]!}: ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s\n\n` +
  `${table('stage', sums.stage, STAGES.length)}\n\n${table('file', sums.file, top)}\n\n${table('function', sums.fn, top)}\n`)
