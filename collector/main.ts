// kanshi-collector: the entry point. Parses arguments, loads the config, starts
// the embedded InfluxDB when none is configured, and handles signals.

import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import { chownSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { parseDocument, type Document } from 'yaml'
import { ConfigError, runMain } from '../common/config.js'
import { checkCollectorConfig, loadCollectorConfig, type CollectorConfig } from './config.js'
import { verifyAudit } from './ingest/audit.js'
import { loadRules } from './alerting/rules.js'
import { build } from './app.js'
import { makeLogger } from './logger.js'
import { VERSION } from '../protocol/version.js'
import { sha256Hex } from './ingest/auth.js'
import { findInfluxd, startInfluxd, type InfluxdProcess } from './storage/influxd-process.js'

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
                                               recompute the audit logs' hash chains (audit.db,
                                               alerting.db); exit 1 naming the first broken record
  kanshi-collector --help | --version

Signals: SIGTERM/SIGINT stop gracefully; SIGHUP reloads the agents list and the alert rules.
Environment: KANSHI_INFLUX_TOKEN, KANSHI_INFLUX_PASSWORD, KANSHI_SMTP_PASSWORD override the file.
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
      'check-config': { type: 'boolean' }
    },
    allowPositionals: true
  })
  if (values.help === true) { process.stdout.write(HELP); return 0 }
  if (values.version === true) { process.stdout.write(`${VERSION}\n`); return 0 }
  if (positionals[0] === 'audit') {
    if (positionals[1] !== 'verify' || positionals.length > 2) { process.stderr.write('kanshi-collector: usage: audit verify [--config FILE]\n'); return 2 }
    return auditVerify(values.config)
  }
  if (values.config === undefined) { process.stderr.write('kanshi-collector: --config FILE is required (see --help)\n'); return 2 }
  if (values['check-config'] === true) return checkConfigOnly(values.config)
  if (positionals[0] === 'api-token') {
    if (positionals[1] !== 'add' || positionals[2] === undefined || positionals.length > 3) { process.stderr.write('kanshi-collector: usage: api-token add NAME --role viewer|operator|admin --config FILE\n'); return 2 }
    return apiTokenAdd(values.config, positionals[2], values.role!)
  }
  if (positionals[0] === 'token') {
    if (positionals[1] === 'rotate' && positionals[2] !== undefined) return tokenRotate(values.config, positionals[2], 'rotate')
    if (positionals[1] === 'finish' && positionals[2] !== undefined) return tokenRotate(values.config, positionals[2], 'finish')
    if (positionals[1] !== 'add' || positionals[2] === undefined) { process.stderr.write('kanshi-collector: usage: token add|rotate|finish ID [--role ROLE --site SITE] --config FILE\n'); return 2 }
    return tokenAdd(values.config, positionals[2], values.role!, values.site!)
  }
  if (positionals.length > 0) { process.stderr.write(`kanshi-collector: unknown command ${positionals[0]} (see --help)\n`); return 2 }
  return await run(values.config)
}

/** tokenAdd appends an agent entry to the config, keeping its comments, and prints the token once. */
function tokenAdd (file: string, id: string, role: string, site: string): number {
  const config = loadCollectorConfig(file)
  if (config.agents.some(a => a.id === id)) {
    process.stderr.write(`kanshi-collector: ${file}: agents: an agent "${id}" exists already; remove it first to issue a new token\n`)
    return 2
  }
  const token = randomBytes(32).toString('base64url')
  const doc = parseDocument(readFileSync(file, 'utf8'))
  const entry = doc.createNode({ id, tokenSha256: sha256Hex(token), role, site })
  entry.flow = true
  const agents = doc.get('agents')
  if (agents === undefined || agents === null) doc.set('agents', doc.createNode([entry]))
  else doc.addIn(['agents'], entry)
  writeConfig(file, doc)
  process.stdout.write(`${token}\n`)
  process.stderr.write(`kanshi-collector: added agent ${id} (role ${role}${site !== '' ? `, site ${site}` : ''}) to ${file}; the token above is shown only once. Send SIGHUP to a running collector to load it.\n`)
  return 0
}

/** checkConfigOnly loads the config and the alert rules as a start would, and says what it found. */
function checkConfigOnly (file: string): number {
  const c = loadCollectorConfig(file)
  let rules = 'off'
  if (c.alerting !== undefined) rules = `${loadRules(c.alerting.rulesDir, new Set(c.alerting.schedules.map(x => x.name))).length} rules in ${c.alerting.rulesDir}`
  const storage = c.influx.url !== undefined ? `InfluxDB ${c.influx.version} at ${c.influx.url}` : c.influx.embedded.enabled ? `embedded InfluxDB on port ${c.influx.embedded.port}` : 'WAL only'
  process.stdout.write(`${file}: ok (${c.agents.length} agents; ${c.api.tokens.length} API tokens; alerting ${rules}; storage ${storage})\n`)
  return 0
}

const API_ROLES = ['viewer', 'operator', 'admin']

/** apiTokenAdd appends a REST API / console token to api.tokens, keeping comments, and prints the token once. */
function apiTokenAdd (file: string, name: string, role: string): number {
  if (!API_ROLES.includes(role)) { process.stderr.write(`kanshi-collector: --role: expected viewer, operator or admin, got ${JSON.stringify(role)}\n`); return 2 }
  const config = loadCollectorConfig(file)
  if (config.api.tokens.some(x => x.name === name)) {
    process.stderr.write(`kanshi-collector: ${file}: api.tokens: a token named "${name}" exists already; remove it first to issue a new one\n`)
    return 2
  }
  const token = randomBytes(32).toString('base64url')
  const doc = parseDocument(readFileSync(file, 'utf8'))
  const entry = doc.createNode({ name, tokenSha256: sha256Hex(token), role })
  entry.flow = true
  if (doc.getIn(['api', 'tokens']) === undefined || doc.getIn(['api', 'tokens']) === null) doc.setIn(['api', 'tokens'], doc.createNode([entry]))
  else doc.addIn(['api', 'tokens'], entry)
  writeConfig(file, doc)
  process.stdout.write(`${token}\n`)
  process.stderr.write(`kanshi-collector: added API token "${name}" (role ${role}) to ${file}; the token above is shown only once. Restart the collector to load it (SIGHUP reloads agents and rules, not API tokens).\n`)
  return 0
}

/** writeConfig replaces the file atomically, keeping its mode and owner: the collector's service user must still read it after root edits it. */
function writeConfig (file: string, doc: Document): void {
  const st = statSync(file)
  const tmp = `${file}.tmp`
  writeFileSync(tmp, doc.toString(), { mode: st.mode & 0o777 })
  try { chownSync(tmp, st.uid, st.gid) } catch { /* not root: the file stays ours, as it was */ }
  renameSync(tmp, file)
}

/**
 * tokenRotate: "rotate" gives an agent a second valid token (tokenSha256Next)
 * and prints it once; "finish" makes that the only token. Each takes effect at
 * the next SIGHUP, which the running collector records in its audit log.
 */
function tokenRotate (file: string, id: string, step: 'rotate' | 'finish'): number {
  const config = loadCollectorConfig(file)
  const i = config.agents.findIndex(a => a.id === id)
  if (i < 0) { process.stderr.write(`kanshi-collector: ${file}: agents: expected an agent "${id}", got none\n`); return 2 }
  const doc = parseDocument(readFileSync(file, 'utf8'))
  const next = config.agents[i]!.tokenSha256Next
  if (step === 'finish') {
    if (next === undefined) { process.stderr.write(`kanshi-collector: ${file}: agents.${i}.tokenSha256Next: expected a token being rotated (run "token rotate ${id}" first), got missing\n`); return 2 }
    doc.setIn(['agents', i, 'tokenSha256'], next)
    doc.deleteIn(['agents', i, 'tokenSha256Next'])
    writeConfig(file, doc)
    process.stderr.write(`kanshi-collector: agent ${id}: the next token is now its only token in ${file}. Send SIGHUP to the collector: connections still using the old token are closed and it is refused from then on.\n`)
    return 0
  }
  const token = randomBytes(32).toString('base64url')
  doc.setIn(['agents', i, 'tokenSha256Next'], sha256Hex(token))
  writeConfig(file, doc)
  process.stdout.write(`${token}\n`)
  process.stderr.write(`kanshi-collector: agent ${id}: a second token stored as tokenSha256Next in ${file}; the token above is shown only once. Send SIGHUP, give the agent the new token and restart it, then run "token finish ${id}" and SIGHUP again.\n`)
  return 0
}

/** auditVerify recomputes both audit chains under dataDir and names the first broken record. */
function auditVerify (file: string | undefined): number {
  const config = file !== undefined ? loadCollectorConfig(file) : checkCollectorConfig('(defaults)', {})
  let bad = 0
  const reports = verifyAudit(config.dataDir)
  if (reports.length === 0) process.stdout.write(`${config.dataDir}: no audit log yet (audit.db is created when the collector first starts)\n`)
  for (const r of reports) {
    if (r.broken === undefined) {
      process.stdout.write(`${r.file}: ${r.records} records, chain intact\n`)
    } else {
      bad++
      process.stderr.write(`kanshi-collector: ${r.file}: audit record ${r.broken.id} is broken: ${r.broken.reason} (${r.records} records before it are intact)\n`)
    }
  }
  return bad === 0 ? 0 : 1
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
  logger.info({ address, agentUrl: wsUrl, storage: c.storage, agents: config.agents.length }, 'collector listening')
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
