// A TCP proxy on a free loopback port in front of a target, to cut a network path in tests.
// `pass` forwards both ways. `blackhole` keeps every connection open and lets no byte through
// either way, and accepts new connections without ever connecting them onwards (a pulled cable,
// a dropping firewall). As TCP would retransmit them, the withheld bytes reach the other side
// when the path heals (`pass`); `reset` destroys every connection and refuses new ones.

import { createServer, connect, type Server, type Socket } from 'node:net'
import type { Test } from 'tap'

export type ProxyMode = 'pass' | 'blackhole' | 'reset'

export interface ProxyStats {
  /** client connections open now */
  open: number
  /** client connections accepted since the start */
  accepted: number
  /** bytes that went through, both directions summed */
  forwarded: number
  /** bytes withheld by the blackhole since the start (delivered later on heal, or dropped on reset) */
  swallowed: number
}

export interface Blackhole {
  port: number
  /** target with its host:port replaced by the proxy's (postgres://u@127.0.0.1:PROXY/db) */
  url(target: string): string
  mode(): ProxyMode
  set(mode: ProxyMode): void
  stats(): ProxyStats
  close(): Promise<void>
}

/** One client connection: its upstream (once connected) and the bytes held each way. */
interface Pair { client: Socket, upstream: Socket | undefined, toUp: Buffer[], toClient: Buffer[] }

/** startBlackhole listens on 127.0.0.1:<free port> in `pass` mode; closed at teardown when t is given. */
export async function startBlackhole (target: { host: string, port: number }, t?: Test): Promise<Blackhole> {
  let mode: ProxyMode = 'pass'
  const pairs = new Set<Pair>()
  const counts = { accepted: 0, forwarded: 0, swallowed: 0 }

  const send = (dest: Socket | undefined, queue: Buffer[], chunk: Buffer, from: Socket): void => {
    if (mode !== 'pass' || dest === undefined || dest.connecting || queue.length > 0) {
      // Bytes waiting only for the upstream's connect are not the blackhole's.
      if (mode !== 'pass') counts.swallowed += chunk.length
      queue.push(chunk)
      return
    }
    counts.forwarded += chunk.length
    // Backpressure: hold the reader while the writer's buffer is full.
    if (!dest.write(chunk)) { from.pause(); dest.once('drain', () => from.resume()) }
  }

  const flush = (dest: Socket | undefined, queue: Buffer[]): void => {
    if (dest === undefined || dest.destroyed || dest.connecting) return
    for (const b of queue.splice(0)) { counts.forwarded += b.length; dest.write(b) }
  }

  const drop = (p: Pair, hard = false): void => {
    if (!pairs.delete(p)) return
    if (hard) p.client.resetAndDestroy(); else p.client.destroy()
    if (hard) p.upstream?.resetAndDestroy(); else p.upstream?.destroy()
  }

  function open (p: Pair): void {
    const up = connect(target.port, target.host)
    p.upstream = up
    up.setNoDelay(true)
    up.on('connect', () => { if (mode === 'pass') flush(up, p.toUp) })
    up.on('data', (chunk: Buffer) => { send(p.client, p.toClient, chunk, up) })
    up.on('error', () => { drop(p) })
    // The target went away: the client sees it, unless the path is cut (then it sees nothing).
    up.on('close', () => { if (mode === 'pass') drop(p) })
  }

  const server: Server = createServer(client => {
    counts.accepted++
    if (mode === 'reset') { client.resetAndDestroy(); return }
    client.setNoDelay(true)
    const p: Pair = { client, upstream: undefined, toUp: [], toClient: [] }
    pairs.add(p)
    client.on('data', (chunk: Buffer) => { send(p.upstream, p.toUp, chunk, client) })
    client.on('error', () => { drop(p) })
    client.on('close', () => { drop(p) })
    // Cut: accepted, never connected onwards; the client waits for an answer that does not come.
    if (mode === 'pass') open(p)
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const port = (server.address() as { port: number }).port

  const bh: Blackhole = {
    port,
    url: target2 => {
      const u = new URL(target2)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    mode: () => mode,
    set: next => {
      mode = next
      if (next === 'reset') {
        for (const p of [...pairs]) drop(p, true)
      } else if (next === 'pass') {
        for (const p of [...pairs]) {
          if (p.upstream === undefined) open(p)
          else if (p.upstream.destroyed) drop(p)
          else { flush(p.upstream, p.toUp); flush(p.client, p.toClient) }
        }
      }
    },
    stats: () => ({ open: pairs.size, ...counts }),
    close: async () => {
      for (const p of [...pairs]) drop(p)
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
  t?.teardown(async () => { await bh.close() })
  return bh
}
