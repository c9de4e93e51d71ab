// InfluxDB 1.x back end: POST /write?db=&rp=&precision=ms with line protocol;
// the database and its retention policies (raw, rollup, logs) are created when missing.

import type { SendResult } from '../../common/send-result.js'
import type { StorageBackend, Target } from './backend.js'
import { classifyStatus, networkFailure } from './backend.js'

function quoteIdent (s: string): string {
  return '"' + s.replace(/["\\]/g, '\\$&') + '"'
}

interface Policy { name: string, duration: string }

/** quoteTag quotes a tag value as an InfluxQL string literal. */
function quoteString (s: string): string {
  return "'" + s.replace(/['\\]/g, '\\$&') + "'"
}

export interface InfluxV1Options {
  url: string
  db: string
  rp?: string
  username?: string
  password?: string
  timeoutMs: number
  /** retention policies to create or alter at prepare(); raw becomes the database default */
  retention?: { raw: Policy, rollup: Policy, logs?: Policy }
  /** told once when the user may not create the database or the policies (not an admin): they are left to an administrator */
  onNote?: (message: string) => void
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

  async write (lines: string[], target: Target = 'raw'): Promise<SendResult> {
    return await this.post(lines.join('\n'), target)
  }

  /** writeBody sends lines already joined and encoded (collector/storage/line-body.ts): no join, no encode. */
  async writeBody (body: Buffer, _lines: number, target: Target = 'raw'): Promise<SendResult> {
    return await this.post(body, target)
  }

  /** the /write URL of each target, made once */
  private readonly urls = new Map<Target, string>()

  private writeUrl (target: Target): string {
    let url = this.urls.get(target)
    if (url !== undefined) return url
    const q = new URLSearchParams({ db: this.o.db, precision: 'ms' })
    // Unmanaged retention: log events go beside the raw data, rollups to the database default.
    const rp = target === 'rollup' ? this.o.retention?.rollup.name : target === 'logs' ? this.o.retention?.logs?.name ?? this.o.rp : this.o.rp
    if (rp !== undefined && rp !== '') q.set('rp', rp)
    url = `${this.base}/write?${q.toString()}`
    this.urls.set(target, url)
    return url
  }

  private async post (body: string | Buffer, target: Target): Promise<SendResult> {
    try {
      const res = await fetch(this.writeUrl(target), {
        method: 'POST', headers: this.headers, body, signal: AbortSignal.timeout(this.o.timeoutMs)
      })
      const answer = res.status === 204 ? '' : await res.text()
      // 1.x answers 404 "database not found" when the database was dropped: retry after prepare().
      return classifyStatus(res.status, answer, res.headers.get('retry-after'))
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

  /**
   * prepare creates the database and the retention policies. A write-only user (403) is a normal
   * set-up: it is noted once and writing goes ahead; a missing database then shows as a write's 404.
   */
  async prepare (): Promise<SendResult> {
    try {
      const db = quoteIdent(this.o.db)
      if (!await this.admin(`CREATE DATABASE ${db}`)) {
        this.note(`InfluxDB user ${JSON.stringify(this.o.username ?? '')} may not create database ${this.o.db} (needs admin): writing to it as it is; an administrator creates it and its retention policies (docs/configuration.md)`)
        return { kind: 'ok' }
      }
      const r = this.o.retention
      if (r !== undefined) {
        const have = await this.retentionPolicies()
        const policies: Array<readonly [Policy, boolean]> = [[r.raw, true], [r.rollup, false], ...(r.logs !== undefined ? [[r.logs, false] as const] : [])]
        for (const [p, isDefault] of policies) {
          const verb = have.has(p.name) ? 'ALTER' : 'CREATE'
          if (!await this.admin(`${verb} RETENTION POLICY ${quoteIdent(p.name)} ON ${db} DURATION ${p.duration} REPLICATION 1${isDefault ? ' DEFAULT' : ''}`)) {
            this.note(`InfluxDB user may not manage retention policies on ${this.o.db}: leaving ${p.name} to an administrator`)
            break
          }
        }
      }
      return { kind: 'ok' }
    } catch (err) {
      return networkFailure(err)
    }
  }

  private noted = new Set<string>()
  private note (message: string): void {
    if (this.noted.has(message)) return
    this.noted.add(message)
    this.o.onNote?.(message)
  }

  /** admin runs a statement that needs admin rights: false when InfluxDB refuses it with 403. */
  private async admin (stmt: string): Promise<boolean> {
    try {
      await this.query(stmt)
      return true
    } catch (err) {
      if (/HTTP 403\b/.test(String((err as Error).message))) return false
      throw err
    }
  }

  private async retentionPolicies (): Promise<Set<string>> {
    const r = await this.query(`SHOW RETENTION POLICIES ON ${quoteIdent(this.o.db)}`) as { results?: Array<{ series?: Array<{ values?: unknown[][] }> }> }
    return new Set((r.results?.[0]?.series?.[0]?.values ?? []).map(v => String(v[0])))
  }

  /**
   * deleteLogs runs DELETE FROM log_event WHERE <tags> AND time < before. InfluxDB 1.x deletes in
   * every retention policy of the database (DELETE takes no policy); log_event lives only in the logs one.
   */
  async deleteLogs (where: Record<string, string>, before: number): Promise<SendResult> {
    const conds = Object.entries(where).map(([k, v]) => `${quoteIdent(k)} = ${quoteString(v)}`)
    try {
      const r = await this.query(`DELETE FROM "log_event" WHERE ${[...conds, `time < ${Math.floor(before)}ms`].join(' AND ')}`) as { results?: Array<{ error?: string }> }
      // A statement's error (database not found) comes back in an HTTP 200 answer.
      const error = r.results?.[0]?.error
      return error === undefined ? { kind: 'ok' } : { kind: 'retry', reason: `DELETE: ${error}` }
    } catch (err) {
      const m = /HTTP (\d+): ([^]*)$/.exec(String((err as Error).message))
      if (m !== null) return classifyStatus(Number(m[1]), m[2]!, null)
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
