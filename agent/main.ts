// kanshi-agent: the entry point. Loads the config, starts the inputs, the
// spool and the transport, and stops cleanly on SIGTERM/SIGINT.

import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { runMain } from '../protocol/config.js'
import { loadAgentConfig } from './config.js'
import { Agent, AGENT_VERSION } from './agent.js'
import { createSystemInputs } from './inputs/index.js'
import { PushListener } from './inputs/push.js'
import { ServiceChecks } from './inputs/service.js'

const HELP = `kanshi-agent ${AGENT_VERSION} — collects system metrics and sends them to a kanshi collector

Usage:
  kanshi-agent --config FILE      run the agent
  kanshi-agent --version
  kanshi-agent --help

Environment: KANSHI_AGENT_TOKEN overrides collector.token.
`

async function main (argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } } })
  if (values.help === true) { process.stdout.write(HELP); return 0 }
  if (values.version === true) { process.stdout.write(`${AGENT_VERSION}\n`); return 0 }
  if (values.config === undefined) { process.stderr.write('kanshi-agent: --config FILE is required (see --help)\n'); return 2 }
  const config = loadAgentConfig(values.config)
  const logger = pino({ level: config.log.level, base: { program: 'kanshi-agent', agent: config.id }, redact: { paths: ['token', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime })
  const inputs = createSystemInputs({
    enabled: [...config.inputs.enabled],
    disk: config.inputs.disk,
    net: config.inputs.net
  })
  // On Windows systeminformation runs PowerShell per call; one persistent shell serves all inputs instead.
  const si = process.platform === 'win32' ? await import('systeminformation') : undefined
  si?.powerShellStart()
  const checks = new ServiceChecks([...config.checks])
  if (config.checks.length > 0) inputs.push(checks)
  const agent = new Agent({ config, logger, inputs })
  await agent.start()
  checks.start()
  let push: PushListener | undefined
  if (config.push.enabled) {
    push = new PushListener({ host: config.push.host, port: config.push.port, enqueue: async (p, e) => await agent.enqueue(p, e) })
    await push.start()
    logger.info({ url: `http://${config.push.host}:${push.port}/v1/push` }, 'push endpoint listening')
  }
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping')
    void (async () => {
      await push?.close()
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

runMain('kanshi-agent', main)
