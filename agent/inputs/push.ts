// A local push endpoint (like Telegraf's http_listener_v2): kiosk and business
// applications POST their own metrics and events to the agent on loopback; each
// request becomes one spooled batch, and 204 means it is on disk.

import { createServer, type IncomingMessage, type Server } from 'node:http'
import { Type } from '@sinclair/typebox'
import { Limits, PointSchema, EventSchema, compile, type LogEvent, type Point } from '../../protocol/messages.js'

const PushSchema = Type.Object({
  points: Type.Optional(Type.Array(Type.Object({ ...PointSchema.properties, t: Type.Optional(PointSchema.properties.t) }), { maxItems: Limits.maxPointsPerBatch })),
  events: Type.Optional(Type.Array(Type.Object({ ...EventSchema.properties, t: Type.Optional(EventSchema.properties.t) }), { maxItems: Limits.maxEventsPerBatch }))
})
const validatePush = compile(PushSchema)
const MAX_BODY = 1024 * 1024

export interface PushOptions {
  host: string
  port: number
  enqueue: (points: Point[], events: LogEvent[]) => Promise<number>
  now?: () => number
}

export class PushListener {
  private server: Server | undefined
  port = 0

  constructor (private readonly o: PushOptions) {}

  async start (): Promise<void> {
    this.server = createServer((req, res) => {
      const reply = (status: number, body?: object): void => {
        res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' })
        res.end(body === undefined ? undefined : JSON.stringify(body))
      }
      if (req.url !== '/v1/push') return reply(404, { error: 'not found: POST /v1/push' })
      if (req.method !== 'POST') return reply(405, { error: 'use POST' })
      readBody(req).then(async text => {
        let msg: unknown
        try { msg = JSON.parse(text) } catch { return reply(400, { error: 'body is not JSON' }) }
        if (!validatePush(msg)) return reply(400, { error: validatePush.describe() })
        const now = (this.o.now ?? Date.now)()
        const points = (msg.points ?? []).map(p => ({ m: p.m, t: p.t ?? now, tags: p.tags ?? {}, f: p.f }))
        const events = (msg.events ?? []).map(e => ({ ...e, t: e.t ?? now }))
        if (points.length + events.length === 0) return reply(400, { error: 'no points and no events' })
        const seq = await this.o.enqueue(points, events)
        reply(200, { seq, points: points.length, events: events.length })
      }).catch(err => reply((err as { status?: number }).status ?? 500, { error: String((err as Error).message) }))
    })
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject)
      this.server!.listen(this.o.port, this.o.host, () => resolve())
    })
    const addr = this.server.address()
    this.port = typeof addr === 'object' && addr !== null ? addr.port : this.o.port
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
