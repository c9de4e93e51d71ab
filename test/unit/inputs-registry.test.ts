// The input registry and lifecycle: agent.yaml decides which inputs exist, and
// the agent starts each with a context, gathers only the polled ones, and closes
// them newest first (a failed start closes those already started).

import t from 'tap'
import { pino } from 'pino'
import { checkAgentConfig } from '../../agent/config.js'
import { Agent } from '../../agent/agent.js'
import { createInputs, INPUTS } from '../../agent/inputs/registry.js'
import type { Accumulator, Input, InputContext } from '../../agent/inputs/input.js'
import { tmpDir } from '../helpers/tmp.js'

const base = { id: 'reg', collector: { url: 'ws://127.0.0.1:1/v1/agent', token: 't' } }

t.test('the configured inputs, by family in the registry order', async t => {
  t.strictSame(Object.keys(INPUTS), ['system', 'jobs', 'service', 'logs', 'push', 'inventory'])
  const plain = await createInputs(checkAgentConfig('/etc/kanshi/agent.yaml', base, {}))
  t.strictSame(plain.map(i => i.name), ['cpu', 'mem', 'disk', 'diskio', 'net', 'system', 'jobs', 'inventory'], 'no checks, logs or push unless configured')
  const all = await createInputs(checkAgentConfig('/etc/kanshi/agent.yaml', {
    ...base,
    inputs: { enabled: ['mem'] },
    checks: [{ name: 'portal', type: 'tcp', host: '127.0.0.1', port: 1 }],
    logs: [{ path: '/var/log/app.log' }, { type: 'journald', units: ['nginx.service'] }],
    push: { enabled: true, port: 0 }
  }, {}))
  t.strictSame(all.map(i => i.name), ['mem', 'jobs', 'service', 'logs', 'push', 'inventory'], 'one log input for every log source')
  for (const i of all) await i.close?.()
})

/** probe is an input that records what the agent does with it. */
function probe (name: string, calls: string[], o: { polled?: boolean, failStart?: boolean } = {}): Input & { ctx?: InputContext } {
  const input: Input & { ctx?: InputContext } = {
    name,
    start: async ctx => {
      if (o.failStart === true) throw new Error(`${name} cannot start`)
      input.ctx = ctx
      calls.push(`start ${name}`)
    },
    close: async () => { calls.push(`close ${name}`) }
  }
  if (o.polled === true) input.gather = async (acc: Accumulator) => { calls.push(`gather ${name}`); acc.add('probe', { v: 1 }, { input: name }) }
  return input
}

t.test('the agent starts every input with a context, gathers the polled ones, closes newest first', async t => {
  const dir = await tmpDir(t)
  const config = checkAgentConfig(`${dir}/agent.yaml`, { ...base, dataDir: dir }, {})
  const calls: string[] = []
  const polled = probe('polled', calls, { polled: true })
  const long = probe('long', calls)
  const agent = new Agent({ config, logger: pino({ level: 'silent' }), inputs: [polled, long] })
  await agent.start()
  t.strictSame(calls, ['start polled', 'start long'])
  const seq = await long.ctx!.enqueue([], [{ t: 1, source: 'x', level: 'info', message: 'm' }], { long: { at: 7 } })
  t.equal(seq, 1, 'an input spools through its context')
  t.strictSame(long.ctx!.savedCursor('long'), { at: 7 }, 'and reads its saved position back')
  calls.length = 0
  await agent.tick(Date.now())
  t.strictSame(calls, ['gather polled'], 'only polled inputs are gathered')
  t.equal(agent.spool.batches, 2, 'the round became one batch')
  calls.length = 0
  await agent.stop()
  t.strictSame(calls, ['close long', 'close polled'], 'closed newest first')
})

t.test('a failed start closes the inputs already started and fails the agent', async t => {
  const dir = await tmpDir(t)
  const config = checkAgentConfig(`${dir}/agent.yaml`, { ...base, dataDir: dir }, {})
  const calls: string[] = []
  const agent = new Agent({ config, logger: pino({ level: 'silent' }), inputs: [probe('a', calls), probe('b', calls, { failStart: true })] })
  await t.rejects(agent.start(), /b cannot start/)
  t.strictSame(calls, ['start a', 'close a'])
  await agent.stop()
})
