// What one send to InfluxDB or SMTP ends in: done, try again (after afterMs when the
// server said when), or refused for good. Retry policies wrap senders; senders never loop.

export type SendResult =
  | { kind: 'ok' }
  | { kind: 'retry', reason: string, afterMs?: number, status?: number }
  | { kind: 'fail', reason: string, status?: number }

/** Refused is a send refused for good: retrying the same bytes cannot help. */
export type Refused = Extract<SendResult, { kind: 'fail' }>
