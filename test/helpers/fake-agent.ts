// One fake agent over a real WebSocket, speaking the agent protocol
// (docs/protocol.md): connect with a token, hello, send batches or raw frames,
// and wait for the collector's frames with timeouts whose failures say what came.

import type { Test } from 'tap'
import WebSocket from 'ws'

export interface FakeAgentOptions {
  /** sent as "Authorization: Bearer <token>"; none: no Authorization header */
  token?: string
  /** more upgrade headers (they win over the token's) */
  headers?: Record<string, string>
  /** the id its hello claims (default web01) */
  id?: string
  localAddress?: string
  /** how long the upgrade and each wait may take (default 15 s) */
  timeoutMs?: number
}

export class FakeAgent {
  /** every frame received, parsed, in order (next() consumes a queue; this keeps them all) */
  readonly frames: any[] = []
  /** socket errors (a write to a socket the collector cut, say); they are not thrown */
  readonly errors: Error[] = []
  /** the close code, once the socket closed */
  readonly closed: Promise<number>
  #queue: any[] = []
  #code: number | undefined
  readonly #waiters = new Set<() => void>()

  constructor (readonly ws: WebSocket, readonly id: string, readonly timeoutMs: number) {
    ws.on('message', d => {
      const text = d.toString()
      let m: unknown
      try { m = JSON.parse(text) } catch { m = text }
      this.frames.push(m)
      this.#queue.push(m)
      this.#wake()
    })
    ws.on('error', err => this.errors.push(err))
    this.closed = new Promise(resolve => ws.on('close', code => { this.#code = code; resolve(code); this.#wake() }))
  }

  /** hello sends a hello for this agent; fields override the agent's defaults. */
  hello (fields: Record<string, unknown> = {}, protocol = 1): void {
    this.send({ type: 'hello', protocol, agent: { id: this.id, hostname: this.id, role: 'server', site: 'x', version: '0.1.0', os: 'linux', labels: {}, ...fields } })
  }

  /** greet says hello and returns the welcome, failing if the next frame is anything else. */
  async greet (fields: Record<string, unknown> = {}, protocol = 1): Promise<any> {
    this.hello(fields, protocol)
    return await this.expect('welcome')
  }

  /** send sends a frame: an object as JSON text, a string or Buffer as is (binary: as a binary frame). */
  send (frame: string | Buffer | object, binary = false): void {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame), { binary })
  }

  batch (seq: number, points: unknown[], extra: Record<string, unknown> = {}): void {
    this.send({ type: 'batch', seq, points, ...extra })
  }

  /** next returns the next frame not yet taken. */
  async next (timeoutMs = this.timeoutMs): Promise<any> {
    return await this.#wait('a frame', () => this.#queue.length > 0 ? { frame: this.#queue.shift() } : undefined, timeoutMs)
  }

  /** expect returns the next frame, failing unless it has this type. */
  async expect (type: string, timeoutMs = this.timeoutMs): Promise<any> {
    const m = await this.next(timeoutMs)
    if (m?.type !== type) throw new Error(`fake agent ${this.id}: expected a ${type} frame, got ${JSON.stringify(m)}`)
    return m
  }

  /** waitFrame returns the first frame ever received that matches, waiting for it if need be; it takes nothing from next(). */
  async waitFrame (match: (m: any) => boolean, what = 'a matching frame', timeoutMs = this.timeoutMs): Promise<any> {
    return await this.#wait(what, () => { const i = this.frames.findIndex(match); return i >= 0 ? { frame: this.frames[i] } : undefined }, timeoutMs)
  }

  /** close closes the socket and returns its close code. */
  async close (): Promise<number> {
    this.ws.close()
    return await this.closed
  }

  #wake (): void { for (const w of [...this.#waiters]) w() }

  #wait (what: string, take: () => { frame: any } | undefined, timeoutMs: number): Promise<any> {
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => { done(); reject(new Error(`fake agent ${this.id}: ${why} while waiting for ${what}; last frames: ${JSON.stringify(this.frames.slice(-3)).slice(0, 500)}`)) }
      const check = (): void => {
        const got = take()
        if (got !== undefined) { done(); resolve(got.frame) } else if (this.#code !== undefined) fail(`the socket closed (${this.#code})`)
      }
      const timer = setTimeout(() => fail(`nothing within ${timeoutMs} ms`), timeoutMs)
      const done = (): void => { clearTimeout(timer); this.#waiters.delete(check) }
      this.#waiters.add(check)
      check()
    })
  }
}

/** connectAgent opens an agent WebSocket (nothing sent yet), failing if the upgrade is refused; teardown cuts it. */
export async function connectAgent (t: Test, url: string, o: FakeAgentOptions = {}): Promise<FakeAgent> {
  const a = await open(url, o)
  if (typeof a === 'number') throw new Error(`fake agent ${o.id ?? 'web01'}: the upgrade was refused with HTTP ${a}`)
  t.teardown(() => a.ws.terminate())
  return a
}

/** refusedStatus opens an upgrade that must be refused and returns its HTTP status. */
export async function refusedStatus (url: string, o: FakeAgentOptions = {}): Promise<number> {
  const a = await open(url, o)
  if (typeof a !== 'number') { a.ws.terminate(); throw new Error(`fake agent ${a.id}: the upgrade was accepted, a refusal was expected`) }
  return a
}

async function open (url: string, o: FakeAgentOptions): Promise<FakeAgent | number> {
  const timeoutMs = o.timeoutMs ?? 15_000
  const headers = { ...(o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {}), ...o.headers }
  const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs, ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}) })
  const agent = new FakeAgent(ws, o.id ?? 'web01', timeoutMs)
  return await new Promise((resolve, reject) => {
    ws.once('open', () => resolve(agent))
    ws.once('unexpected-response', (_req, res) => { res.resume(); ws.terminate(); resolve(res.statusCode!) })
    ws.once('error', err => reject(new Error(`fake agent ${agent.id}: cannot connect to ${url}: ${err.message}`)))
  })
}
