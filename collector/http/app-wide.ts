// appWide marks a plugin as not encapsulated (what fastify-plugin does): its
// hooks and handlers apply to the whole app, not only to its own routes.

import type { FastifyPluginAsync, FastifyPluginOptions } from 'fastify'

export function appWide<O extends FastifyPluginOptions = Record<never, never>> (plugin: FastifyPluginAsync<O>): FastifyPluginAsync<O> {
  Object.assign(plugin, { [Symbol.for('skip-override')]: true })
  return plugin
}
