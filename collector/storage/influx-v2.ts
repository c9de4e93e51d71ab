// InfluxDB 2.x back end through @influxdata/influxdb-client's WriteApi, with
// the client's own batching and retries turned off: RetryingBackend retries, and
// the WAL is the buffer, so nothing sits only in the client's memory.

import { HttpError, InfluxDB, setLogger, type WriteApi } from '@influxdata/influxdb-client'
import type { SendResult } from '../../common/send-result.js'
import type { StorageBackend, Target } from './backend.js'
import { classifyStatus, networkFailure } from './backend.js'

export interface InfluxV2Options {
  url: string
  token: string
  org: string
  bucket: string
  timeoutMs: number
  /** the most lines one write() gets; the client's buffer must never flush on its own */
  maxLines: number
  /** the bucket for 5-minute rollups (created by the operator with its own retention) */
  rollupBucket: string
  /** the bucket for log events (created by the operator with the logs retention) */
  logBucket: string
}

// The client logs every failed write to the console; RetryingBackend logs failures once, through pino.
setLogger({ error: () => {}, warn: () => {} })

export class InfluxV2 implements StorageBackend {
  readonly name = 'influxdb-v2'
  private readonly apis: Record<Target, WriteApi>
  private readonly base: string

  constructor (private readonly o: InfluxV2Options) {
    this.base = o.url.replace(/\/+$/, '')
    const client = new InfluxDB({ url: this.base, token: o.token, timeout: o.timeoutMs })
    const options = {
      // The client preallocates batchSize slots and flushes by itself (swallowing errors) when a
      // buffer fills: keep both limits above what one write() hands it.
      batchSize: o.maxLines + 1,
      maxBatchBytes: Number.MAX_SAFE_INTEGER,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: Number.MAX_SAFE_INTEGER,
      gzipThreshold: 64 * 1024
    }
    this.apis = {
      raw: client.getWriteApi(o.org, o.bucket, 'ms', options),
      rollup: client.getWriteApi(o.org, o.rollupBucket, 'ms', options),
      logs: client.getWriteApi(o.org, o.logBucket, 'ms', options)
    }
  }

  async write (lines: string[], target: Target = 'raw'): Promise<SendResult> {
    const api = this.apis[target]
    api.writeRecords(lines)
    try {
      await api.flush(true)
      return { kind: 'ok' }
    } catch (err) {
      if (err instanceof HttpError) {
        const ra = err.headers?.['retry-after']
        return classifyStatus(err.statusCode, err.body ?? err.message, typeof ra === 'string' ? ra : null)
      }
      return networkFailure(err)
    }
  }

  async prepare (): Promise<SendResult> { return { kind: 'ok' } }

  /** deleteLogs asks POST /api/v2/delete for log_event points of matching tags older than before, in the log bucket. */
  async deleteLogs (where: Record<string, string>, before: number): Promise<SendResult> {
    const predicate = ['_measurement="log_event"', ...Object.entries(where).map(([k, v]) => `${k}="${v.replace(/["\\]/g, '\\$&')}"`)].join(' AND ')
    const q = new URLSearchParams({ org: this.o.org, bucket: this.o.logBucket })
    try {
      const res = await fetch(`${this.base}/api/v2/delete?${q.toString()}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Token ${this.o.token}` },
        body: JSON.stringify({ start: '1970-01-01T00:00:00Z', stop: new Date(Math.floor(before)).toISOString(), predicate }),
        signal: AbortSignal.timeout(this.o.timeoutMs)
      })
      return classifyStatus(res.status, res.status === 204 ? '' : await res.text(), res.headers.get('retry-after'))
    } catch (err) {
      return networkFailure(err)
    }
  }

  async ping (): Promise<boolean> {
    for (const path of ['/health', '/ping']) {
      try {
        const res = await fetch(this.base + path, { signal: AbortSignal.timeout(Math.min(this.o.timeoutMs, 5000)) })
        await res.arrayBuffer()
        if (res.ok) return true
      } catch { /* try the next one */ }
    }
    return false
  }

  async close (): Promise<void> {
    await Promise.all(Object.values(this.apis).map(async a => await a.close().catch(() => {})))
  }
}
