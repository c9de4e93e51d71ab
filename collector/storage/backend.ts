// The interface of a storage back end, and how an HTTP answer maps to a SendResult.
// Back ends try once; RetryingBackend (retrying-backend.ts) wraps them with the retry policy.

import type { SendResult } from '../../common/send-result.js'

/** where a line goes: raw data, 5-minute rollups, or log events (their own retention) */
export type Target = 'raw' | 'rollup' | 'logs'

export interface StorageBackend {
  readonly name: string
  /** write sends lines of line protocol (ms precision) in one request, to the raw, rollup or logs retention. */
  write(lines: string[], target?: Target): Promise<SendResult>
  /** writeBody sends `lines` lines already joined as UTF-8 bytes (collector/storage/line-body.ts); absent when the back end takes lines only */
  writeBody?(body: Buffer, lines: number, target?: Target): Promise<SendResult>
  /** ping tells whether the server answers at all (for /readyz). */
  ping(): Promise<boolean>
  /** prepare creates what the back end needs (the database on 1.x); retried by the caller. */
  prepare(): Promise<SendResult>
  close(): Promise<void>
  /** deleteLogs removes log_event points of matching tags older than before (influx.retention.logsBy); absent when the back end cannot */
  deleteLogs?(where: Record<string, string>, before: number): Promise<SendResult>
}

/** classifyStatus maps an HTTP status to a decision; 2xx is ok. */
export function classifyStatus (status: number, body: string, retryAfter: string | null): SendResult {
  if (status >= 200 && status < 300) return { kind: 'ok' }
  const reason = `HTTP ${status}: ${body.trim().slice(0, 300)}`
  if (status === 429 || status === 503) {
    const after = parseRetryAfter(retryAfter)
    return after === undefined ? { kind: 'retry', reason, status } : { kind: 'retry', reason, status, afterMs: after }
  }
  // Bad data: retrying the same bytes cannot help. 413: the caller splits the batch.
  if (status === 400 || status === 413 || status === 422) return { kind: 'fail', reason, status }
  // 401/403/404 and 5xx: a config fix or a recovered server helps; the WAL holds the data meanwhile.
  return { kind: 'retry', reason, status }
}

/** parseRetryAfter reads seconds or an HTTP date. */
function parseRetryAfter (v: string | null, now = Date.now()): number | undefined {
  if (v === null || v === '') return undefined
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000)
  const d = Date.parse(v)
  return Number.isNaN(d) ? undefined : Math.max(0, d - now)
}

export function networkFailure (err: unknown): SendResult {
  const e = err as { name?: string, code?: string, cause?: { code?: string }, message?: string }
  const code = e.cause?.code ?? e.code ?? e.name ?? 'error'
  return { kind: 'retry', reason: `${code}: ${e.message ?? String(err)}`.slice(0, 300) }
}
