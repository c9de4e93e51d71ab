// Two collectors (processes) on one influxd and an agent (process) with urls [c1, c2] fed by the
// pusher: the setup of the failover tests, and the measure SIGKILL → first ack sent by c2.

import { join } from 'node:path'
import type { Test } from 'tap'
import { agentEntries, asViewer, viewerApi, writeConfig } from './config.js'
import { freePort, spawnProgram, type Program } from './procs.js'
import { tmpDir } from './tmp.js'

export interface Failover {
  dir: string
  ports: [number, number]
  dataDirs: [string, string]
  pushUrl: string
  startCollector(i: 0 | 1): Promise<Program>
  startAgent(): Promise<Program>
  /** acksSent reads kanshi_frames_sent_total{type="ack"} of a collector (0 when it cannot be read) */
  acksSent(i: 0 | 1): Promise<number>
}

export async function makeFailover (t: Test, o: { influxUrl: string, maxProtocol: 1 | 2, flushInterval?: string }): Promise<Failover> {
  const dir = await tmpDir(t)
  const ports: [number, number] = [await freePort(), await freePort()]
  const pushPort = await freePort()
  const { agents, tokens } = agentEntries([{ id: 'fo', role: 'server', site: 's' }])
  const dataDirs: [string, string] = [join(dir, 'c1'), join(dir, 'c2')]
  for (const i of [0, 1] as const) {
    writeConfig(join(dir, `c${i + 1}.yaml`), {
      listen: { host: '127.0.0.1', port: ports[i] },
      dataDir: dataDirs[i],
      // A long flush interval: at the kill, seconds of acked points are in c1's WAL only.
      influx: { version: 1, url: o.influxUrl, db: 'kanshi', flushInterval: o.flushInterval ?? '3s' },
      ingest: { defaultInterval: '1s', maxProtocol: o.maxProtocol },
      agents,
      api: viewerApi()
    })
  }
  writeConfig(join(dir, 'agent.yaml'), {
    id: 'fo',
    // backoffMin and the rest at their defaults: the failover time measured is the one users get.
    collector: { urls: ports.map(p => `ws://127.0.0.1:${p}/v1/agent`) },
    interval: '1s',
    dataDir: join(dir, 'agent'),
    inputs: { enabled: ['cpu'] },
    push: { enabled: true, port: pushPort }
  })
  return {
    dir,
    ports,
    dataDirs,
    pushUrl: `http://127.0.0.1:${pushPort}/v1/push`,
    startCollector: async i => {
      const c = await spawnProgram(t, 'collector', ['--config', join(dir, `c${i + 1}.yaml`)])
      await c.waitForLine(l => l.includes('collector listening'), 20_000)
      return c
    },
    startAgent: async () => {
      const a = await spawnProgram(t, 'agent', ['--config', join(dir, 'agent.yaml')], { env: { KANSHI_AGENT_TOKEN: tokens['fo'] } })
      await a.waitForLine(l => l.includes('push endpoint listening'), 20_000)
      return a
    },
    acksSent: async i => {
      try {
        const res = await fetch(`http://127.0.0.1:${ports[i]}/metrics`, { headers: asViewer, signal: AbortSignal.timeout(2000) })
        const m = /^kanshi_frames_sent_total\{type="ack"\} (\d+)/m.exec(await res.text())
        return m === null ? 0 : Number(m[1])
      } catch {
        return 0
      }
    }
  }
}

/** untilAckedBy polls a collector's ack counter until it passes before; it returns the ms since start (performance.now()). */
export async function untilAckedBy (f: Failover, i: 0 | 1, before: number, start: number, timeoutMs = 30_000): Promise<number> {
  for (;;) {
    if (await f.acksSent(i) > before) return performance.now() - start
    if (performance.now() - start > timeoutMs) throw new Error(`collector ${i + 1} sent no ack within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}
