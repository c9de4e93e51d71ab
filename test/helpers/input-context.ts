// An InputContext for starting one agent input in a test, without an agent:
// enqueue and saveCursors go where the test says, the logger is silent.

import { pino } from 'pino'
import type { InputContext } from '../../agent/inputs/input.js'

export function inputContext (o: Partial<Omit<InputContext, 'logger'>> = {}): InputContext {
  return {
    logger: pino({ level: 'silent' }),
    enqueue: o.enqueue ?? (async () => 0),
    saveCursors: o.saveCursors ?? (async () => {}),
    savedCursor: o.savedCursor ?? (() => undefined)
  }
}
