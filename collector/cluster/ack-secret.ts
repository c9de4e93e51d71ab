// The cluster's ack-link secret (kanshi_meta.ack_secret): the first node's own becomes everyone's,
// so a link verifies on any node. Started while PostgreSQL is unreachable, a node signs with its
// own until the shared one can be read (settle, before reconciliation), then switches to it.

import type { Pool } from './pg.js'

export interface SharedSecret {
  /** read: the shared secret, or (PostgreSQL unreachable) this node's own, kept to settle later */
  read: (local: Buffer) => Promise<Buffer>
  /** settle reads the shared secret if read could not; it throws PostgreSQL's error */
  settle: () => Promise<void>
  /** onSettled: set receives the shared secret when settle read it */
  onSettled: (set: (shared: Buffer) => void) => void
}

export function sharedSecret (pool: Pool): SharedSecret {
  let pending: Buffer | undefined
  let setter: ((shared: Buffer) => void) | undefined
  const fetch = async (local: Buffer): Promise<Buffer> => {
    await pool.query("INSERT INTO kanshi_meta (key, value) VALUES ('ack_secret', $1) ON CONFLICT (key) DO NOTHING", [local.toString('hex')])
    const r = await pool.query<{ value: string }>("SELECT value FROM kanshi_meta WHERE key = 'ack_secret'")
    return Buffer.from(r.rows[0]!.value, 'hex')
  }
  return {
    read: async local => {
      try {
        return await fetch(local)
      } catch {
        pending = local
        return local
      }
    },
    settle: async () => {
      if (pending === undefined) return
      const s = await fetch(pending)
      pending = undefined
      setter?.(s)
    },
    onSettled: set => { setter = set }
  }
}
