// Runs the built kanshi-report (dist/) as a child process and collects its exit code and output.

import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..', '..')
const MAIN = join(root, 'dist', 'collector', 'report', 'main.js')

export function runReport (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number, stdout: string, stderr: string }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (scripts/test.sh does)`)
  return new Promise(resolve => {
    execFile(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, timeout: 240_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}
