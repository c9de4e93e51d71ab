// A token is stored on the collector only as its SHA-256; the hex decodes to lower case so
// that comparisons and the uniqueness check need not care how it was written.

import { Type } from '@sinclair/typebox'

/** TokenHash is a config field holding the hex SHA-256 of a token (64 hex digits), decoded to lower case. */
export function TokenHash (of: string) {
  return Type.Transform(Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: `the hex SHA-256 of ${of} (64 hex digits)` }))
    .Decode(h => h.toLowerCase())
    .Encode(h => h)
}
