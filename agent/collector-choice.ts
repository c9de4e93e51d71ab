// Which collector the agent talks to: the list in order of preference, the next one after a lost
// or refused connection, backoff rounds over the whole list, and the protocol each one speaks.

import WebSocket from 'ws'

export class CollectorChoice {
  index = 0
  /** closes since the last welcome: a round is one try of every collector */
  private failures = 0
  /** the next reconnect goes to the same collector at once (protocol downgrade, return to the preferred) */
  private immediate = false
  /** protocols lowered for collectors that refused a newer one */
  private readonly lowered = new Map<number, number>()

  constructor (readonly urls: readonly string[]) {}

  get url (): string { return this.urls[this.index]! }

  /** protocol is what to say in hello to the current collector. */
  protocol (newest: number): number {
    return this.lowered.get(this.index) ?? newest
  }

  /** downgrade lowers the current collector's protocol by one (not below oldest); false when it cannot. */
  downgrade (oldest: number, newest: number): boolean {
    const p = this.protocol(newest)
    if (p <= oldest) return false
    this.lowered.set(this.index, p - 1)
    this.immediate = true
    return true
  }

  connected (): void {
    this.failures = 0
  }

  switchTo (i: number): void {
    this.index = i
    this.immediate = true
  }

  /**
   * closed moves on after a close: true when the reconnect is to go at once to the same (or the
   * chosen) collector, false when it moved to the next one and should back off first.
   */
  closed (): boolean {
    if (this.immediate) { this.immediate = false; return true }
    // It may have been upgraded meanwhile: offer the newest protocol again next time.
    this.lowered.delete(this.index)
    this.failures++
    this.index = (this.index + 1) % this.urls.length
    return false
  }

  /** round is how many times every collector was tried in vain (the backoff attempt). */
  round (): number {
    return Math.max(0, Math.floor((this.failures - 1) / this.urls.length))
  }
}

/** probe opens a connection with the agent's credentials and closes it: true when the upgrade succeeded. */
export async function probe (url: string, options: WebSocket.ClientOptions, timeoutMs = 10_000): Promise<boolean> {
  return await new Promise(resolve => {
    const ws = new WebSocket(url, { ...options, handshakeTimeout: timeoutMs })
    const done = (ok: boolean): void => { ws.removeAllListeners(); ws.on('error', () => {}); if (ok) ws.close(1000, 'probe'); else ws.terminate(); resolve(ok) }
    ws.once('open', () => done(true))
    ws.once('unexpected-response', (_req, res) => { res.resume(); done(false) })
    ws.once('error', () => done(false))
  })
}
