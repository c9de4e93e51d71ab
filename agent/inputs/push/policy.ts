// What a kiosk or business application may push (送信可能なデータ): numbers and
// statuses (numeric and boolean fields). String fields only when push.allowStrings
// names them, tag keys beyond the identity tags only when push.allowTags names them,
// events (free text) only with push.allowEvents; measurement names and field keys
// are names, never free text (NAME, and push.allowMeasurements / push.allowFields when
// set); push.redact applies to what is allowed and refuses a name it would mask.
// Everything else refuses the whole request, with the reason.

import type { LogEvent, Point } from '../../../protocol/messages.js'
import type { Redactor } from '../logs/redact.js'

export interface PushPolicy {
  /** field names that may carry strings (default: none) */
  allowStrings: readonly string[]
  /** tag keys a client may set besides the identity tags; the agent config always gives a list (default []), unset leaves tags unchecked */
  allowTags?: readonly string[]
  /** measurement names a client may send; unset: any name that follows NAME */
  allowMeasurements?: readonly string[]
  /** field keys a client may send; unset: any key that follows NAME */
  allowFields?: readonly string[]
  /** whether events (free-text messages) are accepted (default: no) */
  allowEvents: boolean
  redact?: Redactor
}

export const DEFAULT_POLICY: PushPolicy = { allowStrings: [], allowEvents: false }

/** IDENTITY_TAGS are always accepted: the collector overwrites them with the agent's identity anyway. */
export const IDENTITY_TAGS: readonly string[] = ['host', 'role', 'site']

const tagAllowed = (p: PushPolicy, k: string): boolean => p.allowTags === undefined || IDENTITY_TAGS.includes(k) || p.allowTags.includes(k)

/** NAME is what a pushed measurement name or field key must look like: an identifier, not free text (a visitor's name). */
export const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/

/** nameRefusal says why a measurement name or field key is refused, or undefined when it may pass. */
function nameRefusal (p: PushPolicy, what: 'measurement name' | 'field key', name: string, list: 'allowMeasurements' | 'allowFields'): string | undefined {
  const allowed = p[list]
  if (allowed !== undefined) return allowed.includes(name) ? undefined : `a ${what} not allowed from a push client (list it in push.${list})`
  if (!NAME.test(name)) return `a ${what} must be a name (ASCII letters, digits and _ . : -, up to 128), not free text`
  if (p.redact !== undefined && p.redact.apply(name).count > 0) return `a ${what} holds what push.redact masks (personal data in a name)`
  return undefined
}

/** refusals names each point field and event the policy does not allow, e.g. `points.0.f.name`. */
export function refusals (p: PushPolicy, points: readonly Point[], events: readonly LogEvent[], label: (i: number) => string = i => `points.${i}`): string[] {
  const out: string[] = []
  points.forEach((pt, i) => {
    const m = nameRefusal(p, 'measurement name', pt.m, 'allowMeasurements')
    if (m !== undefined) out.push(`${label(i)}.m: ${m}`)
    for (const k of Object.keys(pt.f)) {
      const f = nameRefusal(p, 'field key', k, 'allowFields')
      if (f !== undefined) out.push(`${label(i)}.f.${k}: ${f}`)
    }
    for (const k of Object.keys(pt.tags ?? {})) {
      if (!tagAllowed(p, k)) out.push(`${label(i)}.tags.${k}: a tag not allowed from a push client (tags can carry free text: list "${k}" in push.allowTags)`)
    }
    for (const [k, v] of Object.entries(pt.f)) {
      if (typeof v === 'string' && !p.allowStrings.includes(k)) {
        out.push(`${label(i)}.f.${k}: a string field is not allowed from a push client (send numbers or booleans, or list "${k}" in push.allowStrings)`)
      }
    }
  })
  events.forEach((e, i) => {
    for (const k of Object.keys(e.tags ?? {})) {
      if (!tagAllowed(p, k)) out.push(`events.${i}.tags.${k}: a tag not allowed from a push client (list "${k}" in push.allowTags)`)
    }
  })
  if (events.length > 0 && !p.allowEvents) out.push(`events: ${events.length} event(s) not allowed from a push client: free text is off (set push.allowEvents: true)`)
  return out
}

/** NAME_REFUSAL tells a measurement-name or field-key refusal from the others (for the Japanese reason). */
export const NAME_REFUSAL = /: a (measurement name|field key) /

/** redactPushed applies push.redact to tag values, allowed string fields, event sources and messages; returns the count. */
export function redactPushed (p: PushPolicy, points: Point[], events: LogEvent[]): number {
  const r = p.redact
  if (r === undefined) return 0
  let n = 0
  const strings = (o: Record<string, unknown> | undefined): void => {
    for (const [k, v] of Object.entries(o ?? {})) {
      if (typeof v !== 'string') continue
      const out = r.apply(v)
      if (out.count > 0) { o![k] = out.text; n += out.count }
    }
  }
  for (const pt of points) { strings(pt.tags); strings(pt.f) }
  for (const e of events) {
    strings(e.tags)
    for (const k of ['source', 'message'] as const) {
      const out = r.apply(e[k])
      if (out.count > 0) { e[k] = out.text; n += out.count }
    }
  }
  return n
}
