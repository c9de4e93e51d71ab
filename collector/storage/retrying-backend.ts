// A storage back end wrapped with the retry policy, same interface (after OpenTelemetry's
// RetryingTransport): `retry` results are tried again with jittered backoff or the server's
// Retry-After until the write lands or the signal aborts; `fail` is handed back at once.

import { setTimeout as delay } from 'node:timers/promises'
import type { Logger } from 'pino'
import { backoffDelay, type BackoffPolicy } from '../../common/backoff.js'
import type { SendResult } from '../../common/send-result.js'
import type { Metrics } from '../metrics.js'
import type { StorageBackend, Target } from './backend.js'

export interface RetryingBackendOptions {
  metrics: Pick<Metrics, 'storageUp' | 'writeRetries' | 'writeDuration' | 'pointsWritten'>
  logger: Logger
  /** first backoff (ms), default 500 */
  minBackoffMs?: number
  /** largest backoff (ms), default 30 s */
  maxBackoffMs?: number
  random?: () => number
  /** aborting it ends the retries: a write or prepare then returns its last `retry` result */
  signal?: AbortSignal
  /** sleep waits ms, or less when signal aborts; tests pass one that records the delay */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>
  /** a monotonic clock (ms) for the write duration */
  now?: () => number
  /** the target's name: the `target` label of the metrics (several InfluxDB targets) */
  target?: string
  /** giveUp, when it says true, ends the retries like the signal (the target's backlog is being skipped) */
  giveUp?: () => boolean
}

async function sleep (ms: number, signal: AbortSignal | undefined): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => {})
}

export class RetryingBackend implements StorageBackend {
  /** healthy is false from the first failed attempt until the next good write */
  healthy = false
  lastError: string | undefined
  private preparing: Promise<SendResult> | undefined
  private readonly policy: BackoffPolicy
  private readonly sleep: NonNullable<RetryingBackendOptions['sleep']>
  private readonly now: () => number

  constructor (readonly inner: StorageBackend, private readonly o: RetryingBackendOptions) {
    this.policy = { minMs: o.minBackoffMs ?? 500, maxMs: o.maxBackoffMs ?? 30_000, random: o.random }
    this.sleep = o.sleep ?? sleep
    this.now = o.now ?? (() => performance.now())
  }

  get name (): string { return this.inner.name }

  /** labels of this back end's metrics: backend, and target when named */
  private get labels (): { backend: string, target?: string } {
    return this.o.target === undefined ? { backend: this.name } : { backend: this.name, target: this.o.target }
  }

  /** write returns ok once the lines are stored, fail when refused for good, retry only when aborted. */
  async write (lines: string[], target: Target = 'raw'): Promise<SendResult> {
    return await this.retried(() => this.inner.write(lines, target), lines.length)
  }

  /** writeBody is write for a body of `lines` lines already in bytes (the inner back end must take bodies). */
  async writeBody (body: Buffer, lines: number, target: Target = 'raw'): Promise<SendResult> {
    const inner = this.inner
    if (inner.writeBody === undefined) throw new Error(`${inner.name} takes lines, not a body`)
    return await this.retried(() => inner.writeBody!(body, lines, target), lines)
  }

  private async retried (send: () => Promise<SendResult>, count: number): Promise<SendResult> {
    const { metrics } = this.o
    const labels = this.labels
    for (let attempt = 0; ; attempt++) {
      const prepared = this.prepare()
      const p = await prepared
      if (p.kind !== 'ok') return p
      const t0 = this.now()
      const r = await send()
      metrics.writeDuration.observe({ ...labels, result: r.kind }, (this.now() - t0) / 1000)
      if (r.kind === 'ok') {
        if (!this.healthy && this.lastError !== undefined) this.o.logger.info('storage writes succeed again')
        this.healthy = true
        metrics.storageUp.set(labels, 1)
        metrics.pointsWritten.inc(labels, count)
        return r
      }
      if (r.kind === 'fail') return r
      metrics.writeRetries.inc(labels)
      this.failed(r.reason)
      // 1.x answers 404 when the database was dropped: prepare() creates it again before the next attempt.
      if (r.status === 404 && this.preparing === prepared) this.preparing = undefined
      if (await this.wait(r.afterMs ?? backoffDelay(this.policy, attempt))) return r
    }
  }

  /** prepare runs the inner prepare() until it succeeds, once for all writes (again after a 404). */
  prepare (): Promise<SendResult> {
    this.preparing ??= this.prepareUntilOk()
    return this.preparing
  }

  private async prepareUntilOk (): Promise<SendResult> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.inner.prepare()
      if (r.kind === 'ok') return r
      this.failed(r.reason)
      if (await this.wait(backoffDelay(this.policy, attempt))) {
        this.preparing = undefined
        return { kind: 'retry', reason: r.reason }
      }
    }
  }

  /** wait sleeps ms; it says true when the retries are to end (aborted). */
  private async wait (ms: number): Promise<boolean> {
    if (this.aborted()) return true
    await this.sleep(ms, this.o.signal)
    return this.aborted()
  }

  private aborted (): boolean { return this.o.signal?.aborted === true || this.o.giveUp?.() === true }

  private failed (reason: string): void {
    if (this.healthy || this.lastError === undefined) this.o.logger.warn({ reason }, 'storage write failing; data is kept in the WAL and retried')
    this.healthy = false
    this.lastError = reason
    this.o.metrics.storageUp.set(this.labels, 0)
  }

  async ping (): Promise<boolean> { return await this.inner.ping() }

  async close (): Promise<void> { await this.inner.close() }
}
