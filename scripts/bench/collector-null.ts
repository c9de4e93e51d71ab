// The real collector app with a null storage sink: measures the collector
// alone (auth, validation, WAL fsync, acks). Prints its URL, runs until killed.

import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { build } from '../../collector/app.js'
import { loadCollectorConfig } from '../../collector/config.js'
import { NullSink } from '../../collector/storage/null-sink.js'

const { values } = parseArgs({ options: { config: { type: 'string' } } })
const config = loadCollectorConfig(values.config!)
const c = await build({ config, logger: pino({ level: 'warn' }), backend: new NullSink() })
const address = await c.app.listen({ host: config.listen.host, port: config.listen.port })
process.stdout.write(`${address}\n`)
process.on('SIGTERM', () => { void c.shutdown().then(() => process.exit(0)) })
