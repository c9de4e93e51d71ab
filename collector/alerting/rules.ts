// Alert rules: alert-rules/*.yaml, each a list of rules, checked at load with
// errors that name the file, the rule and the key. One schema, six rule types.

import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Type, type Static } from '@sinclair/typebox'
import { ConfigError, checkConfig, readYamlFile } from '../../common/config.js'
import { AnyKey } from '../../protocol/messages.js'
import { parseDuration } from '../../common/units.js'

const Dur = (description: string) => Type.Union([Type.String(), Type.Number()], { description })
const Text = Type.Object({
  ja: Type.String({ description: 'Japanese text' }),
  en: Type.String({ description: 'English text' })
}, { additionalProperties: false, description: 'a map with ja and en texts' })

export const RuleSchema = Type.Object({
  name: Type.String({ pattern: '^[A-Za-z0-9_.:-]+$', maxLength: 128, description: 'a rule name of letters, digits, _ . : -' }),
  type: Type.Union(['threshold', 'heartbeat', 'service', 'log', 'forecast', 'absent'].map(v => Type.Literal(v)), { description: 'one of threshold, heartbeat, service, log, forecast, absent' }),
  metric: Type.Optional(Type.String({ pattern: '^[^.\\s]+\\.[^\\s]+$', description: 'measurement.field, such as cpu.usage_percent' })),
  op: Type.Optional(Type.Union(['>', '>=', '<', '<=', '==', '!='].map(v => Type.Literal(v)), { description: 'one of > >= < <= == !=' })),
  threshold: Type.Optional(Type.Number({ description: 'a number' })),
  clear: Type.Optional(Type.Number({ description: 'a number on the recovering side of threshold' })),
  for: Type.Optional(Dur('a duration such as "5m"')),
  window: Type.Optional(Dur('a duration such as "5m"')),
  agg: Type.Optional(Type.Union(['last', 'avg', 'max', 'min'].map(v => Type.Literal(v)), { description: 'one of last, avg, max, min' })),
  // log rules
  level: Type.Optional(Type.Array(Type.String(), { description: 'a list of levels such as [error, crit]' })),
  match: Type.Optional(Type.String({ description: 'a regular expression' })),
  count: Type.Optional(Type.Integer({ minimum: 1, description: 'a whole number: log rules, events in the window; other rules, consecutive samples past the threshold' })),
  // other fields of the same point that must hold for a sample to count, e.g. { admin_up: 1 } (else the series clears)
  when: Type.Optional(Type.Record(AnyKey, Type.Number(), { description: 'a map of field names to the numbers they must equal' })),
  // forecast rules
  limit: Type.Optional(Type.Number({ description: 'the value that must not be reached' })),
  horizon: Type.Optional(Dur('a duration such as "7d"')),
  severity: Type.Union(['info', 'warning', 'critical'].map(v => Type.Literal(v)), { description: 'one of info, warning, critical' }),
  schedule: Type.String({ default: 'always', description: 'always, or the name of a schedule' }),
  where: Type.Record(AnyKey, Type.String(), { default: {}, description: 'a map of tag names to values ("~regex" for a pattern)' }),
  labels: Type.Record(AnyKey, Type.String(), { default: {}, description: 'a map of label names to strings' }),
  summary: Type.Optional(Text),
  description: Type.Optional(Text)
}, { additionalProperties: false })

export type RuleSpec = Static<typeof RuleSchema>

/** Rule is a checked rule with durations in ms and patterns compiled. */
export interface Rule {
  name: string
  type: RuleSpec['type']
  measurement: string
  field: string
  op: NonNullable<RuleSpec['op']>
  threshold: number
  clear: number | undefined
  forMs: number
  windowMs: number
  agg: NonNullable<RuleSpec['agg']>
  levels: Set<string> | undefined
  match: RegExp | undefined
  count: number
  /** fields of the point that must equal these values for a sample to count */
  when: Array<[string, number]> | undefined
  limit: number
  horizonMs: number
  severity: RuleSpec['severity']
  schedule: string
  where: Array<[string, (v: string | undefined) => boolean]>
  labels: Record<string, string>
  summary: { ja: string, en: string }
  description: { ja: string, en: string }
  file: string
}

const DEFAULT_SUMMARY: Record<RuleSpec['type'], { ja: string, en: string }> = {
  threshold: { ja: '{{host}} {{metric}} が {{value}} ({{op}} {{threshold}})', en: '{{host}} {{metric}} is {{value}} ({{op}} {{threshold}})' },
  heartbeat: { ja: '{{host}} から応答がありません', en: '{{host}} is not reporting' },
  service: { ja: '{{host}} のサービス {{service}} が停止しています', en: '{{host}} service {{service}} is down' },
  log: { ja: '{{host}} {{source}} にエラーログ {{value}} 件', en: '{{host}} {{source}}: {{value}} matching log lines' },
  forecast: { ja: '{{host}} {{metric}} が {{horizon}} 以内に {{limit}} に達する見込み', en: '{{host}} {{metric}} will reach {{limit}} within {{horizon}}' },
  absent: { ja: '{{host}} の {{metric}} が届いていません', en: '{{host}} {{metric}} has no data' }
}

function whereMatcher (file: string, key: string, v: string): (x: string | undefined) => boolean {
  if (!v.startsWith('~')) return x => x === v
  let re: RegExp
  try { re = new RegExp(v.slice(1)) } catch (err) { throw new ConfigError(file, key, `expected a valid regular expression after ~, got ${JSON.stringify(v)} (${(err as Error).message})`) }
  return x => x !== undefined && re.test(x)
}

function dur (file: string, key: string, v: unknown, def: number): number {
  if (v === undefined) return def
  const ms = parseDuration(v)
  if (ms === undefined) throw new ConfigError(file, key, `expected a duration such as "5m", got ${JSON.stringify(v)}`)
  return ms
}

/** checkRule turns one raw rule into a Rule, or throws a ConfigError naming file and key. */
export function checkRule (file: string, index: number, raw: unknown): Rule {
  const at = `[${index}]`
  let spec: RuleSpec
  try {
    spec = checkConfig(file, RuleSchema, raw)
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(file, `${at}${err.key === '' ? '' : '.' + err.key}`, err.expected)
    throw err
  }
  const key = (k: string): string => `${at}(${spec.name}).${k}`
  const need = <T>(v: T | undefined, k: string, what: string): T => {
    if (v === undefined) throw new ConfigError(file, key(k), `expected ${what} for a ${spec.type} rule, got missing`)
    return v
  }
  const implied: Partial<Record<RuleSpec['type'], string>> = { heartbeat: 'host_up.up', service: 'service.up', log: 'log_event.message' }
  const metric = need<string>(spec.metric ?? implied[spec.type], 'metric', 'a metric such as cpu.usage_percent')
  const [measurement, ...rest] = metric.split('.')
  const rule: Rule = {
    name: spec.name,
    type: spec.type,
    measurement: measurement!,
    field: rest.join('.'),
    op: spec.op ?? (spec.type === 'heartbeat' || spec.type === 'service' ? '==' : '>'),
    threshold: spec.threshold ?? (spec.type === 'heartbeat' || spec.type === 'service' ? 0 : NaN),
    clear: spec.clear,
    forMs: dur(file, key('for'), spec.for, 0),
    windowMs: dur(file, key('window'), spec.window, spec.type === 'forecast' ? 6 * 3_600_000 : spec.type === 'log' ? 300_000 : 0),
    agg: spec.agg ?? 'last',
    levels: spec.level === undefined ? undefined : new Set(spec.level),
    match: undefined,
    count: spec.count ?? 1,
    when: spec.when === undefined ? undefined : Object.entries(spec.when),
    limit: spec.limit ?? NaN,
    horizonMs: dur(file, key('horizon'), spec.horizon, 0),
    severity: spec.severity,
    schedule: spec.schedule,
    where: Object.entries(spec.where).map(([k, v]) => [k, whereMatcher(file, key(`where.${k}`), v)]),
    labels: spec.labels,
    summary: spec.summary ?? DEFAULT_SUMMARY[spec.type],
    description: spec.description ?? { ja: '', en: '' },
    file
  }
  if (spec.match !== undefined) {
    try { rule.match = new RegExp(spec.match) } catch (err) { throw new ConfigError(file, key('match'), `expected a valid regular expression, got ${JSON.stringify(spec.match)} (${(err as Error).message})`) }
  }
  if (spec.type === 'threshold') need(spec.threshold, 'threshold', 'a threshold number')
  if (spec.type === 'forecast') {
    need(spec.limit, 'limit', 'a limit number')
    need(spec.horizon, 'horizon', 'a horizon duration such as "7d"')
  }
  if (spec.type === 'absent') need(spec.for, 'for', 'a duration such as "10m"')
  if (spec.clear !== undefined && spec.threshold !== undefined) {
    const wrongSide = (rule.op === '>' || rule.op === '>=') ? spec.clear > spec.threshold : (rule.op === '<' || rule.op === '<=') ? spec.clear < spec.threshold : false
    if (wrongSide) throw new ConfigError(file, key('clear'), `expected a value on the recovering side of threshold ${spec.threshold} for op ${rule.op}, got ${spec.clear}`)
  }
  return rule
}

/** loadRules reads every *.yaml in dir, in name order; names must be unique across files. */
export function loadRules (dir: string, knownSchedules: ReadonlySet<string>): Rule[] {
  let names: string[]
  try {
    names = readdirSync(dir).filter(n => n.endsWith('.yaml') || n.endsWith('.yml')).sort()
  } catch (err) {
    throw new ConfigError(dir, '', `cannot read the rules directory (${(err as NodeJS.ErrnoException).code ?? String(err)})`)
  }
  const rules: Rule[] = []
  const seen = new Map<string, string>()
  for (const n of names) {
    const file = join(dir, n)
    const raw = readYamlFile(file)
    if (!Array.isArray(raw)) throw new ConfigError(file, '', 'expected a list of rules')
    raw.forEach((r, i) => {
      const rule = checkRule(file, i, r)
      const prev = seen.get(rule.name)
      if (prev !== undefined) throw new ConfigError(file, `[${i}].name`, `expected a unique rule name, got "${rule.name}" again (first in ${prev})`)
      if (rule.schedule !== 'always' && !knownSchedules.has(rule.schedule)) {
        throw new ConfigError(file, `[${i}](${rule.name}).schedule`, `expected always or one of the configured schedules (${[...knownSchedules].join(', ') || 'none configured'}), got "${rule.schedule}"`)
      }
      seen.set(rule.name, file)
      rules.push(rule)
    })
  }
  return rules
}

/** matches tells whether a point's tags satisfy a rule's selectors. */
export function matches (rule: Rule, tags: Record<string, string> | undefined): boolean {
  for (const [k, f] of rule.where) if (!f(tags?.[k])) return false
  return true
}

/** render fills {{name}} placeholders from vars; unknown names are left visible. */
export function render (template: string, vars: Record<string, string | number | undefined>): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (m, k: string) => {
    const v = vars[k]
    return v === undefined ? m : String(v)
  })
}
