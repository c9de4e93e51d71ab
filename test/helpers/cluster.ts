// Collectors as real processes in one cluster on a private PostgreSQL, each WAL-only (or on
// influxUrl), with alerting to the test SMTP server and a heartbeat rule; agents (real processes)
// with urls [c1, c2] (agentOrder: other indexes). pgUrls: a collector's own PostgreSQL URL (a
// proxy). The setup of the cluster tests.

import { join } from 'node:path'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import type { Test } from 'tap'
import { agentEntries, asViewer, viewerApi, writeConfig } from './config.js'
import { freePort, spawnProgram, type Program } from './procs.js'
import type { Postgres } from './postgres.js'
import type { Smtp } from './smtp.js'
import { tmpDir } from './tmp.js'

export interface ClusterSetup {
  dir: string
  ports: number[]
  agents: string[]
  /** each agent's token (for protocol clients of the test's own) */
  tokens: Record<string, string>
  startCollector(i: number): Promise<Program>
  startAgent(id: string): Promise<Program>
  /** a collector's /metrics value (undefined when it cannot be read) */
  metric(i: number, name: string): Promise<number | undefined>
  readyz(i: number): Promise<{ status: string, problems: string[], warnings?: string[] }>
}

export interface ClusterOptions {
  pg: Postgres
  smtp: Smtp
  collectors: number
  agents: string[]
  lease: string
  heartbeat: string
  hostDownAfterIntervals?: number
  /** per collector: the PostgreSQL url it uses instead of pg.url (a proxy in front, say) */
  pgUrls?: Array<string | undefined>
  /** an influxd the collectors write to (default: WAL-only) */
  influxUrl?: string
  /** per agent: the collectors (indexes) in its urls, in order (default: the first `urls`) */
  agentOrder?: Record<string, number[]>
  /** more alert rules (YAML), in rules/extra.yaml */
  rules?: string
  /** more alerting keys for every collector (routes …) */
  alerting?: Record<string, unknown>
  /** how many collectors are in the agents' urls (default 2: [c1, c2]) */
  urls?: number
  /** more agent.yaml keys per agent (checks …) */
  agentConfig?: (id: string) => Record<string, unknown>
  /** more cluster keys for every collector (degradedAfter …) */
  cluster?: Record<string, unknown>
}

export async function makeCluster (t: Test, o: ClusterOptions): Promise<ClusterSetup> {
  const dir = await tmpDir(t)
  const ports: number[] = []
  for (let i = 0; i < o.collectors; i++) ports.push(await freePort())
  const { agents, tokens } = agentEntries(o.agents.map(id => ({ id, role: 'server', site: 's' })))
  const rulesDir = join(dir, 'rules')
  mkdirSync(rulesDir)
  writeFileSync(join(rulesDir, 'hosts.yaml'), "- { name: host_down, type: heartbeat, severity: critical, summary: { ja: '{{host}} 停止', en: '{{host}} down' } }\n")
  if (o.rules !== undefined) writeFileSync(join(rulesDir, 'extra.yaml'), o.rules)
  for (let i = 0; i < o.collectors; i++) {
    writeConfig(join(dir, `c${i + 1}.yaml`), {
      listen: { host: '127.0.0.1', port: ports[i] },
      dataDir: join(dir, `c${i + 1}`),
      influx: o.influxUrl === undefined ? { version: 1, embedded: { enabled: false } } : { version: 1, url: o.influxUrl, db: 'kanshi' },
      ingest: { defaultInterval: '1s', hostDownAfterIntervals: o.hostDownAfterIntervals ?? 3 },
      agents,
      api: viewerApi(),
      alerting: {
        rulesDir,
        smtp: { host: '127.0.0.1', port: o.smtp.port, from: 'kanshi@example.jp', timeout: '2s' },
        receivers: [{ name: 'oncall', email: ['oncall@example.jp'], locale: 'ja' }, { name: 'ops-en', email: ['ops@example.jp'], locale: 'en' }],
        groupWait: '0s', groupInterval: '1s', repeatInterval: '1h',
        ...o.alerting
      },
      cluster: { node: `c${i + 1}`, postgres: { url: o.pgUrls?.[i] ?? o.pg.url, connectTimeout: '1s', statementTimeout: '2s' }, lease: o.lease, heartbeat: o.heartbeat, ...o.cluster }
    })
  }
  for (const id of o.agents) {
    writeConfig(join(dir, `${id}.yaml`), {
      id,
      collector: { urls: (o.agentOrder?.[id] ?? Array.from({ length: o.urls ?? 2 }, (_, i) => i)).map(i => `ws://127.0.0.1:${ports[i]}/v1/agent`) },
      interval: '1s',
      dataDir: join(dir, id),
      inputs: { enabled: ['cpu'] },
      ...o.agentConfig?.(id)
    })
  }
  // A failed test keeps every collector's log (the tmp dir goes) and prints the lines that explain a handover.
  const started: Array<{ name: string, p: Program }> = []
  t.teardown(() => {
    if (t.passing() || started.length === 0) return
    process.stderr.write(`--- the ${o.smtp.mails.length} mails received:\n${o.smtp.mails.map(m => `${new Date(m.at).toISOString()} ${m.to.join(',')} ${m.subject}`).join('\n')}\n`)
    const keep = mkdtempSync(join(tmpdir(), 'kanshi-cluster-logs-'))
    for (const { name, p } of started) {
      writeFileSync(join(keep, `${name}.log`), p.lines.join('\n') + '\n')
      const telling = p.lines.filter(l => /"level":(4|5|6)0|alert|lease|taken over|adopt|fenced/.test(l)).slice(-40)
      process.stderr.write(`--- ${name}: ${p.lines.length} log lines in ${keep}/${name}.log; the last that tell of alerting and leases:\n${telling.join('\n')}\n`)
    }
  })
  const metric = async (i: number, name: string): Promise<number | undefined> => {
    // A busy machine can hold a scrape for seconds: three tries of 5 s each before "not readable".
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const res = await fetch(`http://127.0.0.1:${ports[i]}/metrics`, { headers: asViewer, signal: AbortSignal.timeout(5000) })
        // name may carry labels, exactly as exposed: kanshi_frames_sent_total{type="ack"}
        const quoted = name.replace(/[{}()[\].*+?^$|\\]/g, '\\$&')
        const m = new RegExp(`^${quoted}${name.includes('{') ? '' : '(?:\\{[^}]*\\})?'} (\\S+)`, 'm').exec(await res.text())
        return m === null ? undefined : Number(m[1])
      } catch {
        // refused or timed out: try again
      }
    }
    return undefined
  }
  return {
    dir,
    ports,
    agents: o.agents,
    tokens,
    startCollector: async i => {
      const c = await spawnProgram(t, 'collector', ['--config', join(dir, `c${i + 1}.yaml`)], { env: { KANSHI_PG_PASSWORD: o.pg.password } })
      started.push({ name: `c${i + 1}`, p: c })
      await c.waitForLine(l => l.includes('collector listening'), 20_000)
      return c
    },
    startAgent: async id => await spawnProgram(t, 'agent', ['--config', join(dir, `${id}.yaml`)], { env: { KANSHI_AGENT_TOKEN: tokens[id] } }),
    metric,
    readyz: async i => await (await fetch(`http://127.0.0.1:${ports[i]}/readyz`, { headers: asViewer })).json() as { status: string, problems: string[], warnings?: string[] }
  }
}
