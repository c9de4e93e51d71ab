// Redaction of personal data (個人情報のマスキング) before anything is spooled:
// operator patterns and named presets (マイナンバー with its check digit,
// Japanese phone numbers, e-mail addresses), applied to decoded text.

import { Type, type Static } from '@sinclair/typebox'
import { ConfigError } from '../../../common/config.js'

export const PRESETS = ['mynumber', 'phone-jp', 'email'] as const
export type Preset = typeof PRESETS[number]

export const RedactRuleSchema = Type.Object({
  pattern: Type.Optional(Type.String({ minLength: 1, description: 'a regular expression' })),
  preset: Type.Optional(Type.String({ minLength: 1, description: `one of ${PRESETS.join(', ')}` })),
  replace: Type.String({ default: '***', maxLength: 256, description: 'the text put in place of each match (literal, no $1)' })
}, { additionalProperties: false, description: `a map with pattern (a regular expression) or preset (${PRESETS.join(', ')}), and replace` })
export const RedactSchema = Type.Array(RedactRuleSchema, { description: 'a list of { pattern | preset, replace } rules' })
export type RedactRuleConfig = Static<typeof RedactRuleSchema>

/** A compiled rule: a global regex, an optional check on each match, and a substring every match contains. */
export interface RedactRule { re: RegExp, replace: string, accept?: (match: string) => boolean, hint?: string }

// Digits as written in Japanese text: ASCII and full-width (０-９).
const D = '[0-9\\uFF10-\\uFF19]'
// Group separators: hyphen, Unicode hyphens and minus, full-width hyphen, space, ideographic space.
const S = '[-\\u2010\\u2011\\u2012\\u2013\\u2212\\uFF0D \\u3000]'
const H = '[-\\u2010\\u2011\\u2012\\u2013\\u2212\\uFF0D]'

/** digitsOf keeps the digits of a match, full-width ones turned to ASCII. */
export function digitsOf (s: string): string {
  let out = ''
  for (const ch of s) {
    const c = ch.charCodeAt(0)
    if (c >= 0x30 && c <= 0x39) out += ch
    else if (c >= 0xFF10 && c <= 0xFF19) out += String.fromCharCode(c - 0xFF10 + 0x30)
  }
  return out
}

/**
 * myNumberValid checks a 12-digit 個人番号's check digit (総務省令第八十五号 第五条):
 * 11 − (Σ Pn×Qn mod 11), Pn the n-th digit from the right of the first eleven,
 * Qn = n+1 for n ≤ 6 and n−5 for n ≥ 7; 0 when the remainder is 0 or 1.
 */
export function myNumberValid (digits: string): boolean {
  if (!/^\d{12}$/.test(digits)) return false
  let sum = 0
  for (let n = 1; n <= 11; n++) sum += Number(digits[11 - n]) * (n <= 6 ? n + 1 : n - 5)
  const r = sum % 11
  return Number(digits[11]) === (r <= 1 ? 0 : 11 - r)
}

/** phoneDigitsOk: 10 digits (landline, 0120, 0570), or 11 for 050/070/080/090 and 0800. */
function phoneDigitsOk (digits: string): boolean {
  return digits.length === 10 || (digits.length === 11 && /^0(?:[5789]0|800)/.test(digits))
}

const PRESET_RULES: Record<Preset, Omit<RedactRule, 'replace'>> = {
  // Plain 12 digits, or 4-4-4 with one separator used twice; never part of a longer run of digits or groups.
  mynumber: {
    // Starting with the digit class (lookbehinds after it) lets V8 skip ahead to digits: 2.5× faster.
    re: new RegExp(`${D}(?:(?<!${D}${D})${D}{11}(?!${D})|(?<!${D}${S}?${D})${D}{3}(${S})${D}{4}\\1${D}{4}(?!${S}?${D}))`, 'g'),
    accept: m => myNumberValid(digitsOf(m))
  },
  // 03-1234-5678, 0123-45-6789, 0120-123-456, (03)1234-5678, 03(1234)5678, 090-1234-5678, 09012345678 (mobile/IP only),
  // +81-3-1234-5678, +81 90 1234 5678, +819012345678; the digit count is checked.
  'phone-jp': {
    re: new RegExp([
      `(?<![0-9+])(?:0\\d{1,4}(?:${H}\\d{1,4}${H}|\\(\\d{1,4}\\))\\d{4}|\\(0\\d{1,4}\\) ?\\d{1,4}${H}\\d{4}|0(?:120|570|800)${H}\\d{3}${H}\\d{3,4}|0[5789]0\\d{8})(?![0-9])`,
      `\\+81(?:[- ]?\\(0\\))?(?:[- ]?\\d{1,4}[- ]\\d{1,4}[- ]\\d{4}|\\d{9,10})(?![0-9])`
    ].join('|'), 'g'),
    accept: m => {
      const d = digitsOf(m)
      return m.startsWith('+') ? phoneDigitsOk('0' + d.slice(2).replace(/^0/, '')) : phoneDigitsOk(d)
    }
  },
  // A dot-atom local part, a domain with at least one dot and a letter TLD.
  email: {
    re: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,128}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![A-Za-z0-9-])/g,
    hint: '@'
  }
}

/**
 * Redactor applies its rules in order to a text and counts the replacements.
 * The rules are private (#): deepFreeze on the config must not reach the global
 * regexes, whose lastIndex String.replace writes.
 */
export class Redactor {
  readonly #rules: readonly RedactRule[]
  constructor (rules: readonly RedactRule[]) { this.#rules = rules }

  get size (): number { return this.#rules.length }

  /** apply returns the text with every match replaced, and how many were. */
  apply (text: string): { text: string, count: number } {
    let count = 0
    for (const r of this.#rules) {
      if (r.hint !== undefined && !text.includes(r.hint)) continue
      r.re.lastIndex = 0
      if (!r.re.test(text)) continue
      r.re.lastIndex = 0
      text = text.replace(r.re, (m: string) => {
        if (r.accept !== undefined && !r.accept(m)) return m
        count++
        return r.replace
      })
    }
    return { text, count }
  }
}

/** presetRule compiles a named preset (for tests and benches). */
export function presetRule (preset: Preset, replace = '***'): RedactRule {
  const p = PRESET_RULES[preset]
  return { ...p, re: new RegExp(p.re.source, p.re.flags), replace }
}

/**
 * buildRedactor compiles redact: rules, naming the file and key (at(j) is the
 * j-th rule's key, e.g. logs.0(/var/log/a.log).redact.1) on a mistake;
 * undefined when there are none, so an unconfigured source pays nothing.
 */
export function buildRedactor (file: string, at: (j: number) => string, rules: readonly RedactRuleConfig[] | undefined): Redactor | undefined {
  if (rules === undefined || rules.length === 0) return undefined
  return new Redactor(rules.map((c, j) => {
    if ((c.pattern === undefined) === (c.preset === undefined)) {
      throw new ConfigError(file, at(j), `expected either pattern (a regular expression) or preset (${PRESETS.join(', ')}), got ${c.pattern === undefined ? 'neither' : 'both'}`)
    }
    if (c.preset !== undefined) {
      if (!(PRESETS as readonly string[]).includes(c.preset)) throw new ConfigError(file, `${at(j)}.preset`, `expected one of ${PRESETS.join(', ')}, got "${c.preset}"`)
      return presetRule(c.preset as Preset, c.replace)
    }
    let re: RegExp
    try { re = new RegExp(c.pattern!, 'g') } catch (err) {
      throw new ConfigError(file, `${at(j)}.pattern`, `expected a valid regular expression, got ${JSON.stringify(c.pattern)} (${(err as Error).message})`)
    }
    if (re.test('')) throw new ConfigError(file, `${at(j)}.pattern`, `expected a regular expression that cannot match empty text, got ${JSON.stringify(c.pattern)}`)
    return { re, replace: c.replace }
  }))
}
