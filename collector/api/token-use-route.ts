// GET /api/v1/tokens/use (operator): each configured API token by name and role, with its
// last use (Unix ms) and the node that saw it; null for a token never used since recording began.

import type { FastifyPluginAsync } from 'fastify'
import type { ApiToken, Guard } from './auth.js'
import type { TokenUse } from './token-use.js'

export interface TokenUseRouteOptions {
  need: Guard
  tokens: readonly ApiToken[]
  use: TokenUse
}

export const tokenUseRoute: FastifyPluginAsync<TokenUseRouteOptions> = async (app, o) => {
  app.get('/api/v1/tokens/use', { onRequest: o.need('operator') }, async () => {
    const by = new Map((await o.use.list()).map(r => [r.name, r]))
    return {
      tokens: o.tokens.map(t => ({ name: t.name, role: t.role, lastUsedAt: by.get(t.name)?.lastUsedAt ?? null, node: by.get(t.name)?.node ?? null }))
        .sort((a, b) => a.name.localeCompare(b.name))
    }
  })
}
