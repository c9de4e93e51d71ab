// The floor for the connection-scale bench: a bare `ws` server on the same
// port layout that answers hello with welcome and each batch with its ack after
// JSON.parse — no auth, validation, WAL or fsync. What holding N agents costs
// Node and ws alone. Prints its URL, runs until killed.
//   node dist/scripts/bench/ws-floor.js --port N

import { parseArgs } from 'node:util'
import { WebSocketServer } from 'ws'

const { values } = parseArgs({ options: { port: { type: 'string' } } })
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(values.port), perMessageDeflate: false })
wss.on('connection', ws => {
  ws.on('message', d => {
    const m = JSON.parse(d.toString()) as { type: string, seq?: number }
    if (m.type === 'hello') ws.send(JSON.stringify({ type: 'welcome', protocol: 1, ackedSeq: 0, serverTime: Date.now() }))
    else if (m.type === 'batch') ws.send(JSON.stringify({ type: 'ack', seq: m.seq }))
  })
})
wss.on('listening', () => process.stdout.write(`ws://127.0.0.1:${values.port}\n`))
process.on('SIGTERM', () => process.exit(0))
