import t from 'tap'
import { Ajv } from 'ajv'
import * as messages from '../../protocol/messages.js'

// The programs compile the protocol schemas with validateSchema: false (the
// draft-07 meta-schema cost the agent 8 MiB of peak RSS); the meta-schema check
// they skip is made here, once, for every schema the protocol exports.
const schemas = Object.entries(messages).filter(([name]) => name.endsWith('Schema') || name === 'LogLevel')
const meta = new Ajv({ strict: true })

t.ok(schemas.length >= 9, `every exported schema found (${schemas.map(([n]) => n).join(', ')})`)
for (const [name, schema] of schemas) {
  t.equal(meta.validateSchema(schema as object), true, `${name} is a valid draft-07 schema: ${meta.errorsText(meta.errors)}`)
}

t.test('the collector frames the agent reads are still checked', async t => {
  t.equal(messages.validateWelcome({ type: 'welcome', protocol: 1, ackedSeq: 0, serverTime: 1 }), true)
  t.equal(messages.validateWelcome({ type: 'welcome', protocol: 1, ackedSeq: -1, serverTime: 1 }), false)
  t.equal(messages.validateWelcome.describe(), 'ackedSeq: must be >= 0')
  t.equal(messages.validateAck({ type: 'ack', seq: 3 }), true)
  t.equal(messages.validateAck({ type: 'ack', seq: '3' }), false)
  t.equal(messages.validateErrorFrame({ type: 'error', code: 'E_BAD_FRAME', message: 'm' }), true)
  t.equal(messages.validateErrorFrame({ type: 'error', code: 'E_BAD_FRAME' }), false)
})

t.test('a schema with an unknown keyword is still refused at compile (strict mode)', async t => {
  t.throws(() => messages.compile({ type: 'string', minLenght: 1 } as never)({}), /unknown keyword: "minLenght"/)
})
