// tcp check: can host:port be connected to, and how long did it take.

import { connect } from 'node:net'
import type { Check } from './types.js'

export function tcpCheck (host: string, port: number): Check {
  return signal => new Promise(resolve => {
    const t0 = performance.now()
    const s = connect({ host, port, signal })
    s.once('connect', () => {
      const ms = Math.round(performance.now() - t0)
      s.destroy()
      resolve({ up: true, message: `connected to ${host}:${port}`, responseMs: ms })
    })
    s.once('error', err => { s.destroy(); resolve({ up: false, message: `${(err as NodeJS.ErrnoException).code ?? err.name}: ${host}:${port}` }) })
  })
}
