// Nagios plugin output (Monitoring Plugins guidelines, "Plugin Output"): the
// first line's text is the message; performance data follows a `|` on the first
// line and on the long-text lines after the first `|` found on a later line.
// Each `'label'=value[UOM];warn;crit;min;max` becomes numeric fields.

export interface PerfDatum {
  label: string
  /** the value as printed, before unit scaling; NaN for "U" (undetermined) */
  value: number
  uom: string
  warn?: Range
  crit?: Range
  min?: number
  max?: number
}

/** A threshold range "[@][start:]end", start "~" meaning minus infinity. */
export interface Range { low?: number, high?: number, inside: boolean }

export interface PluginOutput {
  message: string
  /** the lines after the first, without their perfdata */
  longText: string[]
  perf: PerfDatum[]
  /** perfdata items that could not be read, as printed */
  bad: string[]
}

const NUM = '[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?'
const VALUE_RE = new RegExp(`^(${NUM}|U)([a-zA-Z%]*)$`)
const NUM_RE = new RegExp(`^${NUM}$`)

/** splitItems splits perfdata on whitespace, keeping quoted labels ('a b'=1, '' = a quote) whole. */
export function splitItems (s: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!
    if (ch === "'") {
      if (quoted && s[i + 1] === "'") { cur += "''"; i++; continue }
      quoted = !quoted
      cur += ch
    } else if (!quoted && /\s/.test(ch)) {
      if (cur !== '') out.push(cur)
      cur = ''
    } else cur += ch
  }
  if (cur !== '') out.push(cur)
  return out
}

/** parseRange reads a threshold range: "10", "10:", "~:10", "10:20", "@10:20"; undefined when malformed. */
export function parseRange (s: string): Range | undefined {
  let t = s.trim()
  if (t === '') return undefined
  const inside = t.startsWith('@')
  if (inside) t = t.slice(1)
  const colon = t.indexOf(':')
  if (colon < 0) return NUM_RE.test(t) ? { low: 0, high: Number(t), inside } : undefined
  const a = t.slice(0, colon)
  const b = t.slice(colon + 1)
  if ((a !== '' && a !== '~' && !NUM_RE.test(a)) || (b !== '' && !NUM_RE.test(b))) return undefined
  const r: Range = { inside }
  if (a !== '' && a !== '~') r.low = Number(a)
  if (b !== '') r.high = Number(b)
  return r
}

/** parseItem reads one `label=value[UOM];warn;crit;min;max`; undefined when it is not one. */
export function parseItem (item: string): PerfDatum | undefined {
  const eq = item.lastIndexOf('=')
  if (eq <= 0) return undefined
  let label = item.slice(0, eq)
  if (label.startsWith("'")) {
    if (!label.endsWith("'") || label.length < 3) return undefined
    label = label.slice(1, -1).replace(/''/g, "'")
  }
  if (label.trim() === '') return undefined
  const [v = '', w = '', c = '', mn = '', mx = ''] = item.slice(eq + 1).split(';')
  const m = VALUE_RE.exec(v)
  if (m === null) return undefined
  const d: PerfDatum = { label: label.trim(), value: m[1] === 'U' ? NaN : Number(m[1]), uom: m[2]! }
  const warn = parseRange(w)
  const crit = parseRange(c)
  if (warn !== undefined) d.warn = warn
  if (crit !== undefined) d.crit = crit
  if (NUM_RE.test(mn)) d.min = Number(mn)
  if (NUM_RE.test(mx)) d.max = Number(mx)
  return d
}

/** parsePluginOutput reads a plugin's stdout into message, long text and perfdata. */
export function parsePluginOutput (stdout: string): PluginOutput {
  const lines = stdout.replace(/\r\n/g, '\n').split('\n')
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop()
  const [first = '', ...rest] = lines
  const bar = first.indexOf('|')
  const message = (bar < 0 ? first : first.slice(0, bar)).trim()
  const perfText: string[] = bar < 0 ? [] : [first.slice(bar + 1)]
  const longText: string[] = []
  let inPerf = false
  for (const l of rest) {
    if (inPerf) { perfText.push(l); continue }
    const b = l.indexOf('|')
    if (b < 0) { longText.push(l); continue }
    longText.push(l.slice(0, b))
    perfText.push(l.slice(b + 1))
    inPerf = true
  }
  const perf: PerfDatum[] = []
  const bad: string[] = []
  for (const item of perfText.flatMap(splitItems)) {
    const d = parseItem(item)
    if (d === undefined) bad.push(item)
    else perf.push(d)
  }
  return { message, longText: longText.map(l => l.trimEnd()).filter(l => l !== ''), perf, bad }
}

/** Units scaled to a base: bytes (1024-based, as check_disk prints them) and seconds. */
const SCALE: Record<string, [number, string]> = {
  s: [1, '_s'], ms: [1e-3, '_s'], us: [1e-6, '_s'],
  B: [1, '_bytes'], KB: [1024, '_bytes'], MB: [1024 ** 2, '_bytes'], GB: [1024 ** 3, '_bytes'], TB: [1024 ** 4, '_bytes'],
  KiB: [1024, '_bytes'], MiB: [1024 ** 2, '_bytes'], GiB: [1024 ** 3, '_bytes'], TiB: [1024 ** 4, '_bytes'],
  '%': [1, '_percent'], c: [1, '']
}

/** Field names a plugin's label may not take: the check's own fields. */
const RESERVED = new Set(['up', 'status', 'message', 'response_ms', 'output_truncated', 'perfdata_dropped'])

/** fieldName is the field a label becomes: the label, then the unit suffix (time + s → time_s). */
export function fieldName (label: string, uom: string): string {
  const suffix = SCALE[uom]?.[1] ?? ''
  const base = label.replace(/\s+/g, '_').slice(0, 100)
  const name = base.endsWith(suffix) ? base : base + suffix
  return RESERVED.has(name) ? `perf_${name}` : name
}

/**
 * perfFields turns perfdata into fields: `<field>` = value scaled to bytes or
 * seconds, `<field>_warn`/`_crit` = the threshold's upper bound (`_warn_low`/
 * `_crit_low` its lower bound when not 0), `<field>_min`/`_max` when given.
 * Undetermined values ("U") and items past `limit` fields are counted in dropped.
 */
export function perfFields (perf: readonly PerfDatum[], limit = 200): { fields: Record<string, number>, dropped: number } {
  const fields: Record<string, number> = {}
  let dropped = 0
  let n = 0
  for (const d of perf) {
    const scale = SCALE[d.uom]?.[0] ?? 1
    const name = fieldName(d.label, d.uom)
    const add: Array<[string, number]> = []
    if (Number.isFinite(d.value)) add.push([name, d.value * scale])
    for (const [k, r] of [['warn', d.warn], ['crit', d.crit]] as const) {
      if (r === undefined) continue
      if (r.high !== undefined) add.push([`${name}_${k}`, r.high * scale])
      if (r.low !== undefined && r.low !== 0) add.push([`${name}_${k}_low`, r.low * scale])
    }
    if (d.min !== undefined) add.push([`${name}_min`, d.min * scale])
    if (d.max !== undefined) add.push([`${name}_max`, d.max * scale])
    if (!Number.isFinite(d.value) || n + add.length > limit || name in fields) { dropped++; continue }
    for (const [k, v] of add) fields[k] = v
    n += add.length
  }
  return { fields, dropped }
}
