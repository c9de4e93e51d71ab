// The one error handler: a handler throws KanshiError(code, detail) and the
// reply is {code, message} with the HTTP status from protocol/errors.ts.
// Fastify's own refusals (validation, bad JSON, body limit, no route) get our codes too.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { Errors, KanshiError, type ErrorCodeName } from '../../protocol/errors.js'
import { appWide } from './app-wide.js'

/** codeOf maps an error to a code of the table: ours as thrown, Fastify's by its status. */
function codeOf (err: unknown): ErrorCodeName {
  if (err instanceof KanshiError) return err.code
  const status = (err as Partial<FastifyError>).statusCode
  if (status === undefined || status < 400 || status >= 500) return 'E_INTERNAL'
  if (status === 413) return 'E_TOO_LARGE'
  if (status === 404) return 'E_NOT_FOUND'
  if (status === 415) return 'E_MEDIA_TYPE'
  return 'E_BAD_REQUEST'
}

async function replyError (err: Error, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const code = codeOf(err)
  const e = Errors[code]
  // A 5xx never shows what went wrong inside: the detail goes to the log only.
  if (e.status >= 500) {
    req.log.error({ err, code }, 'request failed')
    return await reply.code(e.status).send({ code, message: e.message })
  }
  return await reply.code(e.status).send({ code, message: err.message.slice(0, 300) })
}

/** errorReplies installs the handler and the not-found reply for the whole app. */
export const errorReplies = appWide(async app => {
  app.setErrorHandler(replyError)
  app.setNotFoundHandler(async req => { throw new KanshiError('E_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`) })
})
