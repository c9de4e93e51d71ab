// A real VictoriaMetrics (Debian package victoria-metrics) per test: it accepts
// InfluxDB line protocol on /api/v2/write and names series <measurement>_<field>.

import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { freePort, waitFor } from './procs.js'
import { tmpDir } from './tmp.js'

export async function withVictoria (t: Test): Promise<{ url: string }> {
  const dir = await tmpDir(t)
  const port = await freePort()
  const child = spawn('victoria-metrics', ['-storageDataPath', dir, '-httpListenAddr', `127.0.0.1:${port}`, '-loggerLevel', 'ERROR'], { stdio: 'ignore' })
  const failed = new Promise<never>((_resolve, reject) => child.once('error', err => reject(new Error(`victoria-metrics could not start (apt-get install victoria-metrics): ${err.message}`))))
  const exited = new Promise(resolve => child.once('exit', resolve))
  t.teardown(async () => { child.kill('SIGTERM'); await exited })
  const url = `http://127.0.0.1:${port}`
  await Promise.race([failed, waitFor(async () => (await fetch(`${url}/health`)).ok, 20_000, 100)])
  return { url }
}

export interface VmSeries { metric: Record<string, string>, values: number[], timestamps: number[] }

/** vmExport flushes VictoriaMetrics' buffers and returns the series matching a selector. */
export async function vmExport (url: string, match: string): Promise<VmSeries[]> {
  await fetch(`${url}/internal/force_flush`).then(async r => await r.arrayBuffer())
  const res = await fetch(`${url}/api/v1/export`, { method: 'POST', body: new URLSearchParams({ 'match[]': match }) })
  const text = await res.text()
  return text.split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l) as VmSeries)
}
