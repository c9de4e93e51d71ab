// The agent's loop: start every input, then every interval, aligned to the
// wall clock, gather the polled ones into one batch, spool it durably, and let
// the transport send it.

import { hostname, platform } from 'node:os'
import type { Logger } from 'pino'
import type { LogEvent, Point } from '../protocol/messages.js'
import { VERSION } from '../protocol/version.js'
import type { AgentConfig } from './config.js'
import { PointAccumulator, type Input, type InputContext } from './inputs/input.js'
import { SelfInput } from './inputs/self.js'
import { Spool } from './spool.js'
import { Transport } from './transport.js'

export const AGENT_VERSION = VERSION

export interface AgentOptions {
  config: AgentConfig
  logger: Logger
  inputs: Input[]
  now?: () => number
}

/** nextTick returns the next multiple of interval after now: ticks land on :00, :10, :20 … */
export function nextTick (now: number, intervalMs: number): number {
  return (Math.floor(now / intervalMs) + 1) * intervalMs
}

export class Agent {
  spool!: Spool
  transport!: Transport
  private timer: NodeJS.Timeout | undefined
  private ticking: Promise<void> | undefined
  private stopped = false
  private readonly inputs: Input[]
  private readonly errorSeen = new Map<string, string>()
  private readonly now: () => number
  private adding: Promise<unknown> = Promise.resolve()
  gathers = 0

  constructor (private readonly o: AgentOptions) {
    this.now = o.now ?? Date.now
    this.inputs = [...o.inputs]
  }

  async start (): Promise<void> {
    const c = this.o.config
    this.spool = await Spool.open(c.dataDir, c.spool.maxBytes)
    this.spool.onDrop = (d, totals) => {
      if (d.released > 0) this.o.logger.warn({ releasedBatches: d.released, totalReleasedBatches: this.spool.releasedBatches }, `spool full (${c.spool.maxBytes} bytes): deleted ${d.released} acked batches before they were stored (the collector's WAL still holds them)`)
      if (d.batches > 0) this.o.logger.error({ droppedBatches: d.batches, droppedPoints: d.points, totalDroppedBatches: totals.batches, totalDroppedPoints: totals.points }, `spool full (${c.spool.maxBytes} bytes): dropped the oldest ${d.batches} batches`)
    }
    this.transport = new Transport({
      urls: c.collector.urls,
      preferFirstAfterMs: c.collector.preferFirstAfter,
      token: c.collector.token,
      ...(c.collector.ca !== undefined ? { ca: c.collector.ca } : {}),
      insecureSkipVerify: c.collector.insecureSkipVerify,
      hello: { id: c.id, hostname: hostname(), role: c.role, site: c.site, version: AGENT_VERSION, os: platform(), labels: c.labels, intervalMs: c.interval },
      spool: this.spool,
      logger: this.o.logger.child({ component: 'transport' }),
      backoffMinMs: c.collector.backoffMin,
      backoffMaxMs: c.collector.backoffMax,
      pingIntervalMs: c.collector.pingInterval,
      maxInflight: c.collector.maxInflight
    })
    this.inputs.push(new SelfInput(this.spool, this.transport))
    const started: Input[] = []
    try {
      for (const input of this.inputs) {
        await input.start?.(this.context(input.name))
        started.push(input)
      }
    } catch (err) {
      for (const input of started.reverse()) await input.close?.().catch(() => {})
      throw err
    }
    this.o.logger.info({ id: c.id, spooled: this.spool.batches, lastSeq: this.spool.highestSeq, intervalMs: c.interval, inputs: this.inputs.map(i => i.name) }, 'agent started')
    this.transport.start()
    this.schedule()
  }

  /** context is what a long-running input gets at start: a child logger, the spool and its saved cursor. */
  private context (name: string): InputContext {
    return {
      logger: this.o.logger.child({ input: name }),
      enqueue: async (points, events, cursors) => await this.enqueue(points, events, cursors),
      saveCursors: async cursors => await this.saveCursors(cursors),
      savedCursor: key => this.spool.cursor(key)
    }
  }

  private schedule (): void {
    if (this.stopped) return
    const now = this.now()
    const at = nextTick(now, this.o.config.interval)
    this.timer = setTimeout(() => {
      this.ticking = this.tick(at).finally(() => { this.ticking = undefined; this.schedule() })
    }, at - now)
  }

  /** tick gathers every polled input in parallel, each bounded by the interval, and spools one batch. */
  async tick (t: number): Promise<void> {
    const acc = new PointAccumulator(t)
    const budget = Math.max(100, Math.floor(this.o.config.interval * 0.8))
    await Promise.all(this.inputs.map(async input => {
      if (input.gather === undefined) return
      let timer: NodeJS.Timeout | undefined
      try {
        await Promise.race([
          input.gather(acc, t),
          new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`gather took longer than ${budget}ms`)), budget) })
        ])
        this.errorSeen.delete(input.name)
      } catch (err) {
        this.noteInputError(input.name, err)
      } finally {
        clearTimeout(timer)
      }
    }))
    this.gathers++
    if (acc.points.length === 0) return
    await this.enqueue(acc.points)
  }

  /**
   * enqueue spools a batch (serialised, so seqs follow arrival order) and wakes
   * the transport. cursors are the producing input's positions, saved with it.
   */
  enqueue (points: Point[], events: LogEvent[] = [], cursors?: Record<string, unknown>): Promise<number> {
    const p = this.adding.then(async () => await this.spool.add(points, events, cursors))
    this.adding = p.catch(() => {})
    return p.then(seq => { this.transport.notify(); return seq })
  }

  /** saveCursors records an input's position when it read lines that produced no batch. */
  saveCursors (cursors: Record<string, unknown>): Promise<void> {
    const p = this.adding.then(async () => await this.spool.saveCursors(cursors))
    this.adding = p.catch(() => {})
    return p
  }

  /** An input's error is logged when it first appears or changes, not every interval. */
  private noteInputError (name: string, err: unknown): void {
    const msg = err instanceof AggregateError ? err.errors.map(e => String((e as Error).message ?? e)).join('; ') : String((err as Error).message ?? err)
    if (this.errorSeen.get(name) === msg) return
    this.errorSeen.set(name, msg)
    this.o.logger.warn({ input: name, err: msg }, 'input failed')
  }

  /**
   * stop closes the inputs newest first while the spool is still served (the
   * log input's last round spools what was written since), then the transport.
   */
  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    await this.ticking
    for (const input of [...this.inputs].reverse()) {
      try { await input.close?.() } catch (err) { this.noteInputError(input.name, err) }
    }
    await this.adding
    await this.transport?.stop()
  }
}
