// agent.yaml logs: one schema for every source type (file, journald, winevent),
// then per-type rules whose errors name the entry and the key, and the specs
// each source runs from.

import { dirname, isAbsolute, resolve } from 'node:path'
import { Type, type StaticDecode } from '@sinclair/typebox'
import { ConfigError, DurationMs, OneOf, SizeBytes } from '../../../common/config.js'
import { Limits } from '../../../protocol/limits.js'
import { DEFAULT_LEVELS, ENCODINGS, LEVELS, type Level, type MultilineOptions } from './logline.js'
import { buildRedactor, RedactSchema, type Redactor } from './redact.js'

const LevelName = OneOf(LEVELS)
const Regexes = Type.Array(Type.String(), { description: 'a list of regular expressions' })

export const LogSchema = Type.Object({
  type: OneOf(['file', 'journald', 'winevent'], { default: 'file' }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'a name for the entry (default: its path, units or channel)' })),
  // file
  path: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], { description: 'a file path or glob (* ? [..]), or a list of them' })),
  source: Type.Optional(Type.String({ minLength: 1, maxLength: Limits.maxEventSourceLength, description: 'a fixed source tag for the events (default: the file path)' })),
  encoding: OneOf(ENCODINGS, { default: 'utf8' }),
  startAt: Type.Union([Type.Literal('end'), Type.Literal('beginning')], { default: 'end', description: 'end or beginning (where to start in files found at the first start)' }),
  multiline: Type.Optional(Type.Object({
    start: Type.String({ description: 'a regular expression matching the first line of a record' }),
    maxLines: Type.Integer({ default: 500, minimum: 1, description: 'a number of lines' }),
    maxBytes: SizeBytes({ default: '64KiB', min: 1 }),
    timeout: DurationMs({ default: '2s', min: 10 })
  }, { additionalProperties: false, description: 'a map with start (a regular expression)' })),
  maxLineBytes: Type.Optional(SizeBytes({ min: 64 })),
  rotateWait: Type.Optional(DurationMs()),
  // every type
  levels: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'a map of level names to regular expressions' })),
  defaultLevel: Type.Optional(LevelName),
  minLevel: Type.Optional(LevelName),
  include: Type.Optional(Regexes),
  exclude: Type.Optional(Regexes),
  rateLimit: Type.Number({ default: 500, minimum: 0, description: 'a number of lines per second (0: no limit)' }),
  burst: Type.Optional(Type.Integer({ minimum: 1, description: 'a number of lines' })),
  tags: Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ maxLength: 256 }), { default: {}, description: 'a map of tag names to strings' }),
  redact: Type.Optional(RedactSchema),
  security: Type.Boolean({ default: true, description: 'true or false (tag failed logons, lockouts, logins and malware events with kind)' }),
  // journald
  units: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'a list of systemd unit names' })),
  identifiers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'a list of syslog identifiers' })),
  command: Type.Optional(Type.String({ minLength: 1, description: 'the journalctl (or PowerShell) executable' })),
  directory: Type.Optional(Type.String({ minLength: 1, description: 'a directory of journal files (default: the system journal)' })),
  // winevent
  channel: Type.Optional(Type.String({ minLength: 1, description: 'an event log name such as Application or System' })),
  providers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'a list of event providers' })),
  eventIds: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 65535 }), { minItems: 1, maxItems: 64, description: 'a list of event ids such as [4624, 4625, 4740]' })),
  interval: Type.Optional(DurationMs({ min: 1000, description: 'a duration such as "10s"' }))
}, { additionalProperties: false })

export type LogEntry = StaticDecode<typeof LogSchema>

/** The log input's key among the spool's cursors. */
export const CURSOR_KEY = 'logs'

/** What every source type shares: filters, level floor, rate limit. */
export interface GateSpec {
  name: string
  source?: string
  levels: ReadonlyArray<[Level, RegExp]>
  defaultLevel: Level
  minLevel: Level
  include: RegExp[]
  exclude: RegExp[]
  rateLimit: number
  burst: number
  tags: Record<string, string>
  /** personal data replaced in each record's text before anything else sees it (none: no cost) */
  redact?: Redactor
  /** tag security events with kind (security.ts); default true */
  security?: boolean
}

export interface FileSourceSpec extends GateSpec {
  paths: string[]
  encoding: LogEntry['encoding']
  startAt: LogEntry['startAt']
  multiline?: MultilineOptions & { timeoutMs: number }
  maxLineBytes: number
  rotateWaitMs: number
}

export interface JournaldSpec extends GateSpec {
  units: string[]
  identifiers: string[]
  command: string
  /** read the journal files in this directory instead of the system journal (journalctl --directory) */
  directory?: string
}

export interface WinEventSpec extends GateSpec {
  channel: string
  providers: string[]
  /** only these event ids (an XPath filter in the query: the Security log is large) */
  eventIds?: number[]
  command: string
  intervalMs: number
}

export interface LogSpecs {
  files: FileSourceSpec[]
  journald: JournaldSpec[]
  winevent: WinEventSpec[]
}

/** logLabel names a logs: entry in errors: its name, first path, units or channel, or its type. */
export function logLabel (c: Pick<LogEntry, 'name' | 'path' | 'units' | 'channel' | 'type'>): string {
  return c.name ?? (typeof c.path === 'string' ? c.path : c.path?.[0]) ?? c.units?.join(',') ?? c.channel ?? c.type
}

function regex (file: string, key: string, v: string): RegExp {
  try { return new RegExp(v) } catch (err) { throw new ConfigError(file, key, `expected a valid regular expression, got ${JSON.stringify(v)} (${(err as Error).message})`) }
}

/** buildLogs turns decoded logs: entries into source specs, naming the file, the entry and the key on a mistake. */
export function buildLogs (file: string, logs: readonly LogEntry[]): LogSpecs {
  const base = dirname(resolve(file))
  const abs = (p: string): string => isAbsolute(p) ? p : resolve(base, p)
  const out: LogSpecs = { files: [], journald: [], winevent: [] }
  const names = new Set<string>()
  logs.forEach((c, i) => {
    const label = logLabel(c)
    const at = (k: string): string => `logs.${i}(${label}).${k}`
    const only = (keys: Array<keyof LogEntry>, type: string): void => {
      for (const k of keys) if (c[k] !== undefined) throw new ConfigError(file, at(k), `expected no ${k} for a ${c.type} source (it applies to ${type} sources), got ${JSON.stringify(c[k])}`)
    }
    const levels: Array<[Level, RegExp]> = c.levels === undefined
      ? [...DEFAULT_LEVELS]
      : Object.entries(c.levels).map(([l, re]) => {
        if (!(LEVELS as readonly string[]).includes(l)) throw new ConfigError(file, at(`levels.${l}`), `expected a level name (${LEVELS.join(', ')}), got "${l}"`)
        return [l as Level, regex(file, at(`levels.${l}`), re)] as [Level, RegExp]
      }).sort((a, b) => LEVELS.indexOf(a[0]) - LEVELS.indexOf(b[0]))
    const redact = buildRedactor(file, j => at(`redact.${j}`), c.redact)
    const gate: GateSpec = {
      name: label,
      ...(c.source !== undefined ? { source: c.source } : {}),
      levels,
      defaultLevel: c.defaultLevel ?? 'info',
      minLevel: c.minLevel ?? 'debug',
      include: (c.include ?? []).map((re, j) => regex(file, at(`include.${j}`), re)),
      exclude: (c.exclude ?? []).map((re, j) => regex(file, at(`exclude.${j}`), re)),
      rateLimit: c.rateLimit,
      burst: c.burst ?? Math.max(1, Math.ceil(c.rateLimit * 10)),
      tags: c.tags,
      security: c.security,
      ...(redact !== undefined ? { redact } : {})
    }
    if (names.has(label)) throw new ConfigError(file, at('name'), `expected a unique name for each logs entry, got "${label}" twice (set name:)`)
    names.add(label)
    if (c.type === 'file') {
      only(['units', 'identifiers', 'channel', 'providers', 'eventIds', 'command', 'interval', 'directory'], 'journald or winevent')
      if (c.path === undefined) throw new ConfigError(file, at('path'), 'expected a file path or glob for a file source, got missing')
      const m = c.multiline
      out.files.push({
        ...gate,
        paths: (typeof c.path === 'string' ? [c.path] : c.path).map(abs),
        encoding: c.encoding,
        startAt: c.startAt,
        ...(m !== undefined ? { multiline: { start: regex(file, at('multiline.start'), m.start), maxLines: m.maxLines, maxBytes: m.maxBytes, timeoutMs: m.timeout } } : {}),
        maxLineBytes: c.maxLineBytes ?? 16 * 1024,
        rotateWaitMs: c.rotateWait ?? 5000
      })
    } else if (c.type === 'journald') {
      only(['path', 'multiline', 'maxLineBytes', 'rotateWait', 'channel', 'providers', 'eventIds', 'interval'], 'file or winevent')
      out.journald.push({ ...gate, units: c.units ?? [], identifiers: c.identifiers ?? [], command: c.command ?? 'journalctl', ...(c.directory !== undefined ? { directory: abs(c.directory) } : {}) })
    } else {
      only(['path', 'multiline', 'maxLineBytes', 'rotateWait', 'units', 'identifiers', 'directory'], 'file or journald')
      out.winevent.push({ ...gate, channel: c.channel ?? 'Application', providers: c.providers ?? [], ...(c.eventIds !== undefined ? { eventIds: c.eventIds } : {}), command: c.command ?? 'powershell.exe', intervalMs: c.interval ?? 10_000 })
    }
  })
  return out
}
