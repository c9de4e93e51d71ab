// agent.yaml logs: one schema for every log source type (file, journald,
// winevent), then per-type rules whose errors name the entry and the key.

import { dirname, isAbsolute, resolve } from 'node:path'
import { Type, type Static } from '@sinclair/typebox'
import { ConfigError, bytesAt, durationAt } from '../common/config.js'
import { Limits } from '../protocol/limits.js'
import { DEFAULT_LEVELS, ENCODINGS, LEVELS, type Encoding, type Level } from './inputs/logline.js'
import type { FileSourceSpec } from './inputs/logs.js'
import type { JournaldSpec } from './inputs/journald.js'
import type { WinEventSpec } from './inputs/winevent.js'

const Dur = (description: string) => Type.Union([Type.String(), Type.Number()], { description })
const Size = (description: string) => Type.Union([Type.String(), Type.Number()], { description })
const LevelName = Type.Union(LEVELS.map(l => Type.Literal(l)), { description: `one of ${LEVELS.join(', ')}` })
const Regexes = Type.Array(Type.String(), { description: 'a list of regular expressions' })

export const LogSchema = Type.Object({
  type: Type.Union(['file', 'journald', 'winevent'].map(t => Type.Literal(t)), { default: 'file', description: 'one of file, journald, winevent' }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'a name for the entry (default: its path, units or channel)' })),
  // file
  path: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], { description: 'a file path or glob (* ? [..]), or a list of them' })),
  source: Type.Optional(Type.String({ minLength: 1, maxLength: Limits.maxEventSourceLength, description: 'a fixed source tag for the events (default: the file path)' })),
  encoding: Type.Union(ENCODINGS.map(e => Type.Literal(e)), { default: 'utf8', description: `one of ${ENCODINGS.join(', ')}` }),
  startAt: Type.Union([Type.Literal('end'), Type.Literal('beginning')], { default: 'end', description: 'end or beginning (where to start in files found at the first start)' }),
  multiline: Type.Optional(Type.Object({
    start: Type.String({ description: 'a regular expression matching the first line of a record' }),
    maxLines: Type.Integer({ default: 500, minimum: 1, description: 'a number of lines' }),
    maxBytes: Type.Optional(Size('a size such as "64KiB"')),
    timeout: Type.Optional(Dur('a duration such as "2s"'))
  }, { additionalProperties: false, description: 'a map with start (a regular expression)' })),
  maxLineBytes: Type.Optional(Size('a size such as "16KiB"')),
  rotateWait: Type.Optional(Dur('a duration such as "5s"')),
  // every type
  levels: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'a map of level names to regular expressions' })),
  defaultLevel: Type.Optional(LevelName),
  minLevel: Type.Optional(LevelName),
  include: Type.Optional(Regexes),
  exclude: Type.Optional(Regexes),
  rateLimit: Type.Number({ default: 500, minimum: 0, description: 'a number of lines per second (0: no limit)' }),
  burst: Type.Optional(Type.Integer({ minimum: 1, description: 'a number of lines' })),
  tags: Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ maxLength: 256 }), { default: {}, description: 'a map of tag names to strings' }),
  // journald
  units: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'a list of systemd unit names' })),
  identifiers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'a list of syslog identifiers' })),
  command: Type.Optional(Type.String({ minLength: 1, description: 'the journalctl (or PowerShell) executable' })),
  directory: Type.Optional(Type.String({ minLength: 1, description: 'a directory of journal files (default: the system journal)' })),
  // winevent
  channel: Type.Optional(Type.String({ minLength: 1, description: 'an event log name such as Application or System' })),
  providers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'a list of event providers' })),
  interval: Type.Optional(Dur('a duration such as "10s"'))
}, { additionalProperties: false })

export type LogConfig = Static<typeof LogSchema>

/** The log input's key among the spool's cursors (here, so that main.ts can read it without loading the log input). */
export const CURSOR_KEY = 'logs'

export interface LogSpecs {
  files: FileSourceSpec[]
  journald: JournaldSpec[]
  winevent: WinEventSpec[]
}

function regex (file: string, key: string, v: string): RegExp {
  try { return new RegExp(v) } catch (err) { throw new ConfigError(file, key, `expected a valid regular expression, got ${JSON.stringify(v)} (${(err as Error).message})`) }
}

/** buildLogs turns checked logs: entries into sources, naming the file, the entry and the key on a mistake. */
export function buildLogs (file: string, logs: readonly LogConfig[]): LogSpecs {
  const base = dirname(resolve(file))
  const out: LogSpecs = { files: [], journald: [], winevent: [] }
  const names = new Set<string>()
  logs.forEach((c, i) => {
    const label = c.name ?? (typeof c.path === 'string' ? c.path : c.path?.[0]) ?? c.units?.join(',') ?? c.channel ?? c.type
    const at = (k: string): string => `logs.${i}(${label}).${k}`
    const only = (keys: Array<keyof LogConfig>, type: string): void => {
      for (const k of keys) if (c[k] !== undefined) throw new ConfigError(file, at(k), `expected no ${k} for a ${c.type} source (it applies to ${type} sources), got ${JSON.stringify(c[k])}`)
    }
    const levels: Array<[Level, RegExp]> = c.levels === undefined
      ? [...DEFAULT_LEVELS]
      : Object.entries(c.levels).map(([l, re]) => {
        if (!(LEVELS as readonly string[]).includes(l)) throw new ConfigError(file, at(`levels.${l}`), `expected a level name (${LEVELS.join(', ')}), got "${l}"`)
        return [l as Level, regex(file, at(`levels.${l}`), re)] as [Level, RegExp]
      }).sort((a, b) => LEVELS.indexOf(a[0]) - LEVELS.indexOf(b[0]))
    const common = {
      levels,
      defaultLevel: c.defaultLevel ?? 'info',
      minLevel: c.minLevel ?? 'debug',
      include: (c.include ?? []).map((re, j) => regex(file, at(`include.${j}`), re)),
      exclude: (c.exclude ?? []).map((re, j) => regex(file, at(`exclude.${j}`), re)),
      rateLimit: c.rateLimit,
      burst: c.burst ?? Math.max(1, Math.ceil(c.rateLimit * 10)),
      tags: c.tags
    }
    if (names.has(label)) throw new ConfigError(file, at('name'), `expected a unique name for each logs entry, got "${label}" twice (set name:)`)
    names.add(label)
    if (c.type === 'file') {
      only(['units', 'identifiers', 'channel', 'providers', 'command', 'interval', 'directory'], 'journald or winevent')
      if (c.path === undefined) throw new ConfigError(file, at('path'), 'expected a file path or glob for a file source, got missing')
      const paths = (typeof c.path === 'string' ? [c.path] : c.path).map(p => isAbsolute(p) ? p : resolve(base, p))
      let multiline: FileSourceSpec['multiline']
      if (c.multiline !== undefined) {
        multiline = {
          start: regex(file, at('multiline.start'), c.multiline.start),
          maxLines: c.multiline.maxLines,
          maxBytes: bytesAt(file, at('multiline.maxBytes'), c.multiline.maxBytes ?? '64KiB', 1),
          timeoutMs: durationAt(file, at('multiline.timeout'), c.multiline.timeout ?? '2s', 10)
        }
      }
      out.files.push({
        ...common,
        name: label,
        paths,
        ...(c.source !== undefined ? { source: c.source } : {}),
        encoding: c.encoding as Encoding,
        startAt: c.startAt,
        ...(multiline !== undefined ? { multiline } : {}),
        maxLineBytes: bytesAt(file, at('maxLineBytes'), c.maxLineBytes ?? '16KiB', 64),
        rotateWaitMs: durationAt(file, at('rotateWait'), c.rotateWait ?? '5s', 0)
      })
    } else if (c.type === 'journald') {
      only(['path', 'multiline', 'maxLineBytes', 'rotateWait', 'channel', 'providers', 'interval'], 'file or winevent')
      out.journald.push({ ...common, name: label, units: c.units ?? [], identifiers: c.identifiers ?? [], command: c.command ?? 'journalctl', ...(c.directory !== undefined ? { directory: isAbsolute(c.directory) ? c.directory : resolve(base, c.directory) } : {}), ...(c.source !== undefined ? { source: c.source } : {}) })
    } else {
      only(['path', 'multiline', 'maxLineBytes', 'rotateWait', 'units', 'identifiers', 'directory'], 'file or journald')
      out.winevent.push({ ...common, name: label, channel: c.channel ?? 'Application', providers: c.providers ?? [], command: c.command ?? 'powershell.exe', intervalMs: durationAt(file, at('interval'), c.interval ?? '10s', 1000), ...(c.source !== undefined ? { source: c.source } : {}) })
    }
  })
  return out
}
