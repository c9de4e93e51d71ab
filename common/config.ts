// Config loading shared by every program: YAML file → schema defaults →
// validation, with one clear line naming the file, the key and what was expected.

import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { TransformDecodeError, Value, ValueErrorType } from '@sinclair/typebox/value'
import { Type, type SchemaOptions, type Static, type StaticDecode, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import { parseBytes, parseDuration } from './units.js'

/** ConfigError is printed as its message alone, and the program exits 2. */
export class ConfigError extends Error {
  constructor (readonly file: string, readonly key: string, readonly expected: string) {
    super(`${file}: ${key === '' ? '(top level)' : key}: ${expected}`)
    this.name = 'ConfigError'
  }
}

/** Strict is the option of every config object: unknown keys are errors. */
export const Strict = { additionalProperties: false } as const

/** relativeTo resolves a path written in a config file against the file's own directory. */
export function relativeTo (file: string): (p: string) => string {
  const base = dirname(resolve(file))
  return p => isAbsolute(p) ? p : resolve(base, p)
}

/** readYamlFile parses a YAML file, turning read and syntax failures into ConfigErrors. */
export function readYamlFile (file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(file, '', `cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)})`)
  }
  try {
    return parseYaml(text, { prettyErrors: true }) ?? {}
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const where = err.linePos?.[0] ? `line ${err.linePos[0].line}` : ''
      throw new ConfigError(file, where, `invalid YAML: ${err.message.split('\n')[0]}`)
    }
    throw err
  }
}

/**
 * checkConfig fills defaults from the schema and validates. Unknown keys are
 * errors (a typo must not silently fall back to a default).
 */
export function checkConfig<S extends TSchema> (file: string, schema: S, raw: unknown): Static<S> {
  const value = Value.Default(schema, Value.Clone(raw ?? {}))
  const first = Value.Errors(schema, value).First()
  if (first === undefined) return value as Static<S>
  const key = first.path.slice(1).replace(/\//g, '.')
  const got = first.value === undefined ? 'got missing' : `got ${JSON.stringify(first.value)?.slice(0, 80)}`
  if (first.type === ValueErrorType.ObjectAdditionalProperties) {
    const known = Object.keys((first.schema as { properties?: object }).properties ?? {})
    throw new ConfigError(file, key, `unknown key (a typo?); expected one of ${known.join(', ')}`)
  }
  // Find the innermost schema description: it says what is expected in words.
  const want = (first.schema as { description?: string }).description ?? first.message.replace(/^Expected /i, '')
  throw new ConfigError(file, key, `expected ${lowerFirst(want)}, ${got}`)
}

interface UnitOptions { default?: string | number, min?: number, description?: string }

/** unitField is a string-or-number config field that parse turns into a number of at least min. */
function unitField (o: UnitOptions, parse: (v: unknown) => number | undefined, description: string, unit: string) {
  const min = o.min ?? 0
  return Type.Transform(Type.Union([Type.String(), Type.Number()], { description, ...(o.default !== undefined ? { default: o.default } : {}) }))
    .Decode(v => {
      const n = parse(v)
      if (n === undefined || n < min) throw new Error(`expected ${description}${min > 0 ? ` of at least ${min}${unit}` : ''}, got ${JSON.stringify(v)}`)
      return n
    })
    .Encode(n => n)
}

/**
 * DurationMs is a config duration ("10s", "5m", "1h30m" or a number of ms) that decodes to
 * milliseconds. With a default it may be left out; min is the smallest value accepted (ms).
 */
export function DurationMs (o: UnitOptions = {}) {
  return unitField(o, parseDuration, o.description ?? 'a duration such as "10s", "5m" or "1h"', 'ms')
}

/** SizeBytes is a config byte size ("256MiB", "1GiB" or a number of bytes) that decodes to bytes. */
export function SizeBytes (o: UnitOptions = {}) {
  return unitField(o, parseBytes, o.description ?? 'a size such as "256MiB", "1GiB" or a number of bytes', '')
}

/**
 * OneOf is a field that is one of a list of strings. Type.Union over a mapped array decodes to
 * never under StaticDecode; typing it as a one-member union keeps T.
 */
export function OneOf<T extends string> (values: readonly T[], options: SchemaOptions = {}): TUnion<[TLiteral<T>]> {
  return Type.Union(values.map(v => Type.Literal(v)), { description: `one of ${values.join(', ')}`, ...options }) as unknown as TUnion<[TLiteral<T>]>
}

/**
 * decodeConfig is checkConfig followed by the schema's transforms (DurationMs, SizeBytes and
 * any other Type.Transform): the result's type is StaticDecode<S>, so the config's TypeScript
 * type is derived from the schema and never written by hand. A transform that throws becomes
 * a ConfigError naming the key.
 */
export function decodeConfig<S extends TSchema> (file: string, schema: S, raw: unknown): StaticDecode<S> {
  const value = checkConfig(file, schema, raw)
  try {
    return Value.Decode(schema, value)
  } catch (err) {
    if (err instanceof TransformDecodeError) {
      const inner = err.error instanceof ConfigError ? err.error.expected : err.error.message
      throw new ConfigError(file, err.path.slice(1).replace(/\//g, '.'), inner)
    }
    throw err
  }
}

function lowerFirst (s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s
}

/** deepFreeze freezes a checked config so no component changes it after start-up. */
export function deepFreeze<T> (o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o)
    for (const v of Object.values(o as object)) deepFreeze(v)
  }
  return o
}

/**
 * runMain runs a program's main and sets the exit code: main's own result
 * (negative: keep running, a server), 2 with one line for a ConfigError, 1 otherwise.
 */
export function runMain (program: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(code => {
    if (code >= 0) process.exitCode = code
  }, (err: unknown) => {
    const config = err instanceof ConfigError
    process.stderr.write(`${program}: ${config ? err.message : (err as Error).stack ?? String(err)}\n`)
    process.exitCode = config ? 2 : 1
  })
}
