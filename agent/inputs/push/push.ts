// A local push endpoint (like Telegraf's http_listener_v2): applications on the host POST metrics
// and events on loopback; each request is one spooled batch, and a 2xx means it is on disk.
//   POST /v1/push  JSON {"points":[…],"events":[…]}, or line protocol when not JSON
//   POST /write    InfluxDB 1.x compatible line protocol, ?precision=ns|us|ms|s, 204 on success
// A request with any bad line is refused whole (400, each bad line named), and so is
// one with data the policy does not allow (policy.ts: string fields, events, tag keys, names).

import { createServer, type IncomingMessage, type Server } from 'node:http'
import { Type } from '@sinclair/typebox'
import { Limits, PointSchema, EventSchema, compile, type LogEvent, type Point } from '../../../protocol/messages.js'
import type { Accumulator, Input, InputContext } from '../input.js'
import { parseLineProtocol, type Precision } from './lineproto.js'
import { DEFAULT_POLICY, NAME_REFUSAL, redactPushed, refusals, type PushPolicy } from './policy.js'

const PushSchema = Type.Object({
  points: Type.Optional(Type.Array(Type.Object({ ...PointSchema.properties, t: Type.Optional(PointSchema.properties.t) }), { maxItems: Limits.maxPointsPerBatch })),
  events: Type.Optional(Type.Array(Type.Object({ ...EventSchema.properties, t: Type.Optional(EventSchema.properties.t) }), { maxItems: Limits.maxEventsPerBatch }))
})
const validatePush = compile(PushSchema)
const validatePoint = compile(PointSchema)
const PRECISIONS = ['ns', 'us', 'ms', 's']
const MAX_BODY = 1024 * 1024
const NOT_ALLOWED_JA = '送信が許可されていないデータ（文字列フィールドまたはイベント）を含むため、何も保存しませんでした。数値と真偽値だけを送るか、push.allowStrings / push.allowEvents で許可してください。'
const NAME_NOT_ALLOWED_JA = '許可されていない測定名またはフィールド名を含むため、何も保存しませんでした。名前は英数字と _ . : - だけで（自由記述や個人情報は不可）、push.allowMeasurements / push.allowFields を設定した場合はそこに列挙した名前だけが使えます。'
const TAG_NOT_ALLOWED_JA = '許可されていないタグを含むため、何も保存しませんでした。タグには自由記述が入り得るため、必要なタグキーを push.allowTags に列挙してください（host・role・site は常に可）。'

export interface PushOptions {
  host: string
  port: number
  now?: () => number
  /** what push clients may send (default: numbers and booleans only) */
  policy?: PushPolicy
}

/** PushListener is the push input: an HTTP listener on loopback; each good request is one spooled batch. */
export class PushListener implements Input {
  readonly name = 'push'
  private server: Server | undefined
  port = 0
  /** requests stored, refused as malformed, refused by the policy; replacements made by push.redact */
  readonly stats = { accepted: 0, refused_invalid: 0, refused_policy: 0, redacted: 0 }
  private readonly policy: PushPolicy

  constructor (private readonly o: PushOptions) {
    this.policy = o.policy ?? DEFAULT_POLICY
  }

  async gather (acc: Accumulator): Promise<void> {
    acc.add('push_input', { ...this.stats })
  }

  async start (ctx: InputContext): Promise<void> {
    this.server = createServer((req, res) => {
      const reply = (status: number, body?: object, counter: 'refused_invalid' | 'refused_policy' = 'refused_invalid'): void => {
        if (status === 400) this.stats[counter]++
        res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' })
        res.end(body === undefined ? undefined : JSON.stringify(body))
      }
      const url = new URL(req.url ?? '/', 'http://agent')
      if (url.pathname !== '/v1/push' && url.pathname !== '/write') return reply(404, { error: 'not found: POST /v1/push (JSON or line protocol) or POST /write (line protocol)' })
      if (req.method !== 'POST') return reply(405, { error: 'use POST' })
      const precision = url.searchParams.get('precision') ?? (url.pathname === '/write' ? 'ns' : 'ms')
      if (!PRECISIONS.includes(precision)) return reply(400, { error: `precision: expected one of ${PRECISIONS.join(', ')}, got "${precision}"` })
      const json = url.pathname === '/v1/push' && /json/i.test(req.headers['content-type'] ?? 'application/json')
      readBody(req).then(async text => {
        const now = (this.o.now ?? Date.now)()
        let points: Point[]
        let events: LogEvent[] = []
        if (json) {
          let msg: unknown
          try { msg = JSON.parse(text) } catch { return reply(400, { error: 'body is not JSON (send Content-Type: text/plain for line protocol)' }) }
          if (!validatePush(msg)) return reply(400, { error: validatePush.describe() })
          points = (msg.points ?? []).map(p => ({ m: p.m, t: p.t ?? now, tags: p.tags ?? {}, f: p.f }))
          events = (msg.events ?? []).map(e => ({ ...e, t: e.t ?? now }))
        } else {
          const parsed = parseLineProtocol(text, precision as Precision)
          const errors = parsed.errors.map(e => `line ${e.line}: ${e.message}`)
          points = []
          parsed.points.forEach((p, i) => {
            const point = { m: p.m, t: p.t ?? now, tags: p.tags, f: p.f }
            if (validatePoint(point)) points.push(point)
            else errors.push(`point ${i + 1} (${p.m}): ${validatePoint.describe()}`)
          })
          if (points.length > Limits.maxPointsPerBatch) errors.push(`at most ${Limits.maxPointsPerBatch} points per request, got ${points.length}`)
          if (errors.length > 0) return reply(400, { error: `${errors.length} bad line(s); nothing was stored`, lines: errors.slice(0, 20) })
        }
        if (points.length + events.length === 0) return reply(400, { error: 'no points and no events' })
        const refused = refusals(this.policy, points, events, json ? undefined : i => `point ${i + 1} (${points[i]!.m})`)
        if (refused.length > 0) {
          return reply(400, { error: `not allowed: ${refused[0]!}; nothing was stored`, error_ja: NAME_REFUSAL.test(refused[0]!) ? NAME_NOT_ALLOWED_JA : /\.tags\./.test(refused[0]!) ? TAG_NOT_ALLOWED_JA : NOT_ALLOWED_JA, refused: refused.slice(0, 20) }, 'refused_policy')
        }
        this.stats.redacted += redactPushed(this.policy, points, events)
        const seq = await ctx.enqueue(points, events)
        this.stats.accepted++
        if (url.pathname === '/write') return reply(204)
        reply(200, { seq, points: points.length, events: events.length })
      }).catch(err => reply((err as { status?: number }).status ?? 500, { error: String((err as Error).message) }))
    })
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject)
      this.server!.listen(this.o.port, this.o.host, () => resolve())
    })
    const addr = this.server.address()
    this.port = typeof addr === 'object' && addr !== null ? addr.port : this.o.port
    ctx.logger.info({ url: `http://${this.o.host}:${this.port}/v1/push` }, 'push endpoint listening')
  }

  async close (): Promise<void> {
    if (this.server === undefined) return
    await new Promise<void>(resolve => this.server!.close(() => resolve()))
  }
}

function readBody (req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let n = 0
    req.on('data', (c: Buffer) => {
      n += c.length
      if (n > MAX_BODY) {
        // Answer first, then stop reading: destroying the request at once would reset the connection before the 413.
        reject(Object.assign(new Error(`body over ${MAX_BODY} bytes`), { status: 413 }))
        req.removeAllListeners('data')
        req.resume()
        return
      }
      chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}
