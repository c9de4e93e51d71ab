// Alert latency: breach → mail accepted by a real SMTP server on loopback,
// beyond the rule's `for`. The real collector app (alerting stage, outbox,
// nodemailer) in this process, fed through its evaluator; N breaches on N hosts,
// one at a time. Prints p50/p99 against a reference: the same mail sent
// directly with nodemailer to the same server (the floor).
//   node dist/scripts/bench/alert.bench.js [breaches] [--smoke]

import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SMTPServer } from 'smtp-server'
import nodemailer from 'nodemailer'
import { pino } from 'pino'
import { build } from '../../collector/app.js'
import { checkCollectorConfig } from '../../collector/config.js'
import { NullSink } from '../../collector/storage/null-sink.js'
import { freePort } from '../../collector/storage/influxd-process.js'

const n = process.argv.includes('--smoke') ? 5 : Number(process.argv[2] ?? 30)
const dir = mkdtempSync(join(tmpdir(), 'kanshi-alert-bench-'))
const received = new Map<string, number>()
const port = await freePort()
const server = new SMTPServer({
  authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
  onData (stream, _s, cb) {
    let text = ''
    stream.on('data', (c: Buffer) => { text += c.toString() })
    stream.on('end', () => { const m = /bench-host-\d+/.exec(text); if (m !== null) received.set(m[0], Date.now()); cb() })
  }
})
await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
mkdirSync(join(dir, 'rules'))
writeFileSync(join(dir, 'rules', 'r.yaml'), '- { name: bench, type: threshold, metric: bench.v, op: ">", threshold: 90, for: 0s, severity: critical, summary: { ja: "{{host}} {{value}}", en: "{{host}} {{value}}" } }\n')
const config = checkCollectorConfig(join(dir, 'c.yaml'), {
  dataDir: join(dir, 'data'),
  alerting: { rulesDir: join(dir, 'rules'), smtp: { host: '127.0.0.1', port }, receivers: [{ name: 'r', email: ['oncall@example.jp'] }], routes: [{ receiver: 'r' }], groupWait: '0s', groupInterval: '0s' }
})
const c = await build({ config, logger: pino({ level: 'silent' }), backend: new NullSink() })
const a = c.alerting!
const pct = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]!
const lat: number[] = []
for (let i = 0; i < n; i++) {
  const host = `bench-host-${i}`
  const t0 = Date.now()
  await a.stage.apply(a.evaluator.observePoints([{ m: 'bench', t: t0, tags: { host }, f: { v: 99 } }], t0))
  while (!received.has(host)) await new Promise(resolve => setTimeout(resolve, 5))
  lat.push(received.get(host)! - t0)
}
const ref: number[] = []
const tr = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false })
for (let i = 0; i < n; i++) {
  const t0 = Date.now()
  await tr.sendMail({ from: 'a@example.jp', to: 'b@example.jp', subject: 'ref', text: `bench-host-ref${i}` })
  ref.push(Date.now() - t0)
}
lat.sort((x, y) => x - y)
ref.sort((x, y) => x - y)
process.stdout.write(`alert latency over ${n} breaches (for: 0s, group_wait 0s):\n` +
  `| path | p50 ms | p99 ms |\n|---|---|---|\n| kanshi: breach → mail accepted | ${pct(lat, 0.5)} | ${pct(lat, 0.99)} |\n| reference: nodemailer → same server | ${pct(ref, 0.5)} | ${pct(ref, 0.99)} |\n` +
  `ratio kanshi / reference: p50 ${(pct(lat, 0.5) / Math.max(1, pct(ref, 0.5))).toFixed(2)}, p99 ${(pct(lat, 0.99) / Math.max(1, pct(ref, 0.99))).toFixed(2)}\n`)
tr.close()
await c.shutdown()
server.close()
rmSync(dir, { recursive: true, force: true })
