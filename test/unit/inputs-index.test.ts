// The registry of system inputs: names, order, options passed through.

import t from 'tap'
import { createSystemInputs, SYSTEM_INPUTS } from '../../agent/inputs/registry.js'

t.test('all six by default, in the documented order', async t => {
  t.strictSame(createSystemInputs().map(i => i.name), ['cpu', 'mem', 'disk', 'diskio', 'net', 'system'])
  t.strictSame([...SYSTEM_INPUTS], ['cpu', 'mem', 'disk', 'diskio', 'net', 'system'])
})

t.test('a chosen subset, an unknown name refused', async t => {
  t.strictSame(createSystemInputs({ enabled: ['net', 'cpu'] }).map(i => i.name), ['net', 'cpu'])
  t.strictSame(createSystemInputs({ enabled: [] }), [])
  t.throws(() => createSystemInputs({ enabled: ['cpu', 'gpu'] }), /unknown input gpu/)
})
