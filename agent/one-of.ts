// OneOf: a config field that is one of a list of strings. Type.Union over a
// mapped array decodes to never under StaticDecode; a one-member tuple type keeps T.

import { Type, type TLiteral, type TUnion, type SchemaOptions } from '@sinclair/typebox'

export function OneOf<T extends string> (values: readonly T[], options: SchemaOptions = {}): TUnion<[TLiteral<T>]> {
  return Type.Union(values.map(v => Type.Literal(v)), { description: `one of ${values.join(', ')}`, ...options }) as unknown as TUnion<[TLiteral<T>]>
}
