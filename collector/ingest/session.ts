// One agent connection: parse and validate each frame at the boundary, answer
// with welcome/ack/error frames, and close only this socket on abuse.

import { isUtf8 } from 'node:buffer'
import type { WebSocket, RawData } from 'ws'
import type { Logger } from 'pino'
import { Errors, type KanshiError, type ErrorCodeName } from '../../protocol/errors.js'
import { PROTOCOL_MIN, PROTOCOL_VERSION, validateBatch, validateHello, type Batch } from '../../protocol/messages.js'
import type { Metrics } from '../metrics.js'
import type { Identity } from './auth.js'
import type { Ingest, SessionHandle } from './ingest.js'
import type { StoredTracker } from './stored.js'

export interface SessionOptions {
  ingest: Ingest
  metrics: Metrics
  logger: Logger
  maxFrameBytes: number
  maxErrorsPerMinute: number
  pingIntervalMs?: number
  /** audit records a hello that claims another agent's id */
  audit?: (action: string, detail: Record<string, unknown>) => void
  /** the connection's TCP (or TLS) socket, corked while a group commit's acks go out */
  tcp?: { cork(): void, uncork(): void }
  /** the newest protocol accepted in hello (ingest.maxProtocol; default PROTOCOL_VERSION) */
  maxProtocol?: number
  /** stored acknowledgements; without them (WAL-only) a protocol-2 hello gets a protocol-1 welcome */
  stored?: StoredTracker
  /** frame bytes parsed and not yet acked above which the socket is not read (default 256 KiB) */
  maxPendingBytes?: number
}

/**
 * Parsed batches are objects on the heap until their group commit acks them: an agent with 64 frames
 * in flight would keep 30 MB of them alive, each copied twice by the young-generation GC. Past
 * this many frame bytes the socket is paused, so the rest wait as bytes in the kernel's buffers.
 */
const MAX_PENDING_BYTES = 256 * 1024

export class Session implements SessionHandle {
  private helloDone = false
  /** frame bytes handed to ingest and not yet answered; reading is paused above maxPendingBytes */
  private pendingBytes = 0
  private paused = false
  private readonly maxPendingBytes: number
  /** set once a batch could not be stored: later frames are ignored until the socket closes */
  private failing = false
  private closed = false
  private errors: number[] = []
  private alive = true
  private pinger: NodeJS.Timeout | undefined
  private readonly log: Logger
  /** ends the stored-ack subscription (protocol 2) */
  private unlisten: (() => void) | undefined

  constructor (private readonly ws: WebSocket, private readonly id: Identity, private readonly remote: string, private readonly o: SessionOptions) {
    this.log = o.logger.child({ agent: id.id, remote })
    this.maxPendingBytes = o.maxPendingBytes ?? MAX_PENDING_BYTES
    ws.on('message', (data, isBinary) => this.onFrame(data, isBinary))
    ws.on('close', () => this.onClose())
    ws.on('error', err => this.log.debug({ err }, 'socket error'))
    ws.on('pong', () => { this.alive = true })
    const every = o.pingIntervalMs ?? 30_000
    this.pinger = setInterval(() => {
      if (!this.alive) { this.ws.terminate(); return }
      this.alive = false
      this.ws.ping()
    }, every)
    this.pinger.unref()
  }

  get agentId (): string { return this.id.id }

  get tokenSha256 (): string | undefined { return this.id.tokenSha256 }

  close (code: number, reason: string): void {
    if (this.closed) return
    this.closed = true
    this.ws.close(code, reason)
    // A peer that never answers the close handshake is cut after 5 s.
    setTimeout(() => this.ws.terminate(), 5000).unref()
  }

  private onClose (): void {
    this.closed = true
    if (this.pinger !== undefined) clearInterval(this.pinger)
    this.unlisten?.()
    this.o.ingest.detach(this)
    this.o.metrics.connections.dec()
  }

  private corked = false

  /**
   * corkAcks holds this socket's writes until the acks of one group commit have all been sent: one
   * write for them, not one syscall each. process.nextTick runs after the promise jobs that send them.
   */
  private corkAcks (): void {
    const tcp = this.o.tcp
    if (tcp === undefined || this.corked) return
    this.corked = true
    tcp.cork()
    process.nextTick(() => { this.corked = false; tcp.uncork() })
  }

  private send (msg: object): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return
    this.ws.send(JSON.stringify(msg))
    this.o.metrics.framesOut.inc({ type: (msg as { type: string }).type })
  }

  /** refuse sends an error frame; repeated refusals close the socket with 1008. */
  private refuse (code: ErrorCodeName, detail: string, seq?: number): void {
    this.o.metrics.errors.inc({ code })
    const msg: Record<string, unknown> = { type: 'error', code, message: detail }
    if (seq !== undefined) msg['seq'] = seq
    this.send(msg)
    this.log.warn({ code, seq, detail: detail.slice(0, 200) }, 'frame refused')
    const now = Date.now()
    this.errors = this.errors.filter(t => now - t < 60_000)
    this.errors.push(now)
    if (this.errors.length > this.o.maxErrorsPerMinute) this.close(1008, 'too many bad frames')
  }

  private onFrame (data: RawData, isBinary: boolean): void {
    if (this.closed || this.failing) return
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
    if (buf.length > this.o.maxFrameBytes) return this.refuse('E_TOO_LARGE', `frame of ${buf.length} bytes exceeds ${this.o.maxFrameBytes}`)
    if (isBinary) return this.refuse('E_BAD_FRAME', 'binary frames are not part of protocol v1')
    if (!isUtf8(buf)) return this.refuse('E_BAD_UTF8', Errors.E_BAD_UTF8.message)
    let msg: unknown
    try {
      msg = JSON.parse(buf.toString('utf8'))
    } catch (err) {
      return this.refuse('E_BAD_FRAME', `not JSON: ${(err as Error).message.slice(0, 100)}`)
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg) || typeof (msg as { type?: unknown }).type !== 'string') {
      return this.refuse('E_BAD_FRAME', Errors.E_BAD_FRAME.message)
    }
    const type = (msg as { type: string }).type
    this.o.metrics.frames.inc({ type: type === 'hello' || type === 'batch' ? type : 'other' })
    if (type === 'hello') return this.onHello(msg)
    if (type === 'batch') return this.onBatch(msg, buf)
    this.refuse('E_UNKNOWN_TYPE', `unknown message type ${JSON.stringify(type.slice(0, 32))}`)
  }

  private onHello (msg: unknown): void {
    if (this.helloDone) return this.refuse('E_DUP_HELLO', Errors.E_DUP_HELLO.message)
    if (!validateHello(msg)) return this.refuse('E_BAD_HELLO', validateHello.describe())
    const max = this.o.maxProtocol ?? PROTOCOL_VERSION
    if (msg.protocol < PROTOCOL_MIN || msg.protocol > max) {
      this.refuse('E_PROTOCOL', `protocol ${msg.protocol} is not supported; this collector speaks ${PROTOCOL_MIN}${max > PROTOCOL_MIN ? ` to ${max}` : ''}`)
      return this.close(1002, 'unsupported protocol')
    }
    if (msg.agent.id !== this.id.id) {
      this.o.audit?.('agent.id_mismatch', { agent: this.id.id, claimed: msg.agent.id.slice(0, 128), remote: this.remote })
      this.refuse('E_ID_MISMATCH', `hello says agent ${JSON.stringify(msg.agent.id.slice(0, 64))} but the token belongs to ${this.id.id}`)
      return this.close(1008, 'agent id does not match token')
    }
    this.helloDone = true
    // Protocol 2 and up only where there is a storage position to report (not WAL-only); 3 adds columns.
    const stored = msg.protocol >= 2 ? this.o.stored : undefined
    const protocol = stored !== undefined ? msg.protocol : 1
    const info = { hostname: msg.agent.hostname, version: msg.agent.version, os: msg.agent.os, protocol, ...(msg.agent.intervalMs !== undefined ? { intervalMs: msg.agent.intervalMs } : {}) }
    this.o.ingest.attach(this, this.id, info, this.remote)
    this.log.info({ version: msg.agent.version, os: msg.agent.os, protocol }, 'agent connected')
    void this.o.ingest.ackedSeq(this.id.id).then(ackedSeq => {
      if (stored === undefined) {
        this.send({ type: 'welcome', protocol, ackedSeq, serverTime: Date.now() })
        return
      }
      this.send({ type: 'welcome', protocol, ackedSeq, storedSeq: Math.min(ackedSeq, stored.storedSeq(this.id.id)), serverTime: Date.now() })
      if (!this.closed) this.unlisten = stored.listen(this.id.id, seq => this.send({ type: 'stored', seq }))
    })
  }

  private onBatch (msg: unknown, frame: Buffer): void {
    const seq = typeof (msg as { seq?: unknown }).seq === 'number' ? (msg as { seq: number }).seq : undefined
    if (!this.helloDone) return this.refuse('E_NO_HELLO', Errors.E_NO_HELLO.message, seq)
    if (!validateBatch(msg)) return this.refuse('E_BAD_BATCH', validateBatch.describe(), seq)
    const t0 = performance.now()
    this.pendingBytes += frame.length
    if (!this.paused && this.pendingBytes > this.maxPendingBytes) { this.paused = true; this.ws.pause() }
    void this.o.ingest.accept(this.id, msg as Batch, frame).then(r => {
      this.pendingBytes -= frame.length
      if (this.paused && this.pendingBytes <= this.maxPendingBytes >> 1) { this.paused = false; this.ws.resume() }
      if (r.kind === 'ack') {
        this.corkAcks()
        this.send({ type: 'ack', seq: r.seq })
        this.o.metrics.ackLatency.observe((performance.now() - t0) / 1000)
        return
      }
      this.onStoreFailure(r.error, msg.seq)
    })
  }

  /**
   * onStoreFailure closes the socket rather than refuse the batch for good (the agent would drop
   * it); the agent resends from welcome.ackedSeq + 1 once it reconnects.
   */
  private onStoreFailure (err: KanshiError, seq: number): void {
    this.o.metrics.errors.inc({ code: err.code })
    if (this.closed || this.failing) return
    // Take no more frames, but let the acks of batches already durable go out first.
    this.failing = true
    this.log.warn({ code: err.code, seq, reason: err.message }, 'batch not stored; asking the agent to reconnect and resend')
    void this.o.ingest.settled().then(() => setImmediate(() => this.close(1013, err.code)))
  }
}
