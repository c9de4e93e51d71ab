// api: who may call /v1/api, each token held by a named person with a role.

import { Type } from '@sinclair/typebox'
import { Strict } from '../../common/config.js'
import { TokenHash } from './token-hash.js'

export const ApiSchema = Type.Object({
  tokens: Type.Array(Type.Object({
    name: Type.String({ minLength: 1, description: 'who holds the token (shown in the audit log)' }),
    tokenSha256: TokenHash('the API token'),
    role: Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')], { description: 'one of viewer, operator, admin' })
  }, Strict), { default: [], description: 'a list of { name, tokenSha256, role }' })
}, { ...Strict, default: {} })
