// File names for log tailing: path globs (no recursion) and the rotated
// siblings of a log file. Reads directories only, never file contents.

import { promises as fsp, type BigIntStats } from 'node:fs'
import { basename, dirname, join, posix, win32 } from 'node:path'
import { statBig } from './follower.js'

const COMPRESSED = /\.(gz|bz2|xz|zst|zip|lz4|Z)$/

/**
 * siblings lists the files next to path whose names extend its name: where
 * rotation puts the old file (app.log.1, app.log-20261123, app.log.2026-11-23).
 * Compressed ones are left out: they are finished copies, not readable text.
 */
export async function siblings (path: string): Promise<string[]> {
  const dir = dirname(path)
  const base = basename(path)
  const stem = base.replace(/\.[^.]*$/, '')
  let names: string[]
  try {
    names = await fsp.readdir(dir)
  } catch {
    return []
  }
  return names
    .filter(n => n !== base && !COMPRESSED.test(n) &&
      (n.startsWith(base) || (stem.length > 0 && (n.startsWith(stem + '.') || n.startsWith(stem + '-') || n.startsWith(stem + '_')))))
    .sort()
    .map(n => join(dir, n))
}

/** globToRegExp turns one path segment's glob (*, ?, [abc]) into a RegExp. */
export function globToRegExp (glob: string, caseInsensitive = false): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') re += '[^/\\\\]*'
    else if (c === '?') re += '[^/\\\\]'
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1)
      if (close < 0) { re += '\\['; continue }
      let body = glob.slice(i + 1, close)
      if (body.startsWith('!')) body = '^' + body.slice(1)
      re += `[${body.replace(/\\/g, '\\\\')}]`
      i = close
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`, caseInsensitive ? 'i' : '')
}

const isMagic = (s: string): boolean => /[*?[]/.test(s)

/**
 * globParts splits a path pattern into its root and segments: "/" on POSIX;
 * a drive (C:\) or a UNC share (\\server\share\) on Windows, where both
 * separators are accepted. Joining a bare drive ("C:") with a segment would
 * name a path relative to that drive's current directory.
 */
export function globParts (pattern: string, platform: NodeJS.Platform = process.platform): { root: string, parts: string[] } {
  const P = platform === 'win32' ? win32 : posix
  const root = P.parse(pattern).root
  const rest = pattern.slice(root.length)
  return { root, parts: rest.split(platform === 'win32' ? /[\\/]/ : '/').filter(x => x !== '') }
}

/**
 * globFiles lists the regular files a path pattern names, with their stats:
 * wildcards (*, ?, [..]) in any segment, no recursion (**). A pattern
 * without wildcards names at most itself (a log file may appear later).
 */
export async function globFiles (pattern: string, platform: NodeJS.Platform = process.platform): Promise<Array<{ path: string, st: BigIntStats }>> {
  const win = platform === 'win32'
  const P = win ? win32 : posix
  const { root, parts } = globParts(pattern, platform)
  let bases = [pattern]
  if (parts.some(isMagic)) {
    bases = [root === '' ? '.' : root]
    for (const part of parts) {
      const next: string[] = []
      for (const b of bases) {
        if (!isMagic(part)) { next.push(P.join(b, part)); continue }
        const re = globToRegExp(part, win)
        let entries
        try {
          entries = await fsp.readdir(b, { withFileTypes: true })
        } catch {
          continue
        }
        for (const e of entries) if (re.test(e.name)) next.push(P.join(b, e.name))
      }
      bases = next
    }
  }
  const files: Array<{ path: string, st: BigIntStats }> = []
  for (const path of bases.sort()) {
    const st = await statBig(path).catch(() => undefined)
    if (st?.isFile() === true) files.push({ path, st })
  }
  return files
}
