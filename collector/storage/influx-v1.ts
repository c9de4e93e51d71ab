// InfluxDB 1.x back end: POST /write?db=&rp=&precision=ms with line protocol;
// the database is created when missing.

import type { SendResult, StorageBackend } from './backend.js'
import { classifyStatus, networkFailure } from './backend.js'

export interface InfluxV1Options {
  url: string
  db: string
  rp?: string
  username?: string
  password?: string
  timeoutMs: number
}

export class InfluxV1 implements StorageBackend {
  readonly name = 'influxdb-v1'
  private readonly base: string
  private readonly headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' }

  constructor (private readonly o: InfluxV1Options) {
    this.base = o.url.replace(/\/+$/, '')
    if (o.username !== undefined && o.username !== '') {
      this.headers['authorization'] = 'Basic ' + Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')
    }
  }

  async write (lines: string[]): Promise<SendResult> {
    const q = new URLSearchParams({ db: this.o.db, precision: 'ms' })
    if (this.o.rp !== undefined && this.o.rp !== '') q.set('rp', this.o.rp)
    try {
      const res = await fetch(`${this.base}/write?${q.toString()}`, {
        method: 'POST', headers: this.headers, body: lines.join('\n'), signal: AbortSignal.timeout(this.o.timeoutMs)
      })
      const body = res.status === 204 ? '' : await res.text()
      // 1.x answers 404 "database not found" when the database was dropped: retry after prepare().
      return classifyStatus(res.status, body, res.headers.get('retry-after'))
    } catch (err) {
      return networkFailure(err)
    }
  }

  async query (q: string): Promise<unknown> {
    const res = await fetch(`${this.base}/query`, {
      method: 'POST',
      headers: { ...this.headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ q, db: this.o.db, epoch: 'ms' }).toString(),
      signal: AbortSignal.timeout(this.o.timeoutMs)
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`InfluxDB query failed: HTTP ${res.status}: ${text.slice(0, 300)}`)
    return JSON.parse(text)
  }

  async prepare (): Promise<SendResult> {
    try {
      await this.query(`CREATE DATABASE "${this.o.db.replace(/["\\]/g, '\\$&')}"`)
      return { kind: 'ok' }
    } catch (err) {
      return networkFailure(err)
    }
  }

  async ping (): Promise<boolean> {
    try {
      const res = await fetch(`${this.base}/ping`, { signal: AbortSignal.timeout(Math.min(this.o.timeoutMs, 5000)) })
      await res.arrayBuffer()
      return res.status === 204 || res.status === 200
    } catch {
      return false
    }
  }

  async close (): Promise<void> {}
}
