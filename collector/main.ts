// kanshi-collector: the entry point. Parses arguments, loads the config, starts
// the embedded InfluxDB when none is configured, and handles signals.

import { parseArgs } from 'node:util'
import { ConfigError, runMain } from '../common/config.js'
import { loadCollectorConfig, type CollectorConfig } from './config.js'
import { build } from './app.js'
import { makeLogger } from './logger.js'
import { VERSION } from '../protocol/version.js'
import { findInfluxd, startInfluxd, type InfluxdProcess } from './storage/influxd-process.js'
import { token, TOKEN_USAGE } from './cli/token.js'
import { apiTokenAdd } from './cli/api-token.js'
import { auditVerify } from './cli/audit.js'
import { checkConfigOnly } from './cli/check-config.js'
import { archiveKeygen, archiveVerify, logsExport } from './cli/archive.js'

const HELP = `kanshi-collector — receives agent data over WebSocket, keeps it in a write-ahead log, writes it to InfluxDB

Usage:
  kanshi-collector --config FILE               run the collector
  kanshi-collector token add ID --role ROLE --site SITE --config FILE
                                               create a token for agent ID: prints it once,
                                               stores only its SHA-256 in FILE (agents:)
  kanshi-collector token rotate ID --config FILE
                                               a second token for agent ID (tokenSha256Next): both
                                               work after SIGHUP until "token finish"
  kanshi-collector token finish ID --config FILE
                                               the next token becomes the only one; SIGHUP revokes the old
  kanshi-collector api-token add NAME --role viewer|operator|admin --config FILE
                                               create a REST API / console token: prints it once,
                                               stores only its SHA-256 in FILE (api.tokens)
  kanshi-collector --check-config --config FILE
                                               check the config and the alert rules, then exit
                                               (0: good; 2: one line naming the file and key)
  kanshi-collector audit verify [--config FILE]
                                               recompute the audit log's hash chain (audit.db with its
                                               head witness audit.head; a legacy chain in alerting.db);
                                               exit 1 naming the first broken record
  kanshi-collector archive verify [--from D --to D] --config FILE
                                               check the log archive (archive.dir) with the public key only:
                                               signatures, day chain, every record; exit 1 naming the first
                                               bad record or day
  kanshi-collector archive keygen --out FILE   make an Ed25519 key pair: FILE (archive.signingKey), FILE.pub
  kanshi-collector logs export --from D --to D [--host H] [--level L] [--match RE]
                   --format csv|jsonl --out FILE --config FILE
                                               archived log events of days D (YYYY-MM-DD) to FILE (CSV:
                                               UTF-8 with BOM for Excel)
  kanshi-collector --help | --version

Signals: SIGTERM/SIGINT stop gracefully; SIGHUP reloads the agents list and the alert rules.
Environment: KANSHI_INFLUX_TOKEN, KANSHI_INFLUX_PASSWORD, KANSHI_SMTP_PASSWORD override the file;
KANSHI_PG_PASSWORD is the PostgreSQL password of cluster.postgres (cluster.postgres.passwordEnv).
`

async function main (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      role: { type: 'string', default: 'server' },
      site: { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
      'check-config': { type: 'boolean' },
      from: { type: 'string' },
      to: { type: 'string' },
      host: { type: 'string' },
      level: { type: 'string' },
      match: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' }
    },
    allowPositionals: true
  })
  if (values.help === true) { process.stdout.write(HELP); return 0 }
  if (values.version === true) { process.stdout.write(`${VERSION}\n`); return 0 }
  if (positionals[0] === 'audit') {
    if (positionals[1] !== 'verify' || positionals.length > 2) { process.stderr.write('kanshi-collector: usage: audit verify [--config FILE]\n'); return 2 }
    return await auditVerify(values.config)
  }
  if (positionals[0] === 'archive' && positionals[1] === 'keygen' && positionals.length === 2) return archiveKeygen(values.out)
  if (values.config === undefined) { process.stderr.write('kanshi-collector: --config FILE is required (see --help)\n'); return 2 }
  if (values['check-config'] === true) return checkConfigOnly(values.config)
  if (positionals[0] === 'archive') {
    if (positionals[1] !== 'verify' || positionals.length > 2) { process.stderr.write('kanshi-collector: usage: archive verify [--from D --to D] --config FILE | archive keygen --out FILE\n'); return 2 }
    return archiveVerify(values.config, values.from, values.to)
  }
  if (positionals[0] === 'logs') {
    if (positionals[1] !== 'export' || positionals.length > 2) { process.stderr.write('kanshi-collector: usage: logs export --from D --to D [--host H] [--level L] [--match RE] --format csv|jsonl --out FILE --config FILE\n'); return 2 }
    return await logsExport(values.config, values)
  }
  if (positionals[0] === 'api-token') {
    if (positionals[1] !== 'add' || positionals[2] === undefined || positionals.length > 3) { process.stderr.write('kanshi-collector: usage: api-token add NAME --role viewer|operator|admin --config FILE\n'); return 2 }
    return apiTokenAdd(values.config, positionals[2], values.role!)
  }
  if (positionals[0] === 'token') {
    const rc = token(values.config, positionals, values.role!, values.site!)
    if (rc === undefined) { process.stderr.write(`kanshi-collector: usage: ${TOKEN_USAGE}\n`); return 2 }
    return rc
  }
  if (positionals.length > 0) { process.stderr.write(`kanshi-collector: unknown command ${positionals[0]} (see --help)\n`); return 2 }
  return await run(values.config)
}

async function run (file: string): Promise<number> {
  const config = loadCollectorConfig(file)
  const logger = makeLogger(config.log.level)
  let influxd: InfluxdProcess | undefined
  let influxUrl: string | undefined
  if (config.influx.url === undefined && config.influx.version === 1 && config.influx.embedded.enabled) {
    const bin = findInfluxd()
    if (bin === undefined) {
      logger.error('NO STORAGE: influx.url is not set and influxd is not on PATH; running WAL-only — data is kept in the write-ahead log and written nowhere until influx.url is configured (install Debian package influxdb for the embedded mode)')
    } else {
      influxd = await startInfluxd({ dataDir: config.influx.embedded.dataDir, port: config.influx.embedded.port, bin, logFile: `${config.influx.embedded.dataDir}/influxd.log` })
      influxUrl = influxd.url
      logger.info({ url: influxUrl, dataDir: config.influx.embedded.dataDir }, 'started embedded InfluxDB')
    }
  }
  const c = await build({ config, logger, ...(influxUrl !== undefined ? { influxUrl } : {}) })
  const address = await c.app.listen({ host: config.listen.host, port: config.listen.port })
  const wsUrl = address.replace(/^http/, 'ws') + '/v1/agent'
  logger.info({ address, agentUrl: wsUrl, storage: c.storage, agents: config.agents.length, ...(c.cluster !== undefined ? { cluster: c.cluster.node } : {}) }, 'collector listening')
  printWhereToLook(config, address, wsUrl, config.influx.url ?? influxUrl)

  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    const hard = setTimeout(() => { logger.error('shutdown took over 30 s; exiting (unsent data stays in the WAL)'); process.exit(1) }, 30_000)
    hard.unref()
    c.shutdown()
      .then(async () => await influxd?.stop())
      .then(() => { logger.info('stopped'); logger.flush(); process.exitCode = 0 })
      .catch(err => { logger.error({ err }, 'shutdown failed'); process.exitCode = 1 })
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGHUP', () => {
    try {
      const next = loadCollectorConfig(file)
      c.reloadAgents(next.agents)
      const rules = c.alerting?.reload()
      logger.info({ agents: next.agents.length, rules }, 'reloaded agents and alert rules')
    } catch (err) {
      logger.error({ err: err instanceof ConfigError ? err.message : err }, 'reload failed: the config or a rule file is wrong; what loaded before the error stays in effect')
    }
  })
  return -1
}

function printWhereToLook (config: CollectorConfig, address: string, wsUrl: string, influxUrl: string | undefined): void {
  if (process.stdout.isTTY !== true) return
  const lines = [
    '',
    `  kanshi collector  ${address}`,
    `    agents connect   ${wsUrl}`,
    `    health           ${address}/readyz   metrics ${address}/metrics`,
    influxUrl === undefined
      ? '    storage          NONE — WAL-only (set influx.url or install influxd)'
      : `    InfluxDB         ${influxUrl}  db=${config.influx.db}\n    query            curl -G '${influxUrl}/query' --data-urlencode 'db=${config.influx.db}' --data-urlencode 'q=SELECT last(usage_percent) FROM cpu GROUP BY host'`,
    ''
  ]
  process.stderr.write(lines.join('\n') + '\n')
}

runMain('kanshi-collector', main)
