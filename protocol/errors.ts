// The one table of error codes: used in error frames, HTTP replies, logs and
// metric labels. Each key equals its code; docs/errors.md is kept in sync by a test.

export interface ErrorCode {
  readonly code: string
  readonly message: string
  /** HTTP status when the code is returned by the REST API or the upgrade. */
  readonly status: number
  /** true when the batch is refused for good: the agent drops it. */
  readonly final: boolean
}

function def (code: string, message: string, status: number, final: boolean): ErrorCode {
  return Object.freeze({ code, message, status, final })
}

export const Errors = Object.freeze({
  E_BAD_FRAME: def('E_BAD_FRAME', 'frame is not a JSON object with a valid "type"', 400, true),
  E_BAD_UTF8: def('E_BAD_UTF8', 'frame is not valid UTF-8 text', 400, true),
  E_UNKNOWN_TYPE: def('E_UNKNOWN_TYPE', 'unknown message type', 400, true),
  E_BAD_HELLO: def('E_BAD_HELLO', 'hello does not match the schema', 400, true),
  E_PROTOCOL: def('E_PROTOCOL', 'unsupported protocol version', 400, true),
  E_ID_MISMATCH: def('E_ID_MISMATCH', 'hello agent.id differs from the identity bound to the token', 403, true),
  E_NO_HELLO: def('E_NO_HELLO', 'batch sent before hello/welcome', 400, true),
  E_DUP_HELLO: def('E_DUP_HELLO', 'hello sent twice on one connection', 400, true),
  E_BAD_BATCH: def('E_BAD_BATCH', 'batch does not match the schema', 400, true),
  E_TOO_LARGE: def('E_TOO_LARGE', 'frame or batch exceeds a size limit', 413, true),
  E_AUTH: def('E_AUTH', 'missing or invalid agent token', 401, true),
  E_RATE_LIMIT: def('E_RATE_LIMIT', 'too many failed attempts or connections from this address', 429, true),
  E_WAL_FULL: def('E_WAL_FULL', 'write-ahead log is full; retry later', 503, false),
  E_SHUTTING_DOWN: def('E_SHUTTING_DOWN', 'collector is shutting down; retry later', 503, false),
  E_INTERNAL: def('E_INTERNAL', 'internal error; retry later', 500, false),
  E_BAD_REQUEST: def('E_BAD_REQUEST', 'the API request is malformed', 400, true),
  E_FORBIDDEN: def('E_FORBIDDEN', 'the API token lacks the role, or the acknowledge link is invalid or expired', 403, true),
  E_MEDIA_TYPE: def('E_MEDIA_TYPE', 'the request body has a content type the API does not accept (JSON only)', 415, true),
  E_NOT_FOUND: def('E_NOT_FOUND', 'no such alert, silence, maintenance window or route', 404, true),
  E_BAD_RULES: def('E_BAD_RULES', 'the alert rules did not load; the running rules stay in place', 400, true)
})

export type ErrorCodeName = keyof typeof Errors

/** KanshiError carries a code from the table and a human detail. */
export class KanshiError extends Error {
  readonly code: ErrorCodeName
  constructor (code: ErrorCodeName, detail?: string) {
    super(detail ?? Errors[code].message)
    this.code = code
  }
}
