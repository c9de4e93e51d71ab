// A real SMTP server on loopback (smtp-server) that keeps every message it
// accepts, parsed (mailparser), with the time it accepted it. It can refuse
// mail on demand, to test the outbox.

import { SMTPServer } from 'smtp-server'
import { simpleParser } from 'mailparser'
import type { Test } from 'tap'
import { freePort } from './procs.js'

export interface Received { at: number, to: string[], subject: string, messageId: string, text: string, html: string, attachments: Array<{ filename: string, contentType: string, content: Buffer }> }

export interface Smtp {
  port: number
  mails: Received[]
  /** refuse makes the server answer 451 to every message until set false */
  refuse: boolean
  stop(): Promise<void>
  start(): Promise<void>
}

export async function withSmtp (t: Test): Promise<Smtp> {
  const port = await freePort()
  const mails: Received[] = []
  let server: SMTPServer | undefined
  const state: Smtp = {
    port,
    mails,
    refuse: false,
    start: async () => {
      server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onData (stream, session, cb) {
          const chunks: Buffer[] = []
          stream.on('data', (c: Buffer) => chunks.push(c))
          stream.on('end', () => {
            if (state.refuse) { cb(Object.assign(new Error('try again later'), { responseCode: 451 })); return }
            const at = Date.now()
            simpleParser(Buffer.concat(chunks)).then(m => {
              mails.push({ at, to: session.envelope.rcptTo.map(r => r.address), subject: m.subject ?? '', messageId: m.messageId ?? '', text: m.text ?? '', html: typeof m.html === 'string' ? m.html : '', attachments: m.attachments.map(a => ({ filename: a.filename ?? '', contentType: a.contentType, content: a.content })) })
              cb()
            }, cb)
          })
        }
      })
      await new Promise<void>(resolve => server!.listen(port, '127.0.0.1', resolve))
    },
    stop: async () => { if (server !== undefined) await new Promise<void>(resolve => server!.close(() => resolve())); server = undefined }
  }
  await state.start()
  t.teardown(async () => await state.stop())
  return state
}
