// The collector's pino logger: ISO timestamps, and secrets redacted wherever
// they would appear (tokens, passwords, Authorization headers).

import { pino, type DestinationStream, type Logger } from 'pino'

const redactPaths = [
  'token', '*.token', 'password', '*.password', 'authorization', '*.authorization',
  'headers.authorization', 'req.headers.authorization', 'config.influx.token', 'config.influx.password', 'config.influxTargets[*].token', 'config.influxTargets[*].password', 'config.cluster.postgres.password', '*.postgres.password'
]

export function makeLogger (level: string, dest?: DestinationStream): Logger {
  const opts = { level, base: { program: 'kanshi-collector' }, redact: { paths: redactPaths, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime }
  return dest === undefined ? pino(opts) : pino(opts, dest)
}
