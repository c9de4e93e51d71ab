// Wire protocol v1 between agent and collector: one TypeBox schema per message,
// the TypeScript types derived from them, and validators compiled once.

import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { Limits } from './limits.js'
import { colsProblem, isBatch } from './batch-check.js'

/**
 * AnyKey is the key schema of every Record (map) in a config or a frame. TypeBox's default key
 * pattern "^(.*)$" matches no line break, so such a key's value would be checked by nothing.
 */
export const AnyKey = Type.String({ pattern: '^[\\s\\S]*$' })

/**
 * PROTOCOL_VERSION is the newest protocol this build speaks; PROTOCOL_MIN the oldest it still
 * accepts. Protocol 2 adds stored acknowledgements (`stored` frames, welcome.storedSeq) and
 * `resend` batches; protocol 3 adds columnar points (`cols`, protocol/columns.ts) (docs/protocol.md).
 */
export const PROTOCOL_VERSION = 3
export const PROTOCOL_MIN = 1

export { Limits }

const Name = Type.String({ minLength: 1, maxLength: Limits.maxNameLength })
// A Record's key schema becomes a pattern only, so key lengths are checked by propertyNames:
// an empty tag or field key would otherwise pass here and be refused by InfluxDB.
const Keys = { propertyNames: { minLength: 1, maxLength: Limits.maxNameLength } }
const TagValue = Type.String({ maxLength: Limits.maxTagValueLength })
const Millis = Type.Integer({ minimum: 0, maximum: Limits.maxTimeMs })
const FieldValue = Type.Union([
  Type.Number(),
  Type.Boolean(),
  Type.String({ maxLength: Limits.maxStringFieldLength })
])

export const PointSchema = Type.Object({
  m: Name,
  t: Millis,
  tags: Type.Optional(Type.Record(AnyKey, TagValue, { maxProperties: Limits.maxTagsPerPoint, ...Keys })),
  f: Type.Record(AnyKey, FieldValue, { minProperties: 1, maxProperties: Limits.maxFieldsPerPoint, ...Keys })
})
export type Point = Static<typeof PointSchema>

export const LogLevel = Type.Union(['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'].map(l => Type.Literal(l)))

export const EventSchema = Type.Object({
  t: Millis,
  source: Type.String({ minLength: 1, maxLength: Limits.maxEventSourceLength }),
  level: Type.String({ minLength: 1, maxLength: Limits.maxEventLevelLength }),
  message: Type.String({ maxLength: Limits.maxEventMessageLength }),
  tags: Type.Optional(Type.Record(AnyKey, TagValue, { maxProperties: Limits.maxTagsPerPoint, ...Keys }))
})
export type LogEvent = Static<typeof EventSchema>

export const AgentInfoSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  hostname: Type.String({ maxLength: 256 }),
  role: Type.Optional(Type.String({ maxLength: 64 })),
  site: Type.Optional(Type.String({ maxLength: 64 })),
  version: Type.String({ maxLength: 64 }),
  os: Type.String({ maxLength: 64 }),
  labels: Type.Optional(Type.Record(AnyKey, Type.String({ maxLength: 256 }), { maxProperties: 32, propertyNames: { minLength: 1, maxLength: 64 } })),
  /** collection interval in ms; the collector judges silence from it */
  intervalMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 86_400_000 }))
})

export const HelloSchema = Type.Object({
  type: Type.Literal('hello'),
  protocol: Type.Integer(),
  agent: AgentInfoSchema
})

/**
 * ColsSchema (protocol 3): one series' numeric points as columns. What a schema cannot say — v a
 * whole number of rows of f.length + 1 numbers, each row's time a whole ms in range, the batch's
 * points and rows together within maxPointsPerBatch — colsProblem() checks.
 */
export const ColsSchema = Type.Object({
  m: Name,
  tags: Type.Optional(Type.Record(AnyKey, TagValue, { maxProperties: Limits.maxTagsPerPoint, ...Keys })),
  f: Type.Array(Name, { minItems: 1, maxItems: Limits.maxFieldsPerPoint, uniqueItems: true }),
  v: Type.Array(Type.Number(), { maxItems: Limits.maxPointsPerBatch * (Limits.maxFieldsPerPoint + 1) })
})

export const BatchSchema = Type.Object({
  type: Type.Literal('batch'),
  seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  points: Type.Array(PointSchema, { maxItems: Limits.maxPointsPerBatch }),
  events: Type.Optional(Type.Array(EventSchema, { maxItems: Limits.maxEventsPerBatch })),
  /** protocol 3: points whose fields are all numbers, as columns per series */
  cols: Type.Optional(Type.Array(ColsSchema, { maxItems: Limits.maxPointsPerBatch })),
  /** protocol 2: acked before by another collector and sent again (its points go to storage, not to alerting) */
  resend: Type.Optional(Type.Boolean())
})
export type Batch = Static<typeof BatchSchema>

export const WelcomeSchema = Type.Object({
  type: Type.Literal('welcome'),
  protocol: Type.Integer(),
  ackedSeq: Type.Integer({ minimum: 0 }),
  /** protocol 2: the highest seq whose points every storage target holds (the agent may delete through it) */
  storedSeq: Type.Optional(Type.Integer({ minimum: 0 })),
  serverTime: Type.Integer()
})

export const AckSchema = Type.Object({ type: Type.Literal('ack'), seq: Type.Integer({ minimum: 0 }) })
export type Ack = Static<typeof AckSchema>

/** StoredSchema (protocol 2): every batch of this agent up to seq is in every storage target. */
export const StoredSchema = Type.Object({ type: Type.Literal('stored'), seq: Type.Integer({ minimum: 0 }) })

export const ErrorFrameSchema = Type.Object({
  type: Type.Literal('error'),
  seq: Type.Optional(Type.Integer()),
  code: Type.String(),
  message: Type.String()
})

// validateSchema: false keeps Ajv from compiling the whole draft-07 meta-schema, which costs the
// agent's RSS (BENCHMARKS.md); test/unit/protocol-schemas.test.ts checks every schema against it instead.
const ajv = new Ajv({ allErrors: false, strict: true, coerceTypes: false, validateSchema: false })

export interface Validator<T> {
  (value: unknown): value is T
  /** describe renders the first schema error as "path: message". */
  describe(): string
}

/**
 * compile builds a validator on its first use; callers keep it for the life of the process. Lazy,
 * so the agent, which checks only the collector's small frames, never compiles hello and batch.
 */
export function compile<S extends TSchema> (schema: S): Validator<Static<S>> {
  let fn: ValidateFunction | undefined
  const v = ((value: unknown) => (fn ??= ajv.compile(schema))(value)) as Validator<Static<S>>
  v.describe = () => describeErrors(fn?.errors)
  return v
}

/** describeErrors renders Ajv's first error as "path: message". */
function describeErrors (errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0]
  if (e === undefined) return 'invalid'
  const path = e.instancePath === '' ? '(root)' : e.instancePath.slice(1).replace(/\//g, '.')
  const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params['additionalProperty'])})` : ''
  return `${path}: ${e.message ?? 'invalid'}${extra}`
}

export const validateHello = compile(HelloSchema)
const checkBatch = compile(BatchSchema)
/**
 * validateBatch takes the allocation-free check first (batch-check.ts); a batch it refuses goes
 * to Ajv, which says what is wrong and has the last word on the shape, and then to colsProblem()
 * for what the schema cannot say about columns.
 */
let problem: string | undefined
export const validateBatch: Validator<Batch> = Object.assign((v: unknown): v is Batch => {
  if (isBatch(v)) return true
  problem = undefined
  if (!checkBatch(v)) return false
  problem = colsProblem(v)
  return problem === undefined
}, { describe: () => problem ?? checkBatch.describe() })
export const validateWelcome = compile(WelcomeSchema)
export const validateAck = compile(AckSchema)
export const validateStored = compile(StoredSchema)
export const validateErrorFrame = compile(ErrorFrameSchema)
