import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Fastify, { type InjectOptions } from 'fastify'
import { Errors, KanshiError, type ErrorCodeName } from '../../protocol/errors.js'
import { errorReplies } from '../../collector/http/errors.js'

// docs/errors.md and protocol/errors.ts must list the same codes with the same status and finality.
const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
const rows = new Map<string, { status: number, final: boolean }>()
for (const m of doc.matchAll(/^\| `(E_[A-Z0-9_]+)` \| (\d{3}) \| (yes|no) \|/gm)) {
  rows.set(m[1]!, { status: Number(m[2]), final: m[3] === 'yes' })
}

t.same([...rows.keys()].sort(), Object.keys(Errors).sort(), 'the same codes in code and docs')
for (const [code, e] of Object.entries(Errors)) {
  t.equal(e.code, code, `${code}: key equals code`)
  t.same(rows.get(code), { status: e.status, final: e.final }, `${code}: status and finality documented`)
}

t.test('the error handler replies with the status of the table for every code', async t => {
  const app = Fastify({ logger: false })
  await app.register(errorReplies)
  app.get('/throw/:code', async req => { throw new KanshiError((req.params as { code: ErrorCodeName }).code, 'detail here') })
  app.post('/json', { schema: { body: { type: 'object', required: ['a'], properties: { a: { type: 'integer' } } } } }, async () => ({ ok: true }))
  app.get('/boom', async () => { throw new Error('secret /work/x.ts:1 detail') })
  t.teardown(async () => await app.close())
  for (const [code, e] of Object.entries(Errors)) {
    const r = await app.inject(`/throw/${code}`)
    t.equal(r.statusCode, e.status, `${code}: HTTP ${e.status}`)
    t.same(r.json(), { code, message: e.status >= 500 ? e.message : 'detail here' }, `${code}: body {code, message}${e.status >= 500 ? ' without the detail' : ''}`)
  }
  const fastifyOwn: Array<[string, InjectOptions, ErrorCodeName]> = [
    ['a schema violation', { method: 'POST', url: '/json', payload: { a: 'x' } }, 'E_BAD_REQUEST'],
    ['bad JSON', { method: 'POST', url: '/json', payload: '{"a":', headers: { 'content-type': 'application/json' } }, 'E_BAD_REQUEST'],
    ['a body over the limit', { method: 'POST', url: '/json', payload: JSON.stringify({ a: 'x'.repeat(2 * 1024 * 1024) }), headers: { 'content-type': 'application/json' } }, 'E_TOO_LARGE'],
    ['a form post', { method: 'POST', url: '/json', payload: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 'E_MEDIA_TYPE'],
    ['no such route', { method: 'GET', url: '/nowhere' }, 'E_NOT_FOUND'],
    ['an unexpected exception', { method: 'GET', url: '/boom' }, 'E_INTERNAL']
  ]
  for (const [what, req, code] of fastifyOwn) {
    const r = await app.inject(req)
    t.equal(r.statusCode, Errors[code].status, `${what}: HTTP ${Errors[code].status}`)
    t.equal(r.json().code, code, `${what}: ${code}`)
  }
  t.notMatch((await app.inject('/boom')).body, /secret|\.ts:/, 'a 5xx shows nothing from inside')
})

t.test('no hand-written error replies in collector/: handlers throw KanshiError', async t => {
  const root = new URL('../../collector/', import.meta.url).pathname
  const files = (function walk (dir: string): string[] {
    return readdirSync(dir).flatMap(f => statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : f.endsWith('.ts') ? [join(dir, f)] : [])
  })(root)
  t.ok(files.length > 50, 'the collector sources are found')
  // The one handler (http/errors.ts) is where replies with a code are written.
  for (const f of files.filter(f => !f.endsWith('/http/errors.ts'))) t.notMatch(readFileSync(f, 'utf8'), /\.send\(\s*\{\s*code\b/, `${f.slice(root.length)}: no .send({ code ... })`)
})
