// Stored acknowledgements (protocol 2): which of an agent's acked batches every storage target
// holds. Per agent, a short queue of (WAL end position, seq) of batches acked and not yet stored;
// when the storage position passes an entry, the agent may delete its batches through that seq.

import type { Position } from '../state/wal/index.js'

/** at most this many queued entries per agent; when full, every second one is dropped (stored acks then come coarser) */
export const MAX_ENTRIES_PER_AGENT = 64

/** What the tracker reads the storage position from: storage.storedPosition()/onStored() (h-store's shape). */
export interface StoredSource {
  storedPosition(): Position
  onStored(cb: (pos: Position) => void): () => void
}

interface Queue {
  /** flat (segment, offset, seq) triples, ordered by seq */
  q: number[]
  /** highest seq known stored: every batch of the agent at or below it is in storage */
  stored: number
}

const atOrBefore = (seg: number, off: number, p: Position): boolean => seg < p.segment || (seg === p.segment && off <= p.offset)

export class StoredTracker {
  /** one queue per agent seen (an empty one is a few dozen bytes) */
  private readonly agents = new Map<string, Queue>()
  private readonly listeners = new Map<string, (seq: number) => void>()
  private pos: Position
  /** entries dropped to keep the bound (the stored ack for them comes with a later one) */
  thinned = 0

  /** acked gives an agent's highest durable seq (SeqStore.acked): all of it is stored when nothing is queued */
  constructor (private readonly acked: (agent: string) => number, start: Position = { segment: 0, offset: 0 }) {
    this.pos = { ...start }
  }

  /** size is the number of queued entries, all agents (a gauge). */
  get size (): number {
    let n = 0
    for (const a of this.agents.values()) n += a.q.length / 3
    return n
  }

  /**
   * noteAcked records that seq of agent is durable in the WAL up to end. Called in WAL order per
   * agent; an entry already passed by the storage position counts as stored at once.
   */
  noteAcked (agent: string, seq: number, end: Position): void {
    let a = this.agents.get(agent)
    if (a === undefined) {
      // A new queue starts below seq: the batches before it were stored, or never were this collector's.
      a = { q: [], stored: Math.min(this.acked(agent), seq - 1) }
      this.agents.set(agent, a)
    }
    if (atOrBefore(end.segment, end.offset, this.pos) && a.q.length === 0) {
      if (seq > a.stored) { a.stored = seq; this.listeners.get(agent)?.(seq) }
      return
    }
    // Keep the queue ordered by seq (appends of one agent land in seq order, almost always at the end).
    let i = a.q.length
    while (i > 0 && a.q[i - 1]! > seq) i -= 3
    a.q.splice(i, 0, end.segment, end.offset, seq)
    if (a.q.length / 3 > MAX_ENTRIES_PER_AGENT) this.thin(a)
  }

  /** thin drops every second entry but the newest: stored acks then advance in larger steps, never too far. */
  private thin (a: Queue): void {
    const out: number[] = []
    const n = a.q.length / 3
    for (let k = 0; k < n; k++) {
      if (k % 2 === 0 && k !== n - 1) { this.thinned++; continue }
      out.push(a.q[3 * k]!, a.q[3 * k + 1]!, a.q[3 * k + 2]!)
    }
    a.q = out
  }

  /** storedSeq is what welcome.storedSeq reports for the agent. */
  storedSeq (agent: string): number {
    const a = this.agents.get(agent)
    if (a === undefined) return this.acked(agent)
    return a.q.length === 0 ? Math.max(a.stored, this.acked(agent)) : a.stored
  }

  /** advance moves the storage position and tells each listening agent its new stored seq. */
  advance (pos: Position): void {
    if (atOrBefore(pos.segment, pos.offset, this.pos)) return
    this.pos = { ...pos }
    for (const [agent, a] of this.agents) {
      let k = 0
      while (k < a.q.length && atOrBefore(a.q[k]!, a.q[k + 1]!, pos)) k += 3
      if (k === 0) continue
      a.stored = Math.max(a.stored, a.q[k - 1]!)
      a.q.splice(0, k)
      this.listeners.get(agent)?.(a.stored)
    }
  }

  /** listen sends the agent's stored seq to a session as it moves; the returned function stops it. */
  listen (agent: string, send: (seq: number) => void): () => void {
    this.listeners.set(agent, send)
    return () => { if (this.listeners.get(agent) === send) this.listeners.delete(agent) }
  }

  /** follow subscribes the tracker to a storage source. */
  follow (src: StoredSource): () => void {
    this.advance(src.storedPosition())
    return src.onStored(pos => this.advance(pos))
  }
}
