// A collector and an agent as real processes, configured for a test: the
// shared setup of the end-to-end and durability suites.

import { join } from 'node:path'
import type { Test } from 'tap'
import { agentEntries, viewerApi, writeConfig } from './config.js'
import { spawnProgram, freePort, type Program } from './procs.js'
import { tmpDir } from './tmp.js'

export interface StackOptions {
  influx: Record<string, unknown>
  agentId: string
  role?: string
  site?: string
  /** agents[].devices: the devices this agent may poll (ping, SNMP) */
  devices?: boolean | string[]
  /** the agent's opening hours on the collector (agents[].schedule) */
  schedule?: string
  inputs?: string[]
  push?: boolean
  /** collector.yaml keys over the defaults (api: the test viewer token, asViewer in config.ts) */
  collector?: Record<string, unknown>
  alerting?: Record<string, unknown>
  /** extra agent.yaml keys (logs, checks …) */
  agent?: Record<string, unknown>
  /** environment of the collector process (KANSHI_* secrets) */
  collectorEnv?: NodeJS.ProcessEnv
}

export interface Stack {
  dir: string
  port: number
  /** push endpoint URL of the agent (when push is on) */
  pushUrl: string
  startCollector(): Promise<Program>
  /** startAgent runs the agent; env adds variables (e.g. LD_PRELOAD for libfaketime) */
  startAgent(env?: NodeJS.ProcessEnv): Promise<Program>
}

export async function makeStack (t: Test, o: StackOptions): Promise<Stack> {
  const dir = await tmpDir(t)
  const port = await freePort()
  const pushPort = await freePort()
  const { agents, tokens } = agentEntries([{ id: o.agentId, role: o.role ?? 'server', site: o.site ?? 's', ...(o.schedule !== undefined ? { schedule: o.schedule } : {}), ...(o.devices !== undefined ? { devices: o.devices } : {}) }])
  writeConfig(join(dir, 'collector.yaml'), {
    listen: { host: '127.0.0.1', port },
    dataDir: join(dir, 'collector'),
    influx: { flushInterval: '100ms', ...o.influx },
    ingest: { defaultInterval: '1s' },
    ...(o.alerting !== undefined ? { alerting: o.alerting } : {}),
    agents,
    api: viewerApi(),
    ...o.collector
  })
  writeConfig(join(dir, 'agent.yaml'), {
    id: o.agentId,
    collector: { url: `ws://127.0.0.1:${port}/v1/agent`, backoffMin: '50ms', backoffMax: '1s' },
    interval: '1s',
    dataDir: join(dir, 'agent'),
    ...(o.inputs !== undefined ? { inputs: { enabled: o.inputs } } : {}),
    // The kiosk app of these tests names its counter in a tag: allowed, as its agent.yaml would (push.allowTags).
    ...(o.push === true ? { push: { enabled: true, port: pushPort, allowTags: ['counter'] } } : {}),
    ...o.agent
  })
  return {
    dir,
    port,
    pushUrl: `http://127.0.0.1:${pushPort}/v1/push`,
    startCollector: async () => {
      const c = await spawnProgram(t, 'collector', ['--config', join(dir, 'collector.yaml')], o.collectorEnv !== undefined ? { env: o.collectorEnv } : {})
      await c.waitForLine(l => l.includes('collector listening'), 20_000)
      return c
    },
    startAgent: async (env: NodeJS.ProcessEnv = {}) => {
      const a = await spawnProgram(t, 'agent', ['--config', join(dir, 'agent.yaml')], { env: { ...env, KANSHI_AGENT_TOKEN: tokens[o.agentId] } })
      await a.waitForLine(l => l.includes(o.push === true ? 'push endpoint listening' : 'agent started'), 20_000)
      return a
    }
  }
}

/** countSeqtest reads count and sum of the pusher's numbered points for a host. */
/** missingSeqtest names the confirmed numbers InfluxDB lacks, as ranges ("1200-1499"), for a failed run's comment. */
export async function missingSeqtest (query: (url: string, db: string, q: string) => Promise<any>, url: string, host: string, confirmed: readonly number[]): Promise<string> {
  const r = await query(url, 'kanshi', `SELECT n FROM seqtest WHERE host = '${host}'`)
  const have = new Set<number>((r.results[0].series?.[0]?.values ?? []).map((v: unknown[]) => v[1] as number))
  const gone = [...confirmed].filter(n => !have.has(n)).sort((a, b) => a - b)
  const ranges: string[] = []
  for (let i = 0; i < gone.length;) {
    let j = i
    while (j + 1 < gone.length && gone[j + 1] === gone[j]! + 1) j++
    ranges.push(i === j ? String(gone[i]) : `${gone[i]}-${gone[j]}`)
    i = j + 1
  }
  return ranges.join(', ')
}

export async function countSeqtest (query: (url: string, db: string, q: string) => Promise<any>, url: string, host: string): Promise<[number, number]> {
  const r = await query(url, 'kanshi', `SELECT count(n), sum(n) FROM seqtest WHERE host = '${host}'`)
  return r.results[0].series?.[0]?.values?.[0]?.slice(1) ?? [0, 0]
}
