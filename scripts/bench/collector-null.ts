// The real collector app with a null storage sink: measures the collector
// alone (auth, validation, WAL fsync, acks). Prints its URL, runs until killed.
// KANSHI_BENCH_HEAP=FILE:SECONDS writes a V8 heap snapshot to FILE after
// SECONDS (to see what the memory per connection is made of).

import { parseArgs } from 'node:util'
import { writeHeapSnapshot } from 'node:v8'
import { pino } from 'pino'
import { build } from '../../collector/app.js'
import { loadCollectorConfig } from '../../collector/config.js'
import { NullSink } from '../../collector/storage/null-sink.js'

const { values } = parseArgs({ options: { config: { type: 'string' } } })
const config = loadCollectorConfig(values.config!)
const c = await build({ config, logger: pino({ level: 'warn' }), backend: new NullSink() })
const address = await c.app.listen({ host: config.listen.host, port: config.listen.port })
process.stdout.write(`${address}\n`)
const heap = process.env['KANSHI_BENCH_HEAP']?.split(':')
if (heap !== undefined) setTimeout(() => { writeHeapSnapshot(heap[0]); process.stderr.write(`heap snapshot written to ${heap[0]}\n`) }, Number(heap[1]) * 1000).unref()
process.on('SIGTERM', () => { void c.shutdown().then(() => process.exit(0)) })
