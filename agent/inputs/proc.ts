// Reading /proc files for the Linux inputs: one helper so every input takes a
// procRoot that tests point at recorded snapshots.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * readProc reads a /proc file synchronously: small files generated from kernel
 * memory, cheaper read at once than through the thread pool.
 */
export async function readProc (procRoot: string, rel: string): Promise<string> {
  return readFileSync(join(procRoot, rel), 'utf8')
}

/** useProc tells whether an input should read /proc (Linux) or go through systeminformation. */
export function useProc (platform: NodeJS.Platform): boolean {
  return platform === 'linux'
}

/** globMatch matches names against simple globs (* and ?), for ignore lists. */
export function globMatch (name: string, patterns: readonly string[]): boolean {
  return patterns.some(p => new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$').test(name))
}
