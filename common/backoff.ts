// Exponential backoff with equal jitter, the one used by every retry in kanshi
// (agent reconnects, storage writes, the mail outbox): half the capped delay
// fixed, half random, so a fleet that lost the same peer does not return in step.

export interface BackoffPolicy {
  /** first delay's cap (ms) */
  minMs: number
  /** largest delay (ms) */
  maxMs: number
  /** a random source in [0, 1); tests pass a fixed one */
  random?: () => number
}

/** backoffDelay is the delay before retry number attempt (0 for the first retry). */
export function backoffDelay (p: BackoffPolicy, attempt: number): number {
  const cap = Math.min(p.maxMs, p.minMs * 2 ** Math.min(Math.max(0, attempt), 30))
  return Math.round(cap / 2 + (p.random ?? Math.random)() * cap / 2)
}
