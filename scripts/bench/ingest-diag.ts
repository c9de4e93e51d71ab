// Where the collector path waits (issue 22, third pass): what the collector's /metrics and influxd's
// /debug/vars say after one run, each core's idle time over it, and the diagnostic variants of the
// collector run (--variants). Read once after the load generator finished, outside the CPU window.

import { readFileSync } from 'node:fs'

/** A collector run changed in one way, to see which part the drain waits for. */
export const VARIANTS = ['wal-tmpfs', 'influx-tmpfs', 'no-rollups', 'no-alerting', 'protocol-2'] as const
export type Variant = typeof VARIANTS[number]

export function variantsOf (arg: string | undefined): Variant[] {
  if (arg === undefined || arg === '') return []
  return arg.split(',').map(v => {
    if (!(VARIANTS as readonly string[]).includes(v)) throw new Error(`--variants: expected a comma-separated list of ${VARIANTS.join(', ')}, got ${JSON.stringify(v)}`)
    return v as Variant
  })
}

/** Sums and counts of the collector's own histograms and counters that tell where it waited. */
export interface CollectorDiag {
  /** WAL group commits: how many, mean ms */
  commits: number, commitMs: number
  /** storage write requests: how many, mean ms */
  writes: number, writeMs: number
  /** seconds batches waited for each reader (flow control), by reader */
  flowWaitS: Record<string, number>
  /** ack latency, mean ms */
  ackMs: number
}

/** metricSum adds every sample of a metric name (all label sets) in Prometheus text. */
function metricSum (text: string, name: string, label?: string): number {
  let n = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== ' ' && rest[0] !== '{') continue
    if (label !== undefined && !rest.includes(label)) continue
    n += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return n
}

export async function collectorDiag (port: number): Promise<CollectorDiag> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const commits = metricSum(text, 'kanshi_wal_fsync_seconds_count')
  const writes = metricSum(text, 'kanshi_storage_write_duration_seconds_count')
  const acks = metricSum(text, 'kanshi_ack_latency_seconds_count')
  const flowWaitS: Record<string, number> = {}
  for (const m of text.matchAll(/^kanshi_ingest_flow_wait_seconds_total\{reader="([^"]+)"\} (\S+)$/gm)) flowWaitS[m[1]!] = +Number(m[2]).toFixed(2)
  const ms = (sum: number, count: number): number => count === 0 ? 0 : +(sum * 1000 / count).toFixed(1)
  return {
    commits, commitMs: ms(metricSum(text, 'kanshi_wal_fsync_seconds_sum'), commits),
    writes, writeMs: ms(metricSum(text, 'kanshi_storage_write_duration_seconds_sum'), writes),
    flowWaitS, ackMs: ms(metricSum(text, 'kanshi_ack_latency_seconds_sum'), acks)
  }
}

/** influxd's own view of the writes it took: requests, mean duration, points. */
export interface InfluxDiag { requests: number, meanMs: number, points: number }

export async function influxDiag (url: string): Promise<InfluxDiag> {
  const v = await (await fetch(`${url}/debug/vars`)).json() as Record<string, { name?: string, values?: Record<string, number> }>
  let requests = 0; let ns = 0; let points = 0
  for (const x of Object.values(v)) {
    if (x?.name === 'httpd' && x.values !== undefined) { requests += x.values['writeReq'] ?? 0; ns += x.values['writeReqDurationNs'] ?? 0 }
    if (x?.name === 'write' && x.values !== undefined) points += x.values['pointReq'] ?? 0
  }
  return { requests, meanMs: requests === 0 ? 0 : +(ns / requests / 1e6).toFixed(1), points }
}

export function diagText (c: CollectorDiag | undefined, i: InfluxDiag): string {
  const flow = c === undefined ? '' : Object.entries(c.flowWaitS).map(([k, v]) => `${k} ${v} s`).join(', ')
  return (c === undefined ? '' : `WAL ${c.commits} commits ${c.commitMs} ms; writes ${c.writes} × ${c.writeMs} ms; ack ${c.ackMs} ms; flow waits ${flow || 'none'}; `) +
    `influxd ${i.requests} writes × ${i.meanMs} ms, ${i.points} points`
}

/** Per-core jiffies from /proc/stat: busy and idle (idle + iowait), to see whether a pinned core waited. */
export type CoreTimes = Array<{ busy: number, idle: number, iowait: number }>

export function coreTimes (): CoreTimes {
  const out: CoreTimes = []
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line)
    if (m === null) continue
    const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2]!.trim().split(/\s+/).map(Number) as number[]
    out[Number(m[1])] = { busy: user! + nice! + system! + irq! + softirq! + steal!, idle: idle!, iowait: iowait! }
  }
  return out
}

/** idleText: each core's idle and iowait fractions between two readings, e.g. "cpu0 idle 0.41 (iowait 0.02)". */
export function idleText (a: CoreTimes, b: CoreTimes): string {
  return b.map((x, i) => {
    const busy = x.busy - a[i]!.busy; const idle = x.idle - a[i]!.idle; const io = x.iowait - a[i]!.iowait
    const all = busy + idle + io
    return all === 0 ? `cpu${i} -` : `cpu${i} idle ${((idle + io) / all).toFixed(2)} (iowait ${(io / all).toFixed(2)})`
  }).join(', ')
}
