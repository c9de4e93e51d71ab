// http check: status, optional body match, response time, and days until the
// TLS certificate expires (read from the peer certificate, which fetch hides).

import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { TLSSocket } from 'node:tls'
import type { Check, CheckResult } from './types.js'

export interface HttpCheckOptions {
  url: string
  expectStatus?: number[]
  bodyMatch?: RegExp
  insecureSkipVerify?: boolean
  /** below this many days to expiry the check is down */
  certMinDays?: number
  now?: () => number
}

export function httpCheck (o: HttpCheckOptions): Check {
  const u = new URL(o.url)
  const expect = o.expectStatus ?? [200, 201, 202, 203, 204, 301, 302, 303, 304, 307, 308]
  return signal => new Promise<CheckResult>(resolve => {
    const t0 = performance.now()
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'GET', signal, rejectUnauthorized: o.insecureSkipVerify !== true, headers: { 'user-agent': 'kanshi-agent' } }, res => {
      let certDays: number | undefined
      const sock = res.socket as TLSSocket
      if (typeof sock.getPeerCertificate === 'function') {
        const cert = sock.getPeerCertificate()
        if (cert?.valid_to !== undefined) certDays = Math.floor((Date.parse(cert.valid_to) - (o.now ?? Date.now)()) / 86_400_000)
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => { if (size < 1024 * 1024) { chunks.push(c); size += c.length } })
      res.on('end', () => {
        const ms = Math.round(performance.now() - t0)
        const status = res.statusCode ?? 0
        const fields: Record<string, number> = { status }
        if (certDays !== undefined) fields['cert_days_left'] = certDays
        let up = expect.includes(status)
        let message = `HTTP ${status}`
        if (!up) message = `HTTP ${status}, expected ${expect.join('/')}`
        else if (o.bodyMatch !== undefined && !o.bodyMatch.test(Buffer.concat(chunks).toString('utf8'))) { up = false; message = `HTTP ${status} but the body does not match ${o.bodyMatch}` }
        else if (certDays !== undefined && o.certMinDays !== undefined && certDays < o.certMinDays) { up = false; message = `certificate expires in ${certDays} days` }
        resolve({ up, message, responseMs: ms, fields })
      })
      res.on('error', err => resolve({ up: false, message: err.message }))
    })
    req.on('error', err => resolve({ up: false, message: (err as NodeJS.ErrnoException).code === 'ABORT_ERR' ? 'aborted' : `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`.trim() }))
    req.end()
  })
}
