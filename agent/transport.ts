// The agent's side of the protocol: connect with the token, hello → welcome, send spooled batches
// in seq order with a bounded window (columns only at protocol 3); on ack drop them (protocol 1) or
// keep them until `stored` (protocol 2 and up); on a lost or refused connection try the next
// collector with jittered backoff, and return to the preferred one after preferFirstAfterMs.

import { readFileSync } from 'node:fs'
import WebSocket from 'ws'
import type { Logger } from 'pino'
import { PROTOCOL_MIN, PROTOCOL_VERSION, validateAck, validateErrorFrame, validateStored, validateWelcome } from '../protocol/messages.js'
import { Errors } from '../protocol/errors.js'
import { backoffDelay } from '../common/backoff.js'
import type { Spool } from './spool.js'
import { CollectorChoice, probe } from './collector-choice.js'

export interface TransportOptions {
  /** the collectors in order of preference (or url: one) */
  urls?: readonly string[]
  url?: string
  /** connected to another than the first for this long, try the first again (0: stay) */
  preferFirstAfterMs?: number
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
  private lastSent = 0
  private readonly inflight = new Set<number>()
  private timer: NodeJS.Timeout | undefined
  private pinger: NodeJS.Timeout | undefined
  private lastAckAt = 0
  private lastError = ''
  private pumping = false
  /** the protocol of the connection (from its welcome): 2 and up keep acked batches until stored, 3 sends columns */
  protocol = 0
  private readonly choice: CollectorChoice
  private preferTimer: NodeJS.Timeout | undefined
  private readonly ca: Buffer | undefined
  private readonly random: () => number
  private readonly now: () => number

  constructor (private readonly o: TransportOptions) {
    this.ca = o.ca === undefined ? undefined : readFileSync(o.ca)
    this.random = o.random ?? Math.random
    this.now = o.now ?? Date.now
    const urls = o.urls ?? (o.url !== undefined ? [o.url] : [])
    if (urls.length === 0) throw new Error('Transport: no collector URL')
    this.choice = new CollectorChoice(urls)
  }

  /** collectorIndex is the position in urls of the collector connected or being tried. */
  get collectorIndex (): number { return this.choice.index }
  get collectorUrl (): string { return this.choice.url }

  start (): void {
    if (this.state !== 'idle') return
    this.connect()
  }

  /** stop closes the connection; unacked batches stay in the spool for the next start. */
  async stop (): Promise<void> {
    this.state = 'stopped'
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (this.preferTimer !== undefined) clearTimeout(this.preferTimer)
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
    const url = this.choice.url
    const ws = new WebSocket(url, this.wsOptions())
    this.ws = ws
    let helloAt = 0
    ws.on('open', () => {
      helloAt = this.now()
      ws.send(JSON.stringify({ type: 'hello', protocol: this.choice.protocol(PROTOCOL_VERSION), agent: this.o.hello }))
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
      if (err.message !== this.lastError) this.o.logger.warn({ err: err.message, url }, 'cannot connect to collector')
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
      // Protocol 2: kept (marked acked, not sent to this collector again) until stored.
      if (this.protocol >= 2) this.o.spool.markAcked(msg.seq)
      else await this.o.spool.remove(msg.seq)
      void this.pump()
    } else if (type === 'stored' && validateStored(msg)) {
      await this.o.spool.removeThrough(msg.seq)
    } else if (type === 'welcome' && validateWelcome(msg)) {
      await this.onWelcome(msg.protocol, msg.ackedSeq, msg.storedSeq, msg.serverTime, helloAt)
    } else if (type === 'error' && validateErrorFrame(msg)) {
      const known = (Errors as Record<string, { final: boolean } | undefined>)[msg.code]
      if (msg.code === 'E_PROTOCOL' && this.state === 'connecting' && this.choice.downgrade(PROTOCOL_MIN, PROTOCOL_VERSION)) {
        // An older collector: say hello again with the protocol before (it closes this socket itself).
        this.o.logger.info({ url: this.choice.url, protocol: this.choice.protocol(PROTOCOL_VERSION) }, 'collector speaks an older protocol; reconnecting with it')
        return
      }
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

  /**
   * onWelcome: what this collector holds (ackedSeq) is not sent again; below storedSeq (protocol 2)
   * it is deleted. Batches above ackedSeq that another collector acked are sent marked resend.
   */
  private async onWelcome (protocol: number, ackedSeq: number, storedSeq: number | undefined, serverTime: number, helloAt: number): Promise<void> {
    const now = this.now()
    this.skewAt = { skew: serverTime - (helloAt + (now - helloAt) / 2), wall: now, mono: performance.now() }
    const spool = this.o.spool
    if (await spool.continueAfter(ackedSeq)) {
      this.o.logger.warn({ ackedSeq }, 'collector holds higher seqs than this agent assigned (data dir reset?); continuing above them')
    }
    // Stored acks need storedSeq; 3 (columns) builds on 2. Never above what this agent speaks.
    this.protocol = protocol >= 2 && storedSeq !== undefined ? Math.min(protocol, PROTOCOL_VERSION) : 1
    if (this.protocol >= 2) {
      await spool.removeThrough(Math.min(storedSeq!, ackedSeq))
      spool.markAckedThrough(ackedSeq)
    } else {
      await spool.removeThrough(ackedSeq)
    }
    this.lastSent = ackedSeq
    this.inflight.clear()
    this.lastAckAt = now
    this.lastError = ''
    this.state = 'ready'
    this.choice.connected()
    const resend = spool.seqsAfter(ackedSeq).filter(q => spool.isAcked(q)).length
    this.o.logger.info({ url: this.choice.url, collector: this.choice.index, protocol: this.protocol, ackedSeq, storedSeq, pending: spool.batches, resend, clockSkewMs: this.clockSkewMs }, 'connected to collector')
    if (resend > 0) this.o.logger.warn({ resend, url: this.choice.url }, `sending ${resend} batches again that another collector acked and had not stored`)
    this.schedulePreferred()
    void this.pump()
  }

  /** schedulePreferred: on a collector other than the first, look for a preferred one again later. */
  private schedulePreferred (): void {
    if (this.preferTimer !== undefined) clearTimeout(this.preferTimer)
    const after = this.o.preferFirstAfterMs ?? 0
    if (after <= 0 || this.choice.index === 0) return
    this.preferTimer = setTimeout(() => { void this.tryPreferred() }, after)
    this.preferTimer.unref()
  }

  /** tryPreferred probes the collectors before the current one; the first that takes the token wins. */
  private async tryPreferred (): Promise<void> {
    for (let i = 0; i < this.choice.index; i++) {
      const url = this.choice.urls[i]!
      if (!await probe(url, this.wsOptions())) continue
      // The connection may have moved meanwhile: switch only from one still behind this collector.
      if (this.state !== 'ready' || this.ws === undefined || i >= this.choice.index) return
      this.o.logger.info({ from: this.choice.url, to: url }, 'returning to the preferred collector')
      this.choice.switchTo(i)
      this.ws.close(1000, 'returning to the preferred collector')
      return
    }
    this.schedulePreferred()
  }

  private wsOptions (): WebSocket.ClientOptions {
    return {
      headers: { authorization: `Bearer ${this.o.token}` },
      handshakeTimeout: 10_000,
      maxPayload: 1024 * 1024,
      ...(this.ca !== undefined ? { ca: this.ca } : {}),
      ...(this.o.insecureSkipVerify === true ? { rejectUnauthorized: false } : {})
    }
  }

  /**
   * pump sends spooled batches above lastSent, oldest first, while the window has room. A pump that
   * outlives its connection (reading a batch file while it closed) leaves lastSent to the new one,
   * whose welcome set it, and starts the new connection's pump, which it had kept out.
   */
  private async pump (): Promise<void> {
    if (this.pumping) return
    this.pumping = true
    const started = this.ws
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
        // Acked by another collector before a failover: it goes to storage here, not to alerting again.
        const frame = await this.o.spool.frame(seq, this.protocol, this.o.spool.isAcked(seq))
        // Another connection meanwhile: its welcome set lastSent (this seq may be past what it holds).
        if (this.state !== 'ready' || ws !== this.ws) return
        this.lastSent = seq
        if (frame === undefined) continue // dropped from a full spool meanwhile
        this.inflight.add(seq)
        ws.send(frame)
      }
    } finally {
      this.pumping = false
      if (this.ws !== started && this.state === 'ready') void this.pump()
    }
  }

  /**
   * onClose: a protocol downgrade or a return to the preferred collector reconnects at once; any
   * other close moves on to the next collector, with backoff growing per round of the list.
   */
  private onClose (ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return
    this.inflight.clear()
    if (this.pinger !== undefined) clearInterval(this.pinger)
    if (this.preferTimer !== undefined) clearTimeout(this.preferTimer)
    if (this.state === 'stopped') return
    const wasReady = this.state === 'ready'
    this.state = 'backoff'
    const from = this.choice.url
    const now = this.choice.closed()
    const delay = now ? 0 : backoffDelay({ minMs: this.o.backoffMinMs, maxMs: this.o.backoffMaxMs, random: this.random }, this.choice.round())
    this.o.logger[wasReady && !now ? 'warn' : 'info']({ code, reason, url: from, next: this.choice.url, retryInMs: delay, spooled: this.o.spool.batches }, 'disconnected from collector; batches stay spooled')
    this.timer = setTimeout(() => this.connect(), delay)
  }
}
