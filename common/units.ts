// Durations and byte sizes in configs and rules: "250ms", "10s", "5m", "2h", "7d"; "256MiB", "1GiB".

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }
const RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/

/** parseDuration returns milliseconds, or undefined when the text is not a duration. */
export function parseDuration (v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined
  if (typeof v !== 'string') return undefined
  let total = 0
  const rest = v.trim()
  if (rest === '') return undefined
  // compound forms such as "1h30m"
  const parts = rest.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d|w)/g)
  if (parts === null || parts.join('') !== rest) return undefined
  for (const p of parts) {
    const m = RE.exec(p)
    if (m === null) return undefined
    total += Number(m[1]) * UNITS[m[2]!]!
  }
  return Math.round(total)
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }

/** parseBytes reads 1048576, "256MiB", "1GiB", "500MB"; undefined when it is not a size. */
export function parseBytes (v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined
  if (typeof v !== 'string') return undefined
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v)
  if (m === null) return undefined
  const unit = BYTE_UNITS[m[2]!.toLowerCase()]
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit)
}
