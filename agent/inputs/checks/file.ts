// file check (job freshness): "the backup was written in the last 26 h and is
// larger than N bytes". The newest file matching a glob counts.

import { readdirSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { Check } from './types.js'

function globToRe (g: string): RegExp {
  return new RegExp('^' + g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$')
}

export function fileCheck (o: { path: string, maxAgeMs: number, minBytes?: number, now?: () => number }): Check {
  return async () => {
    const dir = dirname(o.path)
    const re = globToRe(basename(o.path))
    let newest: { file: string, mtime: number, size: number } | undefined
    let names: string[]
    try { names = readdirSync(dir) } catch (err) { return { up: false, message: `cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` } }
    for (const n of names) {
      if (!re.test(n)) continue
      try {
        const s = statSync(join(dir, n))
        if (s.isFile() && (newest === undefined || s.mtimeMs > newest.mtime)) newest = { file: n, mtime: s.mtimeMs, size: s.size }
      } catch { /* removed meanwhile */ }
    }
    if (newest === undefined) return { up: false, message: `no file matches ${o.path}` }
    const age = Math.round(((o.now ?? Date.now)() - newest.mtime) / 1000)
    const fields = { age_s: age, size_bytes: newest.size }
    if (age * 1000 > o.maxAgeMs) return { up: false, message: `${newest.file} is ${Math.round(age / 3600)} h old`, fields }
    if (o.minBytes !== undefined && newest.size < o.minBytes) return { up: false, message: `${newest.file} has ${newest.size} bytes, expected at least ${o.minBytes}`, fields }
    return { up: true, message: `${newest.file}: ${newest.size} bytes, ${Math.round(age / 60)} min old`, fields }
  }
}
