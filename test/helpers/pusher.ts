// Streams numbered points into an agent's push endpoint and remembers which
// ones the agent confirmed (200 = on the agent's disk), for durability tests.

export interface Pusher {
  /** numbers the agent confirmed */
  confirmed: number[]
  stop(): Promise<void>
}

export function startPusher (url: string, opts: { perRequest?: number, everyMs?: number, base?: number } = {}): Pusher {
  const per = opts.perRequest ?? 10
  const every = opts.everyMs ?? 50
  const base = opts.base ?? Date.now()
  const confirmed: number[] = []
  let next = 0
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const nums = Array.from({ length: per }, (_, i) => next + i)
      const body = JSON.stringify({ points: nums.map(n => ({ m: 'seqtest', t: base + n, tags: {}, f: { n } })) })
      try {
        const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(5000) })
        if (res.status === 200) { confirmed.push(...nums); next += per }
        await res.arrayBuffer()
      } catch { /* agent busy or restarting: the same numbers are tried again */ }
      await new Promise(resolve => setTimeout(resolve, every))
    }
  })()
  return { confirmed, stop: async () => { stopped = true; await loop } }
}
