// The agent's side of protocol v1: connect with the token, hello → welcome,
// send spooled batches in seq order with a bounded window, drop them from the
// spool on ack, and reconnect with capped, jittered exponential backoff.

import { readFileSync } from 'node:fs'
import WebSocket from 'ws'
import type { Logger } from 'pino'
import { PROTOCOL_VERSION, validateAck, validateErrorFrame, validateWelcome } from '../protocol/messages.js'
import { Errors } from '../protocol/errors.js'
import { backoffDelay } from '../common/backoff.js'
import type { Spool } from './spool.js'

export interface TransportOptions {
  url: string
  token: string
  ca?: string
  insecureSkipVerify?: boolean
  hello: { id: string, hostname: string, role: string, site: string, version: string, os: string, labels: Record<string, string>, intervalMs: number }
  spool: Spool
  logger: Logger
  backoffMinMs: number
  backoffMaxMs: number
  pingIntervalMs: number
  maxInflight: number
  /** no ack for this long while batches are in flight: the connection is judged stuck */
  ackTimeoutMs?: number
  random?: () => number
  now?: () => number
}

export type TransportState = 'idle' | 'connecting' | 'ready' | 'backoff' | 'stopped'

export class Transport {
  state: TransportState = 'idle'
  private skewAt: { skew: number, wall: number, mono: number } | undefined
  connects = 0
  private ws: WebSocket | undefined
  private attempt = 0
  private lastSent = 0
  private readonly inflight = new Set<number>()
  private timer: NodeJS.Timeout | undefined
  private pinger: NodeJS.Timeout | undefined
  private lastAckAt = 0
  private lastError = ''
  private pumping = false
  private readonly ca: Buffer | undefined
  private readonly random: () => number
  private readonly now: () => number

  constructor (private readonly o: TransportOptions) {
    this.ca = o.ca === undefined ? undefined : readFileSync(o.ca)
    this.random = o.random ?? Math.random
    this.now = o.now ?? Date.now
  }

  start (): void {
    if (this.state !== 'idle') return
    this.connect()
  }

  /** stop closes the connection; unacked batches stay in the spool for the next start. */
  async stop (): Promise<void> {
    this.state = 'stopped'
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (this.pinger !== undefined) clearInterval(this.pinger)
    const ws = this.ws
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return
    await new Promise<void>(resolve => {
      const t = setTimeout(() => { ws.terminate(); resolve() }, 2000)
      ws.once('close', () => { clearTimeout(t); resolve() })
      ws.close(1001, 'agent stopping')
    })
  }

  /** notify tells the transport a new batch is in the spool. */
  notify (): void {
    if (this.state === 'ready') void this.pump()
  }

  private connect (): void {
    if (this.state === 'stopped') return
    this.state = 'connecting'
    this.connects++
    const ws = new WebSocket(this.o.url, {
      headers: { authorization: `Bearer ${this.o.token}` },
      handshakeTimeout: 10_000,
      maxPayload: 1024 * 1024,
      ...(this.ca !== undefined ? { ca: this.ca } : {}),
      ...(this.o.insecureSkipVerify === true ? { rejectUnauthorized: false } : {})
    })
    this.ws = ws
    let helloAt = 0
    ws.on('open', () => {
      helloAt = this.now()
      ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, agent: this.o.hello }))
    })
    ws.on('unexpected-response', (_req, res) => {
      this.o.logger.warn({ status: res.statusCode }, res.statusCode === 401 ? 'collector refused the agent token (HTTP 401): check collector.token and the collector\'s agents list' : 'collector refused the connection')
      res.resume()
      ws.terminate()
    })
    ws.on('message', data => { void this.onMessage(data.toString(), helloAt) })
    ws.on('pong', () => { alive = true })
    ws.on('error', err => {
      // Refused connections and certificate errors are what operators need to see: once per distinct cause.
      if (err.message !== this.lastError) this.o.logger.warn({ err: err.message, url: this.o.url }, 'cannot connect to collector')
      this.lastError = err.message
    })
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()))
    let alive = true
    if (this.pinger !== undefined) clearInterval(this.pinger)
    this.pinger = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return
      const stuck = this.inflight.size > 0 && this.now() - this.lastAckAt > (this.o.ackTimeoutMs ?? 60_000)
      if (!alive || stuck) {
        this.o.logger.warn({ stuck }, stuck ? 'no ack from the collector in time; reconnecting' : 'collector did not answer ping; reconnecting')
        ws.terminate()
        return
      }
      alive = false
      ws.ping()
    }, this.o.pingIntervalMs)
    this.pinger.unref()
  }

  private async onMessage (text: string, helloAt: number): Promise<void> {
    let msg: unknown
    try { msg = JSON.parse(text) } catch { this.o.logger.warn('collector sent a frame that is not JSON'); return }
    const type = (msg as { type?: unknown }).type
    if (type === 'ack' && validateAck(msg)) {
      this.lastAckAt = this.now()
      this.inflight.delete(msg.seq)
      await this.o.spool.remove(msg.seq)
      void this.pump()
    } else if (type === 'welcome' && validateWelcome(msg)) {
      await this.onWelcome(msg.ackedSeq, msg.serverTime, helloAt)
    } else if (type === 'error' && validateErrorFrame(msg)) {
      const known = (Errors as Record<string, { final: boolean } | undefined>)[msg.code]
      this.o.logger.error({ code: msg.code, seq: msg.seq, reason: msg.message }, 'collector refused a frame')
      if (msg.seq !== undefined && (known?.final ?? true) && this.o.spool.has(msg.seq)) {
        // Refused for good (bad shape, too large): keeping it would block nothing but waste the spool.
        this.inflight.delete(msg.seq)
        this.o.spool.rejectedBatches++
        await this.o.spool.remove(msg.seq)
        void this.pump()
      }
    } else {
      this.o.logger.warn({ type }, 'collector sent an unexpected frame')
    }
  }

  /**
   * clockSkewMs is the collector's clock minus the agent's (ms), measured at the
   * last welcome and carried forward by the monotonic clock: a step of the
   * agent's wall clock (NTP, an operator) shows in the next `agent` point, not
   * only after the next reconnect.
   */
  get clockSkewMs (): number {
    const a = this.skewAt
    if (a === undefined) return 0
    return Math.round(a.skew - ((this.now() - a.wall) - (performance.now() - a.mono)))
  }

  private async onWelcome (ackedSeq: number, serverTime: number, helloAt: number): Promise<void> {
    const now = this.now()
    this.skewAt = { skew: serverTime - (helloAt + (now - helloAt) / 2), wall: now, mono: performance.now() }
    const spool = this.o.spool
    if (await spool.continueAfter(ackedSeq)) {
      this.o.logger.warn({ ackedSeq }, 'collector holds higher seqs than this agent assigned (data dir reset?); continuing above them')
    }
    await spool.removeThrough(ackedSeq)
    this.lastSent = ackedSeq
    this.inflight.clear()
    this.lastAckAt = now
    this.attempt = 0
    this.lastError = ''
    this.state = 'ready'
    this.o.logger.info({ ackedSeq, pending: spool.batches, clockSkewMs: this.clockSkewMs }, 'connected to collector')
    void this.pump()
  }

  /** pump sends spooled batches above lastSent, oldest first, while the window has room. */
  private async pump (): Promise<void> {
    if (this.pumping) return
    this.pumping = true
    try {
      while (this.state === 'ready' && this.inflight.size < this.o.maxInflight) {
        const ws = this.ws
        if (ws === undefined || ws.readyState !== WebSocket.OPEN) return
        if (ws.bufferedAmount > 4 * 1024 * 1024) {
          setTimeout(() => { void this.pump() }, 50).unref()
          return
        }
        const seq = this.o.spool.firstAfter(this.lastSent)
        if (seq === undefined) return
        const frame = await this.o.spool.frame(seq)
        this.lastSent = seq
        if (frame === undefined) continue // dropped from a full spool meanwhile
        if (this.state !== 'ready' || ws !== this.ws) return
        this.inflight.add(seq)
        ws.send(frame)
      }
    } finally {
      this.pumping = false
    }
  }

  private onClose (ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return
    this.inflight.clear()
    if (this.pinger !== undefined) clearInterval(this.pinger)
    if (this.state === 'stopped') return
    const wasReady = this.state === 'ready'
    this.state = 'backoff'
    const delay = backoffDelay({ minMs: this.o.backoffMinMs, maxMs: this.o.backoffMaxMs, random: this.random }, this.attempt++)
    this.o.logger[wasReady ? 'warn' : 'info']({ code, reason, retryInMs: delay, spooled: this.o.spool.batches }, 'disconnected from collector; batches stay spooled')
    this.timer = setTimeout(() => this.connect(), delay)
  }
}
