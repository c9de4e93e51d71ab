// Reading /proc files for the Linux inputs: one helper so every input takes a
// procRoot that tests point at recorded snapshots.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * readProc reads a /proc file synchronously: these are small files generated
 * from kernel memory, and a synchronous read costs a fraction of the thread-pool
 * round trips of fs.promises.readFile (measured in scripts/bench/inputs.bench.ts).
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
