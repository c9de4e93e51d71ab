// kanshi-agent: the entry point. Loads the config, builds the configured
// inputs from the registry, runs the agent, and stops cleanly on SIGTERM/SIGINT.

import { parseArgs } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { pino } from 'pino'
import { runMain } from '../common/config.js'
import { loadAgentConfig } from './config.js'
import { Agent, AGENT_VERSION } from './agent.js'
import { createInputs } from './inputs/registry.js'
import { jobRun } from './job-run.js'

const HELP = `kanshi-agent ${AGENT_VERSION} — collects system metrics and sends them to a kanshi collector

Usage:
  kanshi-agent --config FILE      run the agent
  kanshi-agent --check-config --config FILE
                                  check the config and exit (0: good; 2: one line naming the key)
  kanshi-agent job run --name NAME [--deadline HH:MM] --config FILE -- COMMAND [ARGS…]
                                  run a batch job or backup and record its result for the agent
  kanshi-agent --version
  kanshi-agent --help

Environment: KANSHI_AGENT_TOKEN overrides collector.token.
`

async function main (argv: string[]): Promise<number> {
  if (argv[0] === 'job') return await job(argv.slice(1))
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' }, 'check-config': { type: 'boolean' } } })
  if (values.help === true) { process.stdout.write(HELP); return 0 }
  if (values.version === true) { process.stdout.write(`${AGENT_VERSION}\n`); return 0 }
  if (values.config === undefined) { process.stderr.write('kanshi-agent: --config FILE is required (see --help)\n'); return 2 }
  const config = loadAgentConfig(values.config)
  if (values['check-config'] === true) {
    const l = config.logs
    process.stdout.write(`${values.config}: ok (agent ${config.id}; ${config.checks.length} checks; ${l.files.length + l.journald.length + l.winevent.length} log sources)\n`)
    return 0
  }
  const { files, journald, winevent } = config.logs
  // Without log tailing or the push listener the agent runs a few ms of JavaScript per interval:
  // leaving TurboFan out keeps its code pages and zones out of RSS at no CPU cost (BENCHMARKS.md).
  if (files.length + journald.length + winevent.length === 0 && !config.push.enabled) setFlagsFromString('--max-opt=1')
  const logger = pino({ level: config.log.level, base: { program: 'kanshi-agent', agent: config.id }, redact: { paths: ['token', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime })
  // On Windows systeminformation runs PowerShell per call; one persistent shell serves all inputs instead.
  const si = process.platform === 'win32' ? await import('systeminformation') : undefined
  si?.powerShellStart()
  const agent = new Agent({ config, logger, inputs: await createInputs(config) })
  await agent.start()
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping')
    void (async () => {
      await agent.stop()
      si?.powerShellRelease()
      logger.info({ spooled: agent.spool.batches }, 'stopped')
      process.exitCode = 0
    })()
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  return -1
}

async function job (argv: string[]): Promise<number> {
  const sep = argv.indexOf('--')
  const { values, positionals } = parseArgs({ args: sep < 0 ? argv : argv.slice(0, sep), options: { config: { type: 'string', short: 'c' }, name: { type: 'string' }, deadline: { type: 'string' } }, allowPositionals: true })
  const command = sep < 0 ? [] : argv.slice(sep + 1)
  if (positionals[0] !== 'run' || values.name === undefined || values.config === undefined || command.length === 0) {
    process.stderr.write('kanshi-agent: usage: job run --name NAME [--deadline HH:MM] --config FILE -- COMMAND [ARGS…]\n')
    return 2
  }
  if (values.deadline !== undefined && !/^([01]\d|2[0-3]):[0-5]\d$/.test(values.deadline)) {
    process.stderr.write(`kanshi-agent: --deadline: expected HH:MM such as 06:00, got ${JSON.stringify(values.deadline)}\n`)
    return 2
  }
  const config = loadAgentConfig(values.config, { ...process.env, KANSHI_AGENT_TOKEN: process.env['KANSHI_AGENT_TOKEN'] ?? 'unused-by-job-run' })
  return await jobRun({ name: values.name, dataDir: config.dataDir, timezone: config.timezone, command, ...(values.deadline !== undefined ? { deadline: values.deadline } : {}) })
}

runMain('kanshi-agent', main)
